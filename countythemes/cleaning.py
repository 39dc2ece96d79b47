"""Cleaning raw newspaper text into articles of body paragraphs.

Newspaper page dumps mix several articles, headlines that stand before or after
their story, bylines, photo captions and lines cut at the column width. The
rules here are written for that layout and tested on the seed pages; each
returns plain data for the next stage.
"""
from __future__ import annotations

import hashlib
import re
import statistics
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache

from .reading import MAX_PARAGRAPH, Block, RawDocument

CJK = r"\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
CJK_PUNCT = r"\u3000-\u303f\uff00-\uffef\u2018-\u201f\u2026\u2014\u00b7\u25a1"
_CJK_OR_PUNCT = f"[{CJK}{CJK_PUNCT}]"

#: A paragraph ends with one of these, possibly followed by closing quotes or brackets.
_TERMINAL = re.compile(r"[。！？!?…；][”’\"』」)）》]*$")
#: In column text a paragraph's last line ends a sentence (never at a semicolon).
_PARAGRAPH_END = re.compile(r"[。！？!?…][”’\"』」)）》]*$")
_OPEN_ENDED = re.compile(r"[，,、：:；;（(“‘《—]$")

_LEAD = re.compile(
    r"^(?:【?本报讯】?|本报[\u4e00-\u9fff]{0,6}电|(?:新华社|中新社|人民网)[^，,。]{0,12}电)"
    r"\s*(?:[（(](?:记者|通讯员|特约记者)[^）)]{0,30}[）)])?\s*"
)
_NAMES = rf"[{CJK}·]{{2,4}}(?:[\s、，,]+[{CJK}·]{{2,4}})*"
_BYLINE = re.compile(
    rf"^(?:□.*"
    rf"|(?:本报|特约)?(?:记者|通讯员|作者)[\s:：]*{_NAMES}"
    rf"|[（(]?(?:文|图|文图|文/图|记者|通讯员|作者|编辑|责任编辑|审核|校对)[/／:：].{{0,40}}"
    rf"|[（(]{_NAMES}[)）]"
    rf"|(?:责任编辑|编辑|审核|校对|监制)[\s:：].{{0,30}}"
    rf"|[（(【\[]?(?:文章|数据|资料|图片)?(?:来源|出处|转自)[\s:：].{{0,60}}"
    rf"|(?:制图|图表|设计|摄影)[\s:：].{{0,30}}"
    rf"|.{{0,40}}《[^》]{{2,12}}》\s*[（(][^）)]{{0,30}}第\s*\d+\s*版[）)]"  # a newspaper's source line
    rf")$"
)
#: The signature under an editor's note (——编者); the note's paragraphs stand above it.
_EDITOR_SIGNATURE = re.compile(r"^[—–－-]{1,2}\s*编\s*者\s*$")
#: An editor's note given in one paragraph (编者按：……).
_EDITOR_NOTE = re.compile(r"^[【\[]?编者按")
#: A scene marker standing alone on its line (【镜头一】); one that opens a paragraph stays in its text.
_SCENE_MARKER = re.compile(r"【(?!本报讯)[^】]{1,12}】\s*")
#: Navigation and link text; also a line starting with "|" (a Markdown table row). Kept apart
#: from the "|" rule, the words alone let the regex engine skip ahead to their first characters.
_NAVIGATION = re.compile(r"返回首页|返回.{0,12}新闻|上一篇|下一篇|分享到|扫一扫|点击查看|阅读原文|https?://|\]\(")
#: "… 摄" credits: a whole credit line, or a caption sentence ending with its credit.
#: A credit may name the agency in brackets after it (叶文彬摄（人民视觉）); 受访者供图 credits no name.
_AGENCY = r"(?:\s*[（(][^）)]{1,12}[）)])?"
#: Names in a credit, where print pads a two-character name to three (唐  巍摄).
_CREDIT_NAMES = rf"[{CJK}·](?:[{CJK}·、，, ]{{0,14}}[{CJK}·])?"
_CREDIT_LINE = re.compile(rf"^(?:图为)?(?:(?:本报)?(?:记者|通讯员))?\s*{_CREDIT_NAMES}\s*摄(?:影)?{_AGENCY}$"
                          rf"|^(?:受访者|资料|网友|单位)?供图{_AGENCY}$|^资料图片{_AGENCY}$")
