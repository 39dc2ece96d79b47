"""Label files as researchers write them: Excel's GBK, the codebook's Chinese names, every bad row at once."""
from __future__ import annotations

import csv

import pytest
from conftest import ROOT, run

from countythemes.labels import LabelError, label_themes, read_labels

NAMES = {"industry": "产业发展", "employment": "就业增收", "cadres": "驻村帮扶与基层党建",
         "environment": "生态与人居环境", "finance": "金融与资金", "other": "其他"}


def _write(path, rows, encoding="utf-8"):
    with open(path, "w", encoding=encoding, newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "theme", "secondary", "note", "excerpt"])
        writer.writerows(rows)
    return path


def test_gbk_files_and_chinese_theme_names_are_read(tmp_path):
    path = _write(tmp_path / "excel.csv", [["aaaa", "金融与资金", "产业发展", "备注", "县农商行"],
                                          ["bbbb", "cadres", "", "", ""]], encoding="gbk")
    labels = read_labels([str(path)], {"aaaa", "bbbb"}, NAMES)
    assert {k: (v.theme, v.secondary) for k, v in labels.items()} == {"aaaa": ("finance", "industry"),
                                                                       "bbbb": ("cadres", "")}
    assert label_themes([str(path)], NAMES) == {"aaaa": "finance", "bbbb": "cadres"}


def test_every_bad_row_is_reported_in_one_run(tmp_path):
    path = _write(tmp_path / "bad.csv", [["aaaa", "industy", "", "", ""], ["zzzz", "industry", "", "", ""],
                                         ["bbbb", "other", "nonsense", "", ""], ["cccc", "other", "", "", ""],
                                         ["cccc", "cadres", "", "", ""]])
    with pytest.raises(LabelError) as raised:
        read_labels([str(path)], {"aaaa", "bbbb", "cccc"}, NAMES)
    lines = str(raised.value).splitlines()
    assert lines[0].startswith(f"{path}:2: unknown theme 'industy'")
    assert [line.split(": ")[0] for line in lines] == [f"{path}:{n}" for n in (2, 3, 4, 6)]
    assert "(4 bad rows)" in lines[0]


def test_report_refuses_a_misspelt_theme_in_one_line_without_a_traceback(tmp_path):
    labels = _write(tmp_path / "mine.csv", [["aaaa", "industy", "", "", ""]])
    result = run("analyze.py", "report", "--corpus", str(ROOT / "seeds" / "000_9e47b3ad6944e131.txt"),
                 "--labels", str(labels), "--out", str(tmp_path / "report"))
    stderr = result.stderr.decode()
    assert result.returncode == 2 and "Traceback" not in stderr
    assert stderr.strip().splitlines() == [f"error: {labels}:2: unknown theme 'industy' (themes: industry or 产业发展, "
                                           "employment or 就业增收, cadres or 驻村帮扶与基层党建, environment or "
                                           "生态与人居环境, finance or 金融与资金, other or 其他)"]
    assert not (tmp_path / "report").exists()


def test_article_ids_and_dates_reach_every_output_and_formulas_are_escaped_in_csvs(tmp_path):
    import json

    corpus = tmp_path / "stories.jsonl"
    stories = [{"id": "story-7", "date": "2021-05-01", "title": "平顺县发展中药材",
                "text": "=1+1平顺县合作社带动脱贫户种植中药材，户均增收3000元，全县种植面积达到10万亩。\n\n"
                        "@SUM(A1)县人社局举办春风行动招聘会，帮助200名脱贫劳动力外出务工就业。"},
               {"id": 8, "title": "没有日期", "text": "壶关县农商行为脱贫户发放小额信贷1.2亿元，推广防贫保险。"}]
    corpus.write_text("\n".join(json.dumps(s, ensure_ascii=False) for s in stories) + "\n", encoding="utf-8")
    for command in ("paragraphs", "classify"):
        rows = [json.loads(line) for line in run("analyze.py", command, str(corpus)).stdout.decode().splitlines()]
        assert [(r["article_id"], r["date"]) for r in rows] == [("story-7", "2021-05-01")] * 2 + [("8", None)]
    report = run("analyze.py", "report", "--corpus", str(corpus), "--out", str(tmp_path / "report"))
    assert report.returncode == 0, report.stderr.decode()
    with open(tmp_path / "report" / "paragraphs.csv", encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [(r["article_id"], r["date"]) for r in rows] == [("story-7", "2021-05-01")] * 2 + [("8", "")]
    assert [r["text"][:5] for r in rows[:2]] == ["'=1+1", "'@SUM"]
    suggested = run("analyze.py", "suggest", str(corpus), "--n", "3")
    texts = [r["text"] for r in csv.DictReader(suggested.stdout.decode().splitlines())]
    assert sorted(t[:2] for t in texts) == ["'=", "'@", "壶关"]
