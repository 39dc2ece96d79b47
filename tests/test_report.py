"""`analyze.py report`: the pictures a researcher puts in a paper (issue 5)."""
from __future__ import annotations

import csv
import html as html_module
import io
import json
import re

import pytest
from conftest import ROOT, run

PICTURES = ["theme_mix_by_county.png", "topics.png", "topic_selection.png", "topic_theme.png", "classifier.png"]


#: The five seed pages: the report's shapes (counties of 山西, labels for every paragraph) were drawn on them.
PAGES = sorted(str(p.relative_to(ROOT)) for p in (ROOT / "seeds").glob("*.txt"))


def _report(out, *extra):
    """The report on the seed pages, with matplotlib's missing-glyph warning turned into an error."""
    result = run("-W", "error:Glyph:UserWarning", "analyze.py", "report", "--corpus", *PAGES, "--out", str(out),
                 *extra)
    assert result.returncode == 0, result.stderr.decode()
    assert "Glyph" not in result.stderr.decode()
    return result


@pytest.fixture(scope="module")
def two_reports(tmp_path_factory):
    folder = tmp_path_factory.mktemp("reports")
    _report(folder / "a")
    _report(folder / "b")
    return folder / "a", folder / "b"


def _csv(path):
    return list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8-sig"))))


def test_two_runs_give_identical_files(two_reports):
    first, second = two_reports
    names = sorted(p.name for p in first.iterdir())
    assert names == sorted(PICTURES + ["theme_by_year.png", "theme_mix_by_county.csv", "theme_by_year.csv",
                                       "paragraphs.csv", "index.html", ".countythemes.json"])  # one page is dated
    assert names == sorted(p.name for p in second.iterdir())
    for name in names:
        assert (first / name).read_bytes() == (second / name).read_bytes(), name  # PNGs too, byte for byte


def test_pictures_are_pngs_of_a_readable_size(two_reports):
    first, _ = two_reports
    for name in PICTURES:
        data = (first / name).read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n"
        width, height = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
        assert 600 <= width <= 3000 and 300 <= height <= 4000, (name, width, height)


THEMES = ["industry", "employment", "cadres", "environment", "finance", "other"]


def _by_place(rows, place_column="county"):
    places: dict[str, dict[str, dict]] = {}
    for row in rows:
        places.setdefault(row[place_column], {})[row["theme"]] = row
    return places


def test_county_shares_and_intervals_add_up(two_reports):
    first, _ = two_reports
    rows = _csv(first / "theme_mix_by_county.csv")
    by_county = _by_place(rows)
    assert all(list(themes) == THEMES for themes in by_county.values())  # place × theme, codebook order
    jiaocheng = by_county["交城县"]["industry"]
    assert jiaocheng["city"] == "吕梁市" and jiaocheng["paragraphs"] == "26"
    assert by_county["运城市（市级）"]["industry"]["articles"] == "1"
    assert by_county["运城市（市级）"]["industry"]["share_low"] == ""  # one article: no interval pretended
    assert by_county["运城市（市级）"]["industry"]["adjusted_low"] == ""
    folded = by_county["其余地区"]["other"]
    assert set(folded["folded"].split("、")) >= {"夏县", "襄汾县"}
    assert all(int(r["paragraphs"]) >= 5 for r in rows if r["county"] != "其余地区")
    assert rows[-1]["county"] == "其余地区"
    for county, themes in by_county.items():
        for column in ("share", "adjusted_share"):
            assert abs(sum(float(themes[t][column]) for t in THEMES) - 1) < 1e-3, (county, column)
        for t in THEMES:
            row = themes[t]
            assert row["estimator"] == "pacc"
            for part in ("share", "adjusted"):
                low, high = row[f"{part}_low"], row[f"{part}_high"]
                value = float(row["share" if part == "share" else "adjusted_share"])
                if low:
                    assert float(low) <= value + 1e-9 <= float(high) + 2e-9, (county, t, part)
            # every seed-page paragraph is labeled: the labels count as they are, no adjustment
            assert row["share"] == row["adjusted_share"]
    # every counted seed paragraph is in one bar, or named as left out in the notes
    counted = sum(int(themes["industry"]["paragraphs"]) for themes in by_county.values())
    html = (first / "index.html").read_text(encoding="utf-8")
    left_out = sum(map(int, re.search(r"只归到省级的 (\d+) 段，无地点的 (\d+) 段", html).groups()))
    assert counted + left_out == 126


