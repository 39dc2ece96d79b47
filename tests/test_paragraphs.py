"""`analyze.py paragraphs`: real article files into clean paragraphs (issue 2)."""
from __future__ import annotations

import collections
import gzip
import json
import shutil
import zlib

from conftest import ROOT, json_lines, run

SEEDS = sorted((ROOT / "seeds").glob("*.txt"))


def by_file(paragraphs, prefix):
    return [p for p in paragraphs if p["source"].split("/")[-1].startswith(prefix)]


def texts(paragraphs):
    return [p["text"] for p in paragraphs]


def test_every_seed_shape_is_read_in_one_run(seed_paragraphs):
    articles = collections.Counter()
    for p in seed_paragraphs:
        articles[p["source"].split("/")[-1][:3]] += p["paragraph"] == 0
    # plain text pages, a Jekyll post, Markdown, page dumps of several articles
    assert articles == {"000": 4, "001": 1, "002": 4, "003": 7, "004": 3}
    fields = ["source", "article", "article_index", "article_id", "paragraph", "id", "text",
              "county", "city", "province", "place_source"]
    assert all(list(p)[: len(fields)] == fields for p in seed_paragraphs)


def test_articles_keep_their_own_titles(seed_paragraphs):
    titles = {(p["source"].split("/")[-1][:3], p["article"]) for p in seed_paragraphs}
    assert ("001", "山西运城：固好脱贫成果 启好振兴之路") in titles          # Jekyll front matter
    assert ("002", "兴县:积极实施培训就业 多方拓宽群众增收渠道") in titles  # bold Markdown headline
    assert ("003", "天镇县做好易地搬迁后续工作") in titles                  # headline before 本报讯
    assert ("003", "云州区全方位推动黄花产业高质量发展") in titles
    assert ("000", "多元化就业帮扶“授人以渔”有温度") in titles             # headline printed after its story
    jekyll = by_file(seed_paragraphs, "001")
    assert {p["date"] for p in jekyll} == {"2022-01-10"}


def test_hard_wrapped_lines_are_joined_into_paragraphs(seed_paragraphs):
    plain = texts(by_file(seed_paragraphs, "000"))
    assert any("进一步贯彻落实省、市驻村帮扶工作的安排部署，中阳县坚持问题导向" in t for t in plain)
    assert any(t.startswith("聚焦“精准选派”，优化工作队伍。") and t.endswith("坚定前进步伐。") for t in plain)


def test_paragraphs_cut_by_a_line_or_page_break_are_joined(seed_paragraphs):
    assert any("实行台账式管理" in t for t in texts(by_file(seed_paragraphs, "002")))
    page = texts(by_file(seed_paragraphs, "004"))
    assert any("着力打造驻村帮扶工作常态化机制" in t for t in page)
    assert any("在接受第三方评估实地验收后,该县始终坚持抓好脱贫攻坚驻村帮扶不放松" in t for t in page)


def test_spread_spaces_are_removed_and_latin_spaces_kept(seed_paragraphs, tmp_path):
    plain = texts(by_file(seed_paragraphs, "000"))
    assert any(t.startswith("聚焦“精心施教”，确保能力提升。中阳县以抓培训、促教育") for t in plain)
    assert not any("聚 焦" in t or "中 阳" in t for t in plain)
    page = tmp_path / "latin.txt"
    page.write_text("新 技 术 在 乡 村 落 地 ，推广 Green Valley 2024 计划和 5G 网络。\n", encoding="utf-8")
    [paragraph] = json_lines(run("analyze.py", "paragraphs", str(page)))
    assert paragraph["text"] == "新技术在乡村落地，推广Green Valley 2024计划和5G网络。"


def test_bylines_captions_sources_and_navigation_are_not_paragraphs(seed_paragraphs):
    everything = "\n".join(texts(seed_paragraphs))
    for junk in ("本报记者", "（文/", "文章来源", "返回首页", "司瑞芳", "(张明提", "本报讯",
                 "新荣区郭家窑乡二队窑村种植大户",   # photo caption before a credit line
                 "年关岁尾,祥风阵阵",                # photo story caption
                 "新建沿黄路", "古渡黄河"):           # photo-only headings
        assert junk not in everything, junk
    assert not any(t.endswith("摄") for t in texts(seed_paragraphs))
    assert any(t == "全县县直机关各单位负责人参加会议。" for t in texts(seed_paragraphs))


def test_a_paragraph_repeated_within_a_file_appears_once(seed_paragraphs):
    page = by_file(seed_paragraphs, "002")
    assert sum("教中心和友兰中学附属初中" in t for t in texts(page)) == 1
    assert sum("破解拆除复垦难题" in t for t in texts(page)) == 1
    ids = [p["id"] for p in page]
    assert len(ids) == len(set(ids))