_CAPTION_WITH_CREDIT = re.compile(rf"[。！？\s](?:(?:本报)?(?:记者|通讯员))?\s*{_NAMES}\s*摄(?:影)?{_AGENCY}$")
_TRAILING_BYLINE = re.compile(
    rf"\s*[（(](?:(?:文|图|记者|通讯员|作者)[/／:：][^）)]{{0,40}}|{_NAMES})[)）]\s*$"
)
_SUBTITLE = re.compile(r"^\s*(?:——|--|－－|—)\s*\S")
_TABS_AND_SPACES = re.compile(r"[ \t]+")
_SPACE_RUN = re.compile(r"[ \t\u3000\u00a0]+")
_SPACE_BY_CJK = re.compile(rf"(?<={_CJK_OR_PUNCT}) | (?={_CJK_OR_PUNCT})")
#: A space between two Chinese characters (one spread-out character), or a run of them (between phrases).
_SPACED = re.compile(rf"[{CJK}{CJK_PUNCT}] (?=[{CJK}{CJK_PUNCT}])")
_SPACED_PHRASE = re.compile(rf"[{CJK}{CJK_PUNCT}] +(?=[{CJK}{CJK_PUNCT}])")


# ------------------------------------------------------------------- text helpers


def _has_spaces(text: str) -> bool:
    """Whether the text holds a space cleaning rewrites; most corpus lines hold none."""
    return " " in text or "\t" in text or "\u3000" in text or "\u00a0" in text


def normalize_spaces(text: str) -> str:
    """Remove spaces spread inside Chinese text; keep them between Latin words and numbers."""
    if not _has_spaces(text):
        return text.strip()
    text = text.replace("\u3000", " ").replace("\u00a0", " ")
    text = _TABS_AND_SPACES.sub(" ", text).strip()
    return _SPACE_BY_CJK.sub("", text)


def normalize_heading(text: str) -> str:
    """Headlines keep a space between their phrases unless every character is spaced."""
    text = re.sub(r"[ \t\u3000\u00a0]+", " ", text).strip()
    chars = len(re.sub(r"\s", "", text))
    if chars and text.count(" ") / chars > 0.3:
        return normalize_spaces(text)
    return text


@lru_cache(maxsize=4096)  # cleaning and the paragraph record ask for the same text's id in turn
def paragraph_id(text: str) -> str:
    """A stable id from the paragraph's normalized text alone (not its file or position).

    The key is the NFKC form without white space. Most paragraphs differ from
    that only by the common full-width punctuation, so those characters are
    mapped first (NFKC maps each on its own) and the costly normalization runs
    only where the result is still not normal (tested against the plain definition).
    """
    key = "".join(text.split())
    for form, plain in _COMMON_FULL_WIDTH:
        key = key.replace(form, plain)
    if not unicodedata.is_normalized("NFKC", key):
        key = re.sub(r"\s+", "", unicodedata.normalize("NFKC", text))
    return hashlib.sha1(key.encode("utf-8")).hexdigest()[:16]


#: The full-width forms of news text (，：；（）？％！－), each with the ASCII character NFKC makes of it.
_COMMON_FULL_WIDTH = tuple((form, chr(ord(form) - 0xFEE0)) for form in "，：；（）？％！－")


def visible_length(text: str) -> int:
    return len("".join(text.split()))


# ---------------------------------------------------------------------- articles


@dataclass
class Article:
    """One article's body paragraphs with what its headline and lead said."""

    source: str
    index: int
    title: str
    paragraphs: list[str]
    date: str | None = None
    record_id: str | None = None
    #: Headline, subtitle and lead text, read by place attribution (rule 3).
    headline: str = ""
    #: The author the file's front matter names.
    author: str | None = None


@dataclass
class _Line:
    text: str
    kind: str  # body, heading, subtitle, byline, caption, credit, skip
    lead: bool = False
    closes: bool = False  # a byline after the body that ends an article


@dataclass
class _Draft:
    title_parts: list[str] = field(default_factory=list)
    headline: str = ""
    paragraphs: list[str] = field(default_factory=list)
    titled: bool = False