def test_index_page_shows_the_paragraphs_behind_each_bar(two_reports):
    first, _ = two_reports
    page = (first / "index.html").read_text(encoding="utf-8")
    paragraphs = [r for r in _csv(first / "paragraphs.csv") if r["counted"] == "True"]
    drawn = {r["county"] for r in _csv(first / "theme_mix_by_county.csv")} - {"其余地区"}
    assert len(drawn) >= 5
    for county in drawn:
        assert f"<details class=\"place\"><summary>{county}（" in page, county
        if county.endswith("（市级）"):
            continue
        mine = [r for r in paragraphs if r["county"] == county]
        for theme in {r["label"] or r["predicted"] for r in mine}:
            best = max((r for r in mine if (r["label"] or r["predicted"]) == theme),
                       key=lambda r: float(r["confidence"]))
            assert html_module.escape(best["text"]) in page, (county, theme)
    assert page.count("<details") == page.count("</details>") and "人工标注｜" in page
    assert "<script" not in page and "http" not in page


def test_paragraphs_csv_lists_every_paragraph_with_label_and_prediction(two_reports, seed_paragraphs):
    first, _ = two_reports
    rows = _csv(first / "paragraphs.csv")
    assert [r["id"] for r in rows] == [p["id"] for p in seed_paragraphs]
    labels = {r["id"]: r["theme"] for r in _csv(ROOT / "seeds" / "labels.csv")}
    assert all(r["label"] == labels[r["id"]] for r in rows)
    assert all(r["predicted"] and 0 < float(r["confidence"]) <= 1 and int(r["topic"]) >= 1 for r in rows)


def test_index_page_shows_everything_and_opens_offline(two_reports):
    first, _ = two_reports
    page = (first / "index.html").read_text(encoding="utf-8")
    for name in PICTURES:
        assert f'<img src="{name}"' in page
    assert 'href="theme_mix_by_county.csv"' in page and 'href="paragraphs.csv"' in page
    assert "http://" not in page and "https://" not in page and "<script" not in page
    assert f"来源：{', '.join(PAGES)}；模型：" in page  # the source line


def test_small_counties_fold_into_one_bar_and_dpi_scales(tmp_path):
    _report(tmp_path / "r", "--min-paragraphs", "12", "--dpi", "75")
    rows = _csv(tmp_path / "r" / "theme_mix_by_county.csv")
    assert [r["county"] for r in rows][-1] == "其余地区"
    assert set(rows[-1]["folded"].split("、")) >= {"天镇县", "云州区", "阳高县", "夏县"}
    assert all(int(r["paragraphs"]) >= 12 for r in rows[:-1])
    data = (tmp_path / "r" / "classifier.png").read_bytes()
    assert int.from_bytes(data[16:20], "big") < 1000  # half of the default 150 dpi


def test_a_bad_corpus_leaves_the_previous_report_whole(tmp_path, two_reports):
    out = tmp_path / "r"
    _report(out)
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    result = run("analyze.py", "report", "--corpus", str(tmp_path / "missing"), "--out", str(out))
    assert result.returncode == 2
    assert "missing" in result.stderr.decode() and "Traceback" not in result.stderr.decode()
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before


