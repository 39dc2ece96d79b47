"""`analyze.py report`: the pictures a researcher puts in a paper (issue 5)."""
from __future__ import annotations

import csv
import io
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
    assert names == sorted(PICTURES + ["theme_mix_by_county.csv", "paragraphs.csv", "index.html", ".countythemes.json"])
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


def test_county_shares_and_intervals_add_up(two_reports):
    first, _ = two_reports
    rows = _csv(first / "theme_mix_by_county.csv")
    themes = ["industry", "employment", "cadres", "environment", "finance", "other"]
    by_county = {r["county"]: r for r in rows}
    assert by_county["交城县"]["city"] == "吕梁市" and by_county["交城县"]["paragraphs"] == "26"
    assert by_county["运城市（市级）"]["articles"] == "1"
    assert by_county["运城市（市级）"]["industry_low90"] == ""  # one article: no interval pretended
    folded = by_county["其他"]
    assert set(folded["folded"].split("、")) >= {"夏县", "襄汾县"}
    assert all(int(r["paragraphs"]) >= 5 for r in rows if r["county"] != "其他")
    assert rows[-1]["county"] == "其他"
    for row in rows:
        assert abs(sum(float(row[f"{t}_share"]) for t in themes) - 1) < 1e-3
        for t in themes:
            if row[f"{t}_low90"]:
                assert float(row[f"{t}_low90"]) <= float(row[f"{t}_share"]) + 1e-9 <= float(row[f"{t}_high90"]) + 2e-9
    # every counted seed paragraph is in one bar, or named as left out in the notes
    counted = sum(int(r["paragraphs"]) for r in rows)
    html = (first / "index.html").read_text(encoding="utf-8")
    left_out = sum(map(int, re.search(r"只归到省级的 (\d+) 段，无地点的 (\d+) 段", html).groups()))
    assert counted + left_out == 126


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
    assert [r["county"] for r in rows][-1] == "其他"
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
    from countythemes.report import Bar, ReportRow, chinese_font, draw_theme_mix

    chinese_font()
    counties = ["平顺县", "壶关县", "黎城县", "武乡县", "沁县", "沁源县", "襄垣县", "屯留区", "潞城区", "上党区",
                "娄烦县", "阳曲县", "清徐县", "古交市", "汾阳市", "孝义市", "文水县", "交城县", "岢岚县", "五寨县"]
    themes = ["industry", "employment", "cadres", "environment", "finance", "other"]
    bars = []
    for n, county in enumerate(counties):
        rows = [ReportRow("s", "a", n, None, None, i, f"{n}-{i}", county, f"市{n // 5}", "山西省", "paragraph", None,
                          themes[(n + i) % 6], 0.9, False, 1, True, "…") for i in range(5 + n)]
        bars.append(Bar(county, f"市{n // 5}", "山西省", rows))
    figure = draw_theme_mix(bars, themes, {t: t for t in themes}, ["注：" + "说明" * 20, "来源：测试"])
    figure.canvas.draw()
    renderer = figure.canvas.get_renderer()
    from matplotlib.text import Text

    texts = [t for t in figure.findobj(Text) if t.get_text() and t.get_visible()]
    boxes = [(t.get_text(), t.get_window_extent(renderer)) for t in texts]
    assert len(boxes) > 45
    for i, (a, box_a) in enumerate(boxes):
        assert box_a.x0 >= 0 and box_a.x1 <= figure.bbox.width and box_a.y0 >= 0 and box_a.y1 <= figure.bbox.height, a
        for b, box_b in boxes[i + 1:]:
            assert not box_a.overlaps(box_b), (a, b)