def split_articles(document: RawDocument, problems: list[str] | None = None) -> list[Article]:
    """Split one raw document into articles of clean, de-duplicated body paragraphs.

    A paragraph over ``MAX_PARAGRAPH`` characters (a page without line breaks,
    or garbage) is left out, and ``problems`` is told why.
    """
    blocks = document.blocks
    if not document.single_article and _is_hard_wrapped(blocks):
        blocks = _unwrap(blocks)
    lines = _classify(blocks)
    if document.single_article:
        drafts = [_Draft(paragraphs=[ln.text for ln in lines if ln.kind == "body"])]
    elif document.whole:
        drafts = [_whole_article(_join_broken(_drop_repeats(lines)), document.title or "")]
    else:
        lines = _drop_repeats(lines)
        lines = _join_broken(lines)
        drafts = _assemble(lines)
    articles: list[Article] = []
    seen: set[str] = set()
    for draft in drafts:
        paragraphs = []
        for text in draft.paragraphs:
            if len(text) > MAX_PARAGRAPH:
                if problems is not None:
                    where = f"line {document.line}" if document.line else f"article {document.first_article + len(articles)}"
                    problems.append(f"{where}: a paragraph of {len(text):,} characters is over the limit of "
                                    f"{MAX_PARAGRAPH:,}; left out")
                continue
            key = paragraph_id(text)
            if key in seen:  # a paragraph repeated within the file appears once
                continue
            seen.add(key)
            paragraphs.append(text)
        if not paragraphs:
            continue
        title = " ".join(draft.title_parts).strip()
        titled = bool(title)
        if not title and document.title and not articles:
            title, titled = document.title, True
        if not title:
            title = _untitled(paragraphs[0])
        articles.append(Article(
            source=document.source, index=document.first_article + len(articles), title=title, paragraphs=paragraphs,
            date=document.date, record_id=document.record_id,
            headline=" ".join([title if titled else "", draft.headline]).strip(), author=document.author,
        ))
    return articles


def _whole_article(lines: list[_Line], title: str) -> _Draft:
    """A file that is one article (its front matter gives the title): every heading is part of it.

    The headings before its first paragraph (kicker, title, subtitle) are its
    headline, which place attribution reads; those after are section subheads.
    """
    first = next((i for i, line in enumerate(lines) if line.kind == "body"), len(lines))
    head = [line.text for line in lines[:first] if line.kind in ("heading", "subtitle")]
    return _Draft(title_parts=[title], headline=" ".join(head),
                  paragraphs=[line.text for line in lines if line.kind == "body"], titled=True)


def _untitled(first: str) -> str:
    clause = re.split(r"[，。！？；,;]", first, maxsplit=1)[0]
    return f"（无标题）{clause[:20]}…"


# ------------------------------------------------------------ hard-wrapped pages


def _table_row(text: str) -> bool:
    """A Markdown table row: short and without a sentence end, yet never part of a paragraph."""
    return text.lstrip().startswith("|")


def _is_hard_wrapped(blocks: list[Block]) -> bool:
    """Column text cut every ~15 characters: short lines that mostly end mid-sentence (table rows and
    headings marked up as such aside: a Markdown article's subheads are short and end no sentence)."""
    blocks = [b for b in blocks if not _table_row(b.text) and not b.heading]
    if len(blocks) < 12:
        return False
    lengths = [visible_length(b.text) for b in blocks]
    unfinished = sum(1 for b in blocks if not _TERMINAL.search(b.text.strip()))
    return statistics.median(lengths) <= 40 and unfinished / len(blocks) > 0.6


def _spread(text: str) -> bool:
    return len(_SPACED.findall(text)) >= 3


