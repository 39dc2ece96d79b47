"""Newspaper Markdown archives (issue 17): front matter, callouts, bylines, captions, editor's notes.

The files here are written for these tests in the shape a public People's Daily
vault stores (front matter, kicker, title, subtitle, a quoted byline with the
paper's source line, photos with credits, section subheads); the last test
reads the eight real samples in ../shared.
"""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import SHARED, json_lines, run

ARCHIVE_ARTICLE = """---
title: "山坡上种出  致富果"
date: 2025-09-19
section: "第18版"
author: "林  晓  周明远"
keywords: [花椒, 合作社]
---

> [!summary] 读书笔记｜2026-10-01
> **一句话**：山西平陆县靠花椒致富，可作为申论素材。
> **关键词**：花椒 / 合作社

### 山西运城平陆县花椒种植面积突破二十万亩

# 山坡上种出  致富果

## ——平陆县发展花椒产业见闻

> 本报记者  林  晓  周明远《人民日报》（2025年09月19日第 18 版）

图为椒农在坡地上采摘花椒。

王  磊摄（人民视觉）

合作社社员在分拣花椒。　　本报记者  周明远摄

合作社社员在分拣花椒。

本报记者  周明远摄

受访者供图

数据来源：平陆县农业农村局

秋日的黄河岸边，一垄垄花椒树挂满红果，椒农们背着竹篓穿行在坡地间。

坡地种粮不划算，种花椒却能卖上好价钱。这几年，越来越多的农户把坡地交给合作社统一经营。

——编  者

【镜头一】

清晨五点，张家庄乡的椒农已经上山，赶在露水干之前把花椒摘完。

**品牌打出去——**

**小花椒卖进大超市**

合作社与三家超市签了供货协议，花椒按品级定价，一级花椒每斤卖到六十元。

去年，全县花椒产值超过十亿元，带动两万多户农户增收。
"""


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def test_an_archive_article_keeps_its_front_matter_title_date_and_author(tmp_path):
    paragraphs = json_lines(run("analyze.py", "paragraphs", str(write(tmp_path, "a.md", ARCHIVE_ARTICLE))))
    assert {(p["article"], p["date"], p["author"]) for p in paragraphs} == \
        {("山坡上种出 致富果", "2025-09-19", "林晓 周明远")}
    assert [p["article_index"] for p in paragraphs] == [0] * len(paragraphs)  # one article, subheads or not


def test_only_the_body_is_paragraphs(tmp_path):
    paragraphs = json_lines(run("analyze.py", "paragraphs", str(write(tmp_path, "a.md", ARCHIVE_ARTICLE))))
    assert [p["text"] for p in paragraphs] == [
        "清晨五点，张家庄乡的椒农已经上山，赶在露水干之前把花椒摘完。",
        "合作社与三家超市签了供货协议，花椒按品级定价，一级花椒每斤卖到六十元。",
        "去年，全县花椒产值超过十亿元，带动两万多户农户增收。",
    ]  # no callout, byline, caption, credit, data source, editor's note, scene marker or subhead


def test_the_place_comes_from_the_kicker_and_subtitle_with_its_evidence(tmp_path):
    paragraphs = json_lines(run("analyze.py", "paragraphs", str(write(tmp_path, "a.md", ARCHIVE_ARTICLE))))
    assert {(p["county"], p["city"], p["province"]) for p in paragraphs} == {("平陆县", "运城市", "山西省")}
    assert all("平陆县" in p["place_evidence"] for p in paragraphs)


def test_a_callout_is_never_the_title_nor_a_paragraph(tmp_path):
    text = ("# 村里的新书屋\n\n> [!note] 我的批注\n> 这篇可以用来写乡风文明。\n\n"
            "村里的新书屋每天开放到晚上九点，孩子们放学后都来这里写作业。\n")
    [paragraph] = json_lines(run("analyze.py", "paragraphs", str(write(tmp_path, "b.md", text))))
    assert paragraph["article"] == "村里的新书屋"
    assert paragraph["text"].startswith("村里的新书屋每天开放")


def test_a_one_paragraph_editors_note_is_left_out(tmp_path):
    text = ("---\ntitle: 驻村日记\ndate: 2025-03-01\n---\n\n# 驻村日记\n\n"
            "编者按：驻村干部的日记，记下了一个村子一年的变化。\n\n"
            "三月一日，第一书记走访了村里的十二户脱贫户，逐户核对帮扶台账。\n")
    paragraphs = json_lines(run("analyze.py", "paragraphs", str(write(tmp_path, "c.md", text))))
    assert [p["text"][:4] for p in paragraphs] == ["三月一日"]


def test_markdown_without_front_matter_still_splits_at_headlines(tmp_path):
    text = ("# 第一篇：平顺县种植中药材\n\n> 本报记者  王  芳《人民日报》（2025年05月06日第 18 版）\n\n"
            "平顺县今年新种中药材三万亩，带动农户增收。\n\n# 第二篇：夏县发展苹果产业\n\n"
            "> 本报记者  李  强《人民日报》（2025年05月06日第 18 版）\n\n夏县建成苹果冷库二十座，果农不愁卖。\n")
    paragraphs = json_lines(run("analyze.py", "paragraphs", str(write(tmp_path, "d.md", text))))
    assert [(p["article"], p["county"]) for p in paragraphs] == [
        ("第一篇：平顺县种植中药材", "平顺县"), ("第二篇：夏县发展苹果产业", "夏县")]


# The eight files of ../shared/samples/peoples-daily-md, each read by hand: its title and date (front
# matter) and its body paragraphs (captions, credits, data sources, editor's notes, callouts and section
# subheads left out).
SAMPLES = {
    "01.md": ("小病不出村 大病不出县", "2025-01-10", 7),
    "02.md": ("吃透“一条鱼” 做好“海”文章（乡村新事）", "2025-02-21", 18),
    "03.md": ("因地制宜念好“山字经”（乡村观察）", "2025-03-14", 21),
    "04.md": ("县城年轻人，钱花在了哪儿？（经济新方位·农村消费观察）", "2025-04-22", 24),
    "05.md": ("梅林村，满满人气从何来（经济新方位·农村消费观察）", "2025-05-28", 21),
    "06.md": ("瞧！咱老乡消费也挺“潮”（经济新方位·农村消费观察）", "2025-06-03", 29),
    "07.md": ("一朵金银花成了一张金名片", "2025-07-11", 11),
    "08.md": ("千年手艺焕发时代活力（乡村观察）", "2025-11-14", 28),
}
SAMPLE_FOLDER = SHARED / "samples" / "peoples-daily-md"


@pytest.mark.corpus
@pytest.mark.skipif(not SAMPLE_FOLDER.exists(), reason="needs ../shared/samples/peoples-daily-md")
def test_the_archive_samples_read_with_their_titles_dates_and_paragraph_counts():
    result = run("analyze.py", "paragraphs", str(SAMPLE_FOLDER))
    assert result.returncode == 0, result.stderr.decode()
    found: dict[str, tuple] = {}
    for p in json_lines(result):
        name = Path(p["source"]).name
        title, date, count = found.get(name, (p["article"], p["date"], 0))
        assert (title, date) == (p["article"], p["date"])  # one article per file
        found[name] = (title, date, count + 1)
    assert found == SAMPLES
    texts = json.dumps(json_lines(result), ensure_ascii=False)
    for junk in ("[!codex]", "《人民日报》", "摄（人民视觉）", "数据来源", "——编", "教研速读"):
        assert junk not in texts, junk
