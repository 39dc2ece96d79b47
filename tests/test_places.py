"""Place attribution follows THEMES.md "Places" (issue 2)."""
from __future__ import annotations

import collections

from conftest import json_lines, run
from countythemes.places import find_mentions


def places_of(paragraphs, prefix):
    return [(p["county"], p["city"], p["province"]) for p in paragraphs
            if p["source"].split("/")[-1].startswith(prefix)]


def test_zhongyang_articles_go_to_zhongyang(seed_paragraphs):
    assert set(places_of(seed_paragraphs, "000")) == {("中阳县", "吕梁市", "山西省")}


def test_yuncheng_paragraphs_go_to_the_county_they_name_else_the_city(seed_paragraphs):
    named = ("绛县", "平陆县", "垣曲县", "夏县", "万荣县", "河津市")
    for p in (p for p in seed_paragraphs if p["source"].endswith("001_39e63ac0ebec21db.txt")):
        names = [n for n in named if n in p["text"] or n[:-1] + "、" in p["text"]]
        if names:
            assert p["county"] in named, p["text"][:30]
        else:
            assert (p["county"], p["city"]) == (None, "运城市"), p["text"][:30]
    assert ("夏县", "运城市", "山西省") in places_of(seed_paragraphs, "001")


def test_datong_sub_articles_go_to_their_counties_and_city_wide_paragraphs_to_datong(seed_paragraphs):
    datong = [p for p in seed_paragraphs if p["source"].endswith("003_9e415b18ccfa02c9.txt")]
    by_article = collections.defaultdict(set)
    for p in datong:
        by_article[p["article"]].add(p["county"])
    assert by_article["天镇县做好易地搬迁后续工作"] == {"天镇县"}
    assert by_article["阳高县：全面推进美丽乡村建设"] == {"阳高县"}
    assert by_article["“披荆斩棘”蹚出绿色发展新路"] == {"天镇县"}
    assert by_article["颐养工程奏响乡村振兴乐章"] == {"云州区"}
    assert "云州区" in by_article["云州区全方位推动黄花产业高质量发展"]
    city_wide = [p for p in datong if "全市" in p["text"] and p["county"] is None]
    assert city_wide and all((p["city"], p["province"]) == ("大同市", "山西省") for p in city_wide)
    pointer = next(p for p in datong if p["text"].startswith("今年，该区"))
    assert (pointer["county"], pointer["place_source"]) == ("云州区", "article")


def test_jiaocheng_and_xingxian_pages(seed_paragraphs):
    assert set(places_of(seed_paragraphs, "004")) == {("交城县", "吕梁市", "山西省")}
    xing = [p for p in seed_paragraphs if p["source"].endswith("002_3f4489da2ec30cf2.txt")]
    assert all(p["county"] == "兴县" for p in xing if "标准地" not in p["article"])


def test_no_false_hits_inside_other_words():
    def counties(text, context=""):
        return [unit.county for unit in find_mentions(text, context or text)]

    assert counties("绍兴县和新兴县都在发展") == ["柯桥区", "新兴县"]   # 兴县 is not inside either
    assert counties("推动乡村振兴县域经济发展") == []
    assert counties("针对性制定兴县脱贫攻坚工作方案") == ["兴县"]          # not 定兴县
    assert counties("大同县黄花") == ["云州区"]                            # former name, 2018
    assert counties("长治久安，大同小异") == []
    assert counties("中阳剪纸很有名") == []                                # short form, nothing confirms it
    assert counties("中阳剪纸很有名", "中阳县位于吕梁山区") == ["中阳县"]


def test_short_forms_resolve_in_an_article(tmp_path):
    page = tmp_path / "short.md"
    page.write_text("# 山西大同：黄花产业带农增收\n\n**本报讯** 今年云州新栽黄花1万亩，户均增收5000元。\n\n"
                    "全市黄花种植面积达到26万亩。\n", encoding="utf-8")
    first, second = json_lines(run("analyze.py", "paragraphs", str(page)))
    assert (first["county"], first["city"], first["place_source"]) == ("云州区", "大同市", "paragraph")
    assert (second["county"], second["city"]) == (None, "大同市")