def test_ids_depend_only_on_text_and_output_is_byte_stable(seed_paragraphs, tmp_path):
    folder = tmp_path / "另一个 文件夹"
    folder.mkdir()
    shutil.copy(SEEDS[3], folder / "renamed copy.txt")
    wanted = next(p for p in seed_paragraphs if p["source"].endswith(SEEDS[3].name) and p["paragraph"] == 2)
    (folder / "single.md").write_text("# 另一篇\n\n开头的一段话在这里。\n\n" + wanted["text"] + "\n", encoding="utf-8")
    first = run("analyze.py", "paragraphs", str(folder))
    second = run("analyze.py", "paragraphs", str(folder))
    assert first.returncode == 0 and first.stdout == second.stdout
    copied = json_lines(first)
    original = {p["id"] for p in seed_paragraphs if p["source"].endswith(SEEDS[3].name)}
    assert original <= {p["id"] for p in copied}
    assert [p["paragraph"] for p in copied if p["id"] == wanted["id"]] == [2, 1]


ARTICLE = ("兴县加快发展小杂粮产业\n\n本报讯 今年以来，兴县大力发展小杂粮种植，带动农民增收。\n\n"
           "全县新建加工厂3座，吸纳就业200人。\n")


def test_encodings_are_detected_not_assumed(tmp_path):
    variants = {"utf8.txt": ARTICLE.encode("utf-8"), "bom.txt": ARTICLE.encode("utf-8-sig"),
                "gb.txt": ARTICLE.encode("gb18030"), "gbk.txt": ARTICLE.encode("gbk"),
                "u16.txt": ARTICLE.encode("utf-16"), "u16be.txt": ARTICLE.encode("utf-16-be")}
    for name, data in variants.items():
        (tmp_path / name).write_bytes(data)
    result = run("analyze.py", "paragraphs", str(tmp_path))
    assert result.returncode == 0, result.stderr.decode()
    grouped = collections.defaultdict(list)
    for p in json_lines(result):
        grouped[p["source"].split("/")[-1]].append((p["id"], p["text"], p["county"]))
    assert len(grouped) == len(variants)
    expected = grouped["utf8.txt"]
    assert expected[0][1:] == ("今年以来，兴县大力发展小杂粮种植，带动农民增收。", "兴县")
    assert all(found == expected for found in grouped.values())


def test_jsonl_corpora_are_streamed_plain_and_gzipped(tmp_path):
    records = [{"id": "a1", "date": "2024-05-01", "title": "平陆县发展花椒产业",
                "text": "平陆县今年新栽花椒2000亩。\n\n合作社统一收购，户均增收3000元。"},
               {"id": "a2", "title": "全国春播进展顺利", "text": "各地抓住时机开展春播。"}]
    lines = "\n".join(json.dumps(r, ensure_ascii=False) for r in records) + "\n"
    (tmp_path / "news.jsonl").write_text(lines + "{not json\n", encoding="utf-8")
    with gzip.open(tmp_path / "news.jsonl.gz", "wt", encoding="utf-8") as handle:
        handle.write(lines)
    result = run("analyze.py", "paragraphs", str(tmp_path / "news.jsonl"), str(tmp_path / "news.jsonl.gz"))
    assert result.returncode == 2                       # the broken record was skipped…
    assert b"news.jsonl: line 3" in result.stderr       # …and named
    paragraphs = json_lines(result)                     # …and everything else was read
    assert len(paragraphs) == 6
    first = paragraphs[0]
    assert (first["article"], first["date"], first["county"], first["city"]) == \
        ("平陆县发展花椒产业", "2024-05-01", "平陆县", "运城市")
    assert [p["article_index"] for p in paragraphs[:3]] == [0, 0, 1]
    assert paragraphs[2]["county"] is None and paragraphs[2]["place_source"] is None