def test_twenty_counties_draw_without_overlapping_labels():
    import numpy as np

    from countythemes.reports import Bar, Shares, chinese_font, draw_theme_mix

    chinese_font()
    counties = ["平顺县", "壶关县", "黎城县", "武乡县", "沁县", "沁源县", "襄垣县", "屯留区", "潞城区", "上党区",
                "娄烦县", "阳曲县", "清徐县", "古交市", "汾阳市", "孝义市", "文水县", "交城县", "岢岚县", "五寨县"]
    bars = []
    for n, county in enumerate(counties):
        share = np.roll([0.4, 0.2, 0.1, 0.1, 0.1, 0.1], n)
        interval = None if n % 4 == 0 else (share - 0.05 * (n % 5), share + 0.05 * (n % 5))
        shares = Shares(5 + n, 1 + n, share, None, None, share, *(interval or (None, None)))
        bars.append(Bar(county, f"市{n // 5}", "山西省", np.arange(5 + n), shares=shares))
    bars.append(Bar("其余地区", None, None, np.arange(7), members=["夏县", "襄汾县"],
                    shares=Shares(7, 4, np.full(6, 1 / 6), None, None, np.full(6, 1 / 6), None, None)))
    figure = draw_theme_mix(bars, THEMES, {t: t for t in THEMES}, ["注：" + "说明" * 20, "来源：测试"])
    figure.canvas.draw()
    renderer = figure.canvas.get_renderer()
    from matplotlib.text import Text

    texts = [t for t in figure.findobj(Text) if t.get_text() and t.get_visible()]
    boxes = [(t.get_text(), t.get_window_extent(renderer)) for t in texts]
    assert len(boxes) > 65
    shown = [text for text, _ in boxes]
    assert "其余地区（段落少或未单独画出的地区）" in shown and "段落 / 文章" in shown
    assert any(text.startswith("各主题占该地区段落的比例") for text in shown)  # the x axis says what it shows
    for i, (a, box_a) in enumerate(boxes):
        assert box_a.x0 >= 0 and box_a.x1 <= figure.bbox.width and box_a.y0 >= 0 and box_a.y1 <= figure.bbox.height, a
        for b, box_b in boxes[i + 1:]:
            assert not box_a.overlaps(box_b), (a, b)


#: A dated corpus of our own: three years, two counties of 长治市 and one of 忻州市, paragraphs written
#: for this test (each names its county).
DATED = [
    ("2019-03-02", "平顺县", ["平顺县大力发展中药材种植，新建连翘基地三万亩，带动合作社和农户增收。",
                             "平顺县组织脱贫劳动力参加技能培训，帮助一千二百人外出务工。"]),
    ("2019-07-15", "武乡县", ["武乡县发放小额信贷两亿元，整合涉农资金八千万元支持产业。",
                             "武乡县开展农村人居环境整治，完成改厕五千户，清理垃圾三万吨。"]),
    ("2019-11-20", "岢岚县", ["岢岚县建成光伏电站，收益用于村集体经济和公益岗位。",
                             "岢岚县选派第一书记和驻村工作队，加强村党支部建设。"]),
    ("2020-04-08", "平顺县", ["平顺县选派驻村工作队员一百二十名，考核结果与干部提拔挂钩。",
                             "平顺县花椒种植面积扩大到十万亩，电商销售额翻番。"]),
    ("2020-08-30", "武乡县", ["武乡县举办春风行动招聘会，提供就业岗位三千个。",
                             "武乡县完成荒山造林两万亩，聘用生态护林员八百名。"]),
    ("2020-12-01", "岢岚县", ["岢岚县为脱贫户购买防贫保险，农信社授信一点五亿元。",
                             "岢岚县实施易地扶贫搬迁，后续扶持让搬迁群众稳得住。"]),
    ("2021-05-05", "平顺县", ["平顺县建设零工市场，稳岗补贴发放到每一个务工人员。",
                             "平顺县推进美丽乡村建设，村容村貌明显改善。"]),
    ("2021-09-09", "武乡县", ["武乡县小米品牌走向全国，龙头企业带动农户种植。",
                             "武乡县开展防返贫监测，对监测对象逐户落实帮扶措施。"]),
    ("2021-10-10", "岢岚县", ["岢岚县召开乡村振兴工作会议，部署下一阶段任务。",
                             "岢岚县投入财政资金一亿元，资产确权到村。"]),
]