def _unwrap(blocks: list[Block]) -> list[Block]:
    """Join column lines back into paragraphs.

    A line ends its paragraph when it ends a sentence and is shorter than the
    column (the local median width); a line of spread-out characters was
    justified to the full width, so it never ends one. Lines far shorter or
    longer than the column and without a sentence end are headlines.
    """
    widths = [visible_length(b.text) for b in blocks]
    out: list[Block] = []
    current: list[str] = []
    own = 0  # the widest line of the paragraph so far

    def flush() -> None:
        nonlocal own
        if current:
            out.append(Block(" ".join(current)))
            current.clear()
        own = 0

    for i, block in enumerate(blocks):
        text = block.text.strip()
        before, after = widths[max(0, i - 8): i], widths[i + 1: i + 9]
        # Columns change width between stories: a line is short only against both sides.
        column = min((statistics.median(side) for side in (before, after) if side), default=widths[i])
        width = widths[i]
        # The paragraph's own lines so far give its column best.
        full = _spread(text) or width >= (own if current else column) - 1.5
        signed = bool(_TRAILING_BYLINE.search(_loose(text)))
        ends = bool(_PARAGRAPH_END.search(text)) or signed
        phrases = len(_SPACED.findall(text))
        standalone = (
            block.heading
            or _table_row(text)
            or _is_byline(text)
            or _SUBTITLE.match(text)
            or (not ends and width < 0.6 * column)
            or (not ends and width > 1.5 * column and 1 <= phrases <= 2)
        )
        if standalone:
            flush()
            out.append(Block(text, block.heading))
            continue
        current.append(text)
        own = max(own, width)
        if signed or (ends and not full):
            flush()
    flush()
    return out


# ----------------------------------------------------------------- classification


def _classify(blocks: list[Block]) -> list[_Line]:
    lines: list[_Line] = []
    for block in blocks:
        raw = block.text.strip()
        loose = _loose(raw)
        text = normalize_spaces(raw)
        if not text:
            continue
        if _SCENE_MARKER.fullmatch(raw):  # 【镜头一】 on its own line: a scene marker, not a paragraph
            lines.append(_Line(raw, "skip"))
            continue
        credited = loose.endswith(("摄", "摄影", "图", "）", ")"))  # where a photo credit ends
        # Subtitles and bylines have at most 60 characters, headings 45: most body lines skip those tests.
        length = visible_length(text)
        if _NAVIGATION.search(text) or text.startswith("|"):
            lines.append(_Line(text, "skip"))
        elif _EDITOR_SIGNATURE.match(text):
            lines.append(_Line(text, "editor"))
        elif _EDITOR_NOTE.match(text):
            lines.append(_Line(text, "skip"))
        elif credited and _CREDIT_LINE.match(loose):
            lines.append(_Line(text, "credit"))
        elif credited and _CAPTION_WITH_CREDIT.search(loose) and length <= 200:
            lines.append(_Line(text, "caption"))
        elif length <= 60 and _SUBTITLE.match(text) and not _TERMINAL.search(text):
            lines.append(_Line(normalize_heading(raw).lstrip("—－- "), "subtitle"))
        elif length <= 60 and _is_byline(raw):
            lines.append(_Line(text, "byline", closes=True))
        elif block.heading or (length <= 45 and _looks_like_heading(text, raw) and not _signed(loose)):
            lines.append(_Line(normalize_heading(raw), "heading"))
        else:
            lead = _LEAD.match(loose)
            body = loose[lead.end():] if lead else loose
            closes = _signed(body)
            body = normalize_spaces(_TRAILING_BYLINE.sub("", body) if closes else body)
            if body:
                lines.append(_Line(body, "body", lead=bool(lead), closes=closes))
    # A credit line makes the short text just before it a photo caption.
    for i, line in enumerate(lines):
        if line.kind == "credit" and i and lines[i - 1].kind == "body" \
                and visible_length(lines[i - 1].text) <= 200 and not lines[i - 1].lead:
            lines[i - 1].kind = "caption"
    # The body lines above an editor's signature, up to the headline or byline, are the editor's note.
    for i, line in enumerate(lines):
        if line.kind == "editor":
            for above in reversed(lines[:i]):
                if above.kind in ("heading", "subtitle", "byline", "editor"):
                    break
                if above.kind == "body":
                    above.kind = "skip"
            line.kind = "skip"
    return lines


def _loose(text: str) -> str:
    """Runs of spaces made one: names in bylines and credits are told apart by them."""
    if not _has_spaces(text):
        return text.strip()
    return _SPACE_RUN.sub(" ", text).strip()


def _is_byline(text: str) -> bool:
    loose = _loose(text)
    return visible_length(loose) <= 60 and bool(_BYLINE.match(loose))


def _signed(loose: str) -> bool:
    """A sentence followed by its byline, as in ``…参加会议。(张明提 弓芳芳)``."""
    if not loose.rstrip().endswith((")", "）")):  # where a trailing byline must end
        return False
    unsigned = _TRAILING_BYLINE.sub("", loose)
    return unsigned != loose and bool(_TERMINAL.search(unsigned))