def test_a_damaged_gzip_corpus_keeps_every_whole_line_before_the_damage(tmp_path):
    records = [{"id": str(i), "title": f"第{i}条", "text": f"平陆县今年新栽花椒{i}亩，" + "合作社统一收购。" * 60}
               for i in range(600)]
    whole = gzip.compress("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records).encode("utf-8"))
    cut = whole[: len(whole) * 2 // 3]
    (tmp_path / "cut.jsonl.gz").write_bytes(cut)
    readable = zlib.decompressobj(16 + zlib.MAX_WBITS).decompress(cut)
    whole_lines = readable.count(b"\n")
    assert 2 ** 17 < len(readable) and 0 < whole_lines < len(records)
    result = run("analyze.py", "paragraphs", str(tmp_path / "cut.jsonl.gz"))
    assert result.returncode == 2
    assert result.stderr.decode().startswith(f"skipped {tmp_path / 'cut.jsonl.gz'}: line {whole_lines + 1}: file is damaged")
    assert [p["article_index"] for p in json_lines(result)] == list(range(whole_lines))


def test_a_large_file_read_in_pieces_numbers_its_articles_on_across_the_pieces(tmp_path):
    """Over 8 MB a text file is parsed in pieces, on two workers for classify; article numbers
    still run 0, 1, 2 … through the file, the same in `paragraphs` and `classify`."""
    filler = "合作社统一收购，户均增收三千元，村集体经济收入稳步增长。" * 20
    articles = [f"第{i}号村的新变化\n\n本报讯 第{i}号村今年新建蔬菜大棚，带动农户增收。{filler}\n\n"
                f"第{i}号村还修通了产业路。{filler}\n\n" for i in range(2_600)]
    large = tmp_path / "large.txt"
    large.write_text("".join(articles), encoding="utf-8")
    assert large.stat().st_size > 8 * 2**20
    paragraphs = json_lines(run("analyze.py", "paragraphs", str(large)))
    numbers = [p["article_index"] for p in paragraphs]
    assert numbers[0] == 0 and all(b - a in (0, 1) for a, b in zip(numbers, numbers[1:]))
    assert numbers[-1] >= 2_590  # an article cut between two pieces may count twice, or lose its headline
    classified = json_lines(run("analyze.py", "classify", str(large), "--workers", "2", "--no-topics"))
    assert [(p["id"], p["article_index"]) for p in classified] == [(p["id"], p["article_index"]) for p in paragraphs]


def test_standard_input_is_read():
    result = run("analyze.py", "paragraphs", "-", stdin=ARTICLE.encode("gb18030"))
    assert result.returncode == 0
    assert [p["source"] for p in json_lines(result)] == ["-", "-"]


def test_bad_inputs_are_named_on_one_line_and_good_ones_still_read(tmp_path):
    (tmp_path / "empty.txt").write_bytes(b"")
    (tmp_path / "picture.txt").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4)
    (tmp_path / "garbled.txt").write_bytes(bytes(range(0x80, 0x100)) * 8)
    (tmp_path / "empty folder").mkdir()
    good = tmp_path / "good.txt"
    good.write_text(ARTICLE, encoding="utf-8")
    result = run("analyze.py", "paragraphs", str(tmp_path / "missing.txt"), str(tmp_path / "empty.txt"),
                 str(tmp_path / "picture.txt"), str(tmp_path / "garbled.txt"),
                 str(tmp_path / "empty folder"), str(good))
    assert result.returncode == 2
    errors = result.stderr.decode().splitlines()
    assert len(errors) == 5 and "Traceback" not in result.stderr.decode()
    for name, reason in [("missing.txt", "no such file"), ("empty.txt", "empty"), ("picture.txt", "binary"),
                         ("garbled.txt", "no supported encoding"), ("empty folder", "no readable articles")]:
        assert any(name in line and reason in line for line in errors), (name, errors)
    assert len(json_lines(result)) == 2


def test_all_good_inputs_exit_zero():
    assert run("analyze.py", "paragraphs", str(SEEDS[1])).returncode == 0


def test_reading_reports_every_input_byte_for_the_progress_bar(tmp_path):
    from countythemes.reading import input_size, read_documents

    records = "".join(json.dumps({"title": f"第{i}条", "text": "合作社带动农户增收。" * 30}, ensure_ascii=False) + "\n"
                      for i in range(2_000))
    with gzip.open(tmp_path / "news.jsonl.gz", "wt", encoding="utf-8") as handle:
        handle.write(records)
    (tmp_path / "folder").mkdir()
    (tmp_path / "folder" / "a.txt").write_text(ARTICLE, encoding="utf-8")
    (tmp_path / "folder" / "notes.csv").write_text("not read", encoding="utf-8")
    paths = [str(tmp_path / "news.jsonl.gz"), str(tmp_path / "folder")]
    taken: list[int] = []
    assert sum(1 for _ in read_documents(paths, taken.append)) > 2
    assert len(taken) > 2 and sum(taken) == input_size(paths) == \
        (tmp_path / "news.jsonl.gz").stat().st_size + (tmp_path / "folder" / "a.txt").stat().st_size


def test_a_record_longer_than_a_block_of_lines_is_read_whole(tmp_path):
    long_text = "合作社统一收购，户均增收三千元。" * 20_000  # about 1 MB on one line
    records = [{"title": "长文", "text": long_text}, {"title": "短文", "text": "平陆县今年新栽花椒2000亩。"}]
    (tmp_path / "long.jsonl").write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records),
                                         encoding="utf-8")
    result = run("analyze.py", "paragraphs", str(tmp_path / "long.jsonl"))
    assert result.returncode == 0, result.stderr.decode()
    paragraphs = json_lines(result)
    assert [(p["article_index"], len(p["text"])) for p in paragraphs] == [(0, len(long_text)), (1, len(records[1]["text"]))]


def test_a_folders_readme_and_annotation_guide_are_not_articles(tmp_path):
    (tmp_path / "README.md").write_text("# 说明\n\n平顺县的文章都在这里，由课题组整理。\n", encoding="utf-8")
    (tmp_path / "ANNOTATION.md").write_text("# 标注指南\n\n平顺县的段落按主题标注。\n", encoding="utf-8")
    (tmp_path / "story.md").write_text("# 平顺县发展中药材\n\n平顺县合作社带动脱贫户种植中药材。\n", encoding="utf-8")
    walked = json_lines(run("analyze.py", "paragraphs", str(tmp_path)))
    assert [p["source"] for p in walked] == [str(tmp_path / "story.md")]
    named = json_lines(run("analyze.py", "paragraphs", str(tmp_path / "README.md")))
    assert [p["text"] for p in named] == ["平顺县的文章都在这里，由课题组整理。"]
