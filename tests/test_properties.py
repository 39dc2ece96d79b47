"""Property-based tests of reading and cleaning (issue 6): any text, any supported encoding."""
from __future__ import annotations

import json

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from countythemes.cleaning import paragraph_id
from countythemes.pipeline import iter_paragraphs
from countythemes.reading import ReadProblem, decode, parse_text

#: Characters news pages are made of: Chinese, full-width and ASCII punctuation, digits, letters, markup.
NEWS_CHARACTERS = st.sampled_from(list(
    "县乡村镇市省的了在是和发展产业就业脱贫攻坚驻村工作队干部整治生态资金贷款合作社平顺中阳兴大同"
    "，。、；：？！“”（）《》—…·　 0123456789abcXYZ<>/#*-_=\"'&;\n\r\t"))
TEXTS = st.text(NEWS_CHARACTERS, max_size=400) | st.text(max_size=200)
ENCODINGS = ["utf-8", "utf-8-sig", "utf-16", "utf-16-le", "utf-16-be", "gb18030"]
RELAXED = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@RELAXED
@given(TEXTS, st.sampled_from(ENCODINGS), st.sampled_from([".txt", ".md", ".html"]))
def test_any_text_in_any_supported_encoding_reads_without_an_exception(tmp_path_factory, text, encoding, suffix):
    try:
        data = text.encode(encoding)
    except UnicodeEncodeError:
        data = text.encode("utf-8")  # GB18030 covers all of Unicode; this is for lone surrogates
    path = tmp_path_factory.mktemp("any") / f"article{suffix}"
    path.write_bytes(data)
    problems: list[ReadProblem] = []
    paragraphs = list(iter_paragraphs([str(path)], problems.append))
    assert all(isinstance(p, ReadProblem) for p in problems)
    assert len(problems) <= 1  # a file is either read or refused with one reason
    for p in paragraphs:
        assert p.text.strip() and p.id == paragraph_id(p.text)


@RELAXED
@given(TEXTS, st.sampled_from(ENCODINGS))
def test_decoding_gives_the_text_back_or_refuses_it(text, encoding):
    try:
        data = text.encode(encoding)
    except UnicodeEncodeError:
        return
    try:
        decoded = decode(data, "article.txt")
    except ReadProblem:
        return  # refused with a reason, never an exception of another kind
    parse_text(decoded, "article.txt")  # and whatever was decoded can be parsed


ARTICLE = st.builds(
    lambda title, paragraphs: (title, paragraphs),
    st.text(NEWS_CHARACTERS.filter(lambda c: c not in "\n\r<>#*"), min_size=4, max_size=20),
    st.lists(st.text(NEWS_CHARACTERS.filter(lambda c: c not in "\n\r<>#*"), min_size=20, max_size=120),
             min_size=1, max_size=4))


@RELAXED
@given(st.lists(ARTICLE, min_size=2, max_size=5), st.randoms(use_true_random=False))
def test_ids_do_not_change_when_articles_are_reordered(tmp_path_factory, articles, random):
    folder = tmp_path_factory.mktemp("reorder")

    def ids(order: list[int], name: str) -> dict[str, str]:
        path = folder / name
        with open(path, "w", encoding="utf-8") as handle:
            for i in order:
                title, paragraphs = articles[i]
                handle.write(json.dumps({"id": str(i), "title": title, "text": "\n\n".join(paragraphs)},
                                        ensure_ascii=False) + "\n")
        return {p.id: p.text for p in iter_paragraphs([str(path)], lambda problem: None)}

    order = list(range(len(articles)))
    shuffled = order[:]
    random.shuffle(shuffled)
    assert ids(order, "a.jsonl") == ids(shuffled, "b.jsonl")



#: Characters where NFKC does something: full-width forms, compatibility characters, combining marks,
#: every kind of white space.
NORMALIZING = st.sampled_from(list("，：（）！？％ＡＢ１２　\u00a0\u2002\u3000\t\n ℃Ⅱ㎡…ﬁ\u0301\u0308e\u00a8\uf900\u2f00"))


@settings(max_examples=400, deadline=None)
@given(st.text(NEWS_CHARACTERS | NORMALIZING, max_size=60))
def test_paragraph_ids_equal_the_plain_definition(text):
    """The fast path (full-width forms mapped first) gives the id of the NFKC text without white space."""
    import hashlib
    import re
    import unicodedata

    key = re.sub(r"\s+", "", unicodedata.normalize("NFKC", text))
    assert paragraph_id(text) == hashlib.sha1(key.encode("utf-8")).hexdigest()[:16]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.text(st.sampled_from(list("产业扶贫合作社区就业务工贷款金融村干部，。\0\U0001f600\ud800")), max_size=40),
                max_size=12))
@example(["村村村村村", "金融贷贷款产业扶贫", ""])
def test_typical_words_are_counted_as_str_count_counts_them(texts):
    """Counting a batch at once gives each paragraph what str.count gives word by word: words inside
    words, words listed twice, one-character words, and words that overlap themselves (村村村 holds 村村 once)."""
    from countythemes.classifier import TypicalWords

    words = (("产业", "产业扶贫", "合作社"), ("就业", "务工", "业务"), ("社区", "扶贫", "村村"),
             ("贷款", "金融", "贷款", "金"), ("村村", "贷贷款"))
    found = TypicalWords(words).counts(texts)
    assert found.tolist() == [[sum(text.count(w) for w in group) for group in words] for text in texts]