def _looks_like_heading(text: str, raw: str) -> bool:
    """No sentence end, not cut off at a comma, and short or made of spaced phrases."""
    if _TERMINAL.search(text) or _OPEN_ENDED.search(text) or _LEAD.match(text):
        return False
    phrases = len(_SPACED_PHRASE.findall(raw))
    return visible_length(text) < 30 or (1 <= phrases <= 2 and visible_length(text) <= 45)


def _drop_repeats(lines: list[_Line]) -> list[_Line]:
    """Layout repeats a whole block (page fragments); drop repeats before joining."""
    seen: set[str] = set()
    kept = []
    for line in lines:
        if line.kind == "body" and visible_length(line.text) >= 20:
            key = paragraph_id(line.text)
            if key in seen:
                continue
            seen.add(key)
        kept.append(line)
    return kept


def _join_broken(lines: list[_Line]) -> list[_Line]:
    """Join a body block that stops mid-sentence with the body block after it."""
    out: list[_Line] = []
    for line in lines:
        previous = out[-1] if out else None
        if (previous is not None and previous.kind == "body" and line.kind == "body"
                and not line.lead and not previous.closes
                and not _TERMINAL.search(previous.text)
                and (visible_length(previous.text) >= 30 or _OPEN_ENDED.search(previous.text))):
            previous.text += line.text
            previous.closes = line.closes
            continue
        out.append(line)
    return out


# ------------------------------------------------------------------- assembling


def _assemble(lines: list[_Line]) -> list[_Draft]:
    """Group lines into articles at headlines, bylines and lead markers."""
    drafts: list[_Draft] = []
    head: list[_Line] = []  # headings, subtitles and bylines waiting for a body
    after_close = False     # the last article ended with its closing byline

    for line in lines:
        if line.kind in ("heading", "subtitle", "byline"):
            head.append(line)
            continue
        if line.kind == "credit":  # the headline before a photo story belongs to the photo
            head = []
            continue
        if line.kind == "caption":
            continue
        if line.kind == "skip":
            continue
        headings = [h for h in head if h.kind in ("heading", "subtitle")]
        marked = any(h.kind in ("subtitle", "byline") for h in head)
        new = (not drafts or line.lead or (headings and (marked or after_close)))
        if new and after_close and headings and not marked and not line.lead:
            _give_trailing_titles(drafts, [h.text for h in headings if h.kind == "heading"])
            headings = []
        if new:
            draft = _Draft()
            draft.title_parts = _title_from(headings)
            draft.titled = bool(draft.title_parts)
            draft.headline = " ".join(h.text for h in headings)
            drafts.append(draft)
        drafts[-1].paragraphs.append(line.text)
        if line.lead and not drafts[-1].headline:
            drafts[-1].headline = line.text[:80]
        after_close = line.closes
        head = []
    return drafts


def _title_from(headings: list[_Line]) -> list[str]:
    """The headline lines nearest the story, with its subtitle."""
    if not headings:
        return []
    subtitles = [i for i, h in enumerate(headings) if h.kind == "subtitle"]
    if subtitles:
        last = subtitles[-1]
        earlier = subtitles[-2] if len(subtitles) > 1 else -1
        main = [h.text for h in headings[earlier + 1: last] if h.kind == "heading"]
        title = " ".join(main)
        return [f"{title}——{headings[last].text}" if title else headings[last].text]
    return [" ".join(h.text for h in headings)]


def _give_trailing_titles(drafts: list[_Draft], headings: list[str]) -> None:
    """Page dumps can put the headlines of the stories above after them.

    Untitled stories just before take those headlines, one part each when the
    line holds as many space-separated titles as there are untitled stories.
    """
    untitled = []
    for draft in reversed(drafts):
        if draft.titled:
            break
        untitled.insert(0, draft)
    if not untitled or not headings:
        return
    parts = " ".join(headings).split(" ")
    if len(parts) == len(untitled):
        for draft, part in zip(untitled, parts):
            draft.title_parts, draft.titled = [part], True
    else:
        untitled[-1].title_parts, untitled[-1].titled = [" ".join(headings)], True