@pytest.fixture(scope="module")
def dated_report(tmp_path_factory):
    folder = tmp_path_factory.mktemp("dated")
    corpus = folder / "county-news.jsonl"
    with open(corpus, "w", encoding="utf-8") as out:
        for n, (date, county, paragraphs) in enumerate(DATED):
            record = {"id": f"story-{n}", "date": date, "title": f"{county}见闻", "text": "\n".join(paragraphs)}
            out.write(json.dumps(record, ensure_ascii=False) + "\n")
    result = run("-W", "error:Glyph:UserWarning", "analyze.py", "report", "--corpus", str(corpus),
                 "--out", str(folder / "r"), "--by", "county", "--min-paragraphs", "2")
    assert result.returncode == 0, result.stderr.decode()
    return folder / "r"


def test_dated_corpus_gives_theme_by_year(dated_report):
    paragraphs = _csv(dated_report / "paragraphs.csv")
    assert len(paragraphs) == 18
    assert sorted({r["date"] for r in paragraphs}) == sorted(date for date, _, _ in DATED)  # paragraphs.csv: date
    rows = _csv(dated_report / "theme_by_year.csv")
    overall = [r for r in rows if r["level"] == "all"]
    assert sorted({r["year"] for r in overall}) == ["2019", "2020", "2021"]
    for year in ("2019", "2020", "2021"):
        mine = [r for r in overall if r["year"] == year]
        assert [r["theme"] for r in mine] == THEMES
        assert {r["paragraphs"] for r in mine} == {"6"} and {r["articles"] for r in mine} == {"3"}
        assert abs(sum(float(r["share"]) for r in mine) - 1) < 1e-3
        assert abs(sum(float(r["adjusted_share"]) for r in mine) - 1) < 1e-3
        counted = {t: sum((p["label"] or p["predicted"]) == t for p in paragraphs if p["date"].startswith(year))
                   for t in THEMES}
        assert all(abs(float(r["share"]) - counted[r["theme"]] / 6) < 1e-3 for r in mine)
        assert all(float(r["adjusted_low"]) <= float(r["adjusted_share"]) + 1e-9 <= float(r["adjusted_high"]) + 2e-9
                   for r in mine)
    counties = {r["place"] for r in rows if r["level"] == "county"}
    assert counties == {"平顺县（长治市）", "武乡县（长治市）", "岢岚县（忻州市）"}
    data = (dated_report / "theme_by_year.png").read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    page = (dated_report / "index.html").read_text(encoding="utf-8")
    assert '<img src="theme_by_year.png"' in page and 'href="theme_by_year.csv"' in page


def test_by_needs_dates_and_keeps_the_previous_report(tmp_path, two_reports):
    out = tmp_path / "r"
    _report(out)
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    undated = [page for page in PAGES if not page.startswith("seeds/001_")]  # the one page with a date left out
    result = run("analyze.py", "report", "--corpus", *undated, "--out", str(out), "--by", "city")
    assert result.returncode == 2
    error = result.stderr.decode().strip().splitlines()[-1]
    assert error.startswith("error: --by city: the corpus has no dated articles") and "Traceback" not in error
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before


def test_notes_in_pictures_never_start_a_line_with_closing_punctuation():
    from countythemes.reports import wrap

    text = "各地区的段落数（按文章计）与区间宽度，" * 12
    for width in (2.0, 2.3, 3.1, 4.4):
        lines = wrap(text, width, 7)
        assert "".join(lines) == text
        assert not any(line[0] in "，。）、" for line in lines[1:]), lines
        assert max(len(line) for line in lines) <= round(width * 72 / 7) + 1  # a hanging mark at most
