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


# ------------------------------------------------------------------ issue 17: weighing the evidence


def named(text, context=""):
    from countythemes.places import find_named

    return [(m.unit.county or m.unit.city or m.unit.province, m.weight) for m in find_named(text, context or text)]


def counties(text, context=""):
    return [unit.county for unit in find_mentions(text, context or text) if unit.level == "county"]


def test_short_forms_that_are_ordinary_words_need_more_than_the_province():
    # 和平, 天山, 南部 and 双桥 are words (and a mountain) before they are 和平区, 天山区, 南部县, 双桥区
    assert counties("台湾同胞盼望两岸和平发展，台中的果农也这样想。") == []
    assert counties("天山脚下的牧民赶着羊群转场。", "新疆乌鲁木齐的牧民") == []
    assert counties("新疆南部的绿洲种满了红枣。", "四川南充的客商来到新疆") == []
    assert counties("台中和平的果园迎来采摘季。") == ["和平区"]  # right after its city, it is the district


def test_a_village_or_town_named_after_a_county_is_not_the_county():
    assert counties("承德的双桥村建起了葡萄长廊。") == []
    assert counties("宝兴乡的村民种上了猕猴桃。", "四川雅安宝兴乡") == []


def test_short_forms_of_autonomous_counties_and_banners_and_former_names():
    assert counties("贵州威宁县的马铃薯丰收了。") == ["威宁彝族回族苗族自治县"]
    assert counties("青海化隆县的拉面馆开到了全国各地。") == ["化隆回族自治县"]
    assert counties("重庆石柱县的黄连远近闻名。") == ["石柱土家族自治县"]
    assert counties("科右前旗和科右中旗的牧民搬进了新居。") == ["科尔沁右翼前旗", "科尔沁右翼中旗"]
    assert counties("鄂伦春旗的猎民新村通了自来水。") == ["鄂伦春自治旗"]
    assert counties("十年前马尔康县城只有一条街。") == ["马尔康市"]  # 2015: 马尔康县 became 马尔康市
    assert counties("威宁的洋芋很有名。") == []                      # a bare stem needs its family named
    assert counties("威宁的洋芋很有名。", "贵州毕节") == ["威宁彝族回族苗族自治县"]


def test_the_autonomous_short_form_rule():
    from countythemes.gazetteer import autonomous_short_forms

    assert autonomous_short_forms("石柱土家族自治县") == ["石柱县"]
    assert autonomous_short_forms("鄂温克族自治旗") == ["鄂温克旗"]
    assert autonomous_short_forms("喀喇沁左翼蒙古族自治县") == ["喀喇沁左翼县", "喀左县"]
    assert autonomous_short_forms("伊犁哈萨克自治州") == ["伊犁州"]
    assert autonomous_short_forms("平陆县") == []


def test_every_hand_alias_and_town_belongs_to_a_unit_of_the_gazetteer():
    from countythemes.gazetteer import gazetteer

    gaz = gazetteer()  # loading refuses a row whose unit is not in gazetteer.csv
    assert {n.unit.county for n in gaz.names["马尔康县"]} == {"马尔康市"}
    assert {t.unit.city for t in gaz.towns["塘厦镇"]} == {"东莞市"}


def test_the_common_word_list_is_what_its_rule_makes_of_jiebas_dictionary():
    from importlib import resources

    from countythemes.gazetteer import build_common_stems

    stored = resources.files("countythemes.data").joinpath("common_stems.txt").read_text(encoding="utf-8")
    assert stored == build_common_stems()
    words = {line for line in stored.splitlines() if not line.startswith("#")}
    assert {"和平", "天山", "南部", "双桥"} <= words
    assert "中阳" not in words


def test_passing_mentions_weigh_nothing_and_titles_little():
    assert named("与相邻的平陆县共建产业路。") == [("平陆县", 0.0)]
    assert named("来自浙江湖州的客商订走了茶叶。") == [("浙江省", 0.0), ("湖州市", 0.0)]
    assert named("他出生于湖南石门县。") == [("湖南省", 0.0), ("石门县", 0.0)]
    assert named("夏县县委书记在会上介绍了经验。") == [("夏县", 0.3)]


def test_towns_resolve_only_where_their_city_or_province_is_named():
    assert named("东莞塘厦镇的工厂招工忙。") == [("东莞市", 1.0)]
    assert named("塘厦镇的工厂招工忙。") == []


def attributed(paragraphs, headline):
    from countythemes.places import attribute
    from countythemes.tokens import segment

    context = headline + "\n" + "\n".join(paragraphs)
    return [(p.unit.county if p.unit else None, p.unit.city if p.unit else None, p.source, p.evidence)
            for p in attribute(paragraphs, headline, context, [segment(t) for t in paragraphs])]


def test_a_neighbour_does_not_take_the_story_of_the_county_in_the_headline():
    places = attributed(["平顺县今年种植中药材三万亩。",
                         "合作社还与相邻的壶关县合作，统一收购药材。",
                         "各地不断完善中药材产业扶持政策，国务院有关部门也出台了指导意见。"],
                        "平顺县：中药材铺就致富路")
    assert [p[0] for p in places] == ["平顺县", "平顺县", None]  # the last is about the whole country
    assert places[1][2] == "article" and "平顺县" in places[1][3]
    assert places[2][3].startswith("about the whole country")


def test_an_example_county_does_not_carry_on_into_a_provincial_story():
    places = attributed(["山西多措并举推进防返贫监测。",
                         "在平陆县，干部逐户上门核查收入。",
                         "会上，省里要求把监测对象及时纳入帮扶。"],
                        "山西：织密防返贫监测网")
    assert [(p[0], p[1]) for p in places] == [(None, None), ("平陆县", "运城市"), (None, None)]
    assert places[2][2] == "article" and "山西" in places[2][3]


def test_place_evidence_is_on_every_row(tmp_path):
    page = tmp_path / "p.md"
    page.write_text("# 贵州威宁县：洋芋变金蛋\n\n威宁县今年种植马铃薯一百万亩。\n\n全县建成冷库五十座。\n",
                    encoding="utf-8")
    first, second = json_lines(run("analyze.py", "paragraphs", str(page)))
    assert (first["county"], first["place_evidence"]) == ("威宁彝族回族苗族自治县",
                                                          '"威宁县" (short form of 威宁彝族回族苗族自治县)')
    assert second["county"] == "威宁彝族回族苗族自治县" and second["place_evidence"].startswith("全县 → ")


def test_a_county_name_straddling_the_province_before_it_is_read_as_the_province_agrees():
    # 山西安泽县 holds 西安; 江西南丰县 holds 西南; 广东南海 holds 东南: the reading that agrees with the
    # province named wins, and a county right after a city that does not hold it is another place
    assert counties("山西安泽县的连翘丰收了。") == ["安泽县"]
    assert counties("江西南丰县的蜜桔上市了。") == ["南丰县"]
    assert counties("广东南海的龙舟赛开赛了。") == ["南海区"]
    assert named("潍坊市滨海新区的输油管道启用。") == [("潍坊市", 1.0), ("滨海新区", 0.0)]
