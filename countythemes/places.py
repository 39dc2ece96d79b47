"""Attributing paragraphs to counties by the codebook's "Places" rules, weighing the evidence.

THEMES.md's rules say which candidates a paragraph may have (a county it
names, the county whose story it continues, the county the article is about,
else a city or province); the evidence decides between them, and a wrong
county is worse than none:

- a name counts only where word segmentation agrees it is a word (so 兴县 is
  not found in 振兴县域 or 制定兴县), and a short form (中阳, 运城) only where the
  document also names its unit, city or province; a short form that is also an
  ordinary word (和平, 天山, 南部) only where the document names the unit's full
  name or the word stands right after its city or province (台中和平);
- a short form followed by 村, 镇, 乡 … names a village or town (双桥村), not the county;
- a county named in passing is no candidate: where goods or people come from
  (来自浙江湖州), a neighbour (相邻的X县), a birthplace (出生于X县); one named
  with an official's title (X县委书记) weighs less than one named as the scene;
- a paragraph goes on with the story of a county only where it says so (该县,
  全县, 当地, a village or town) or where the headline made the article that
  county's; a city or province named as the paragraph's subject lifts it there,
  and a paragraph about the whole country (全国, 各地, 国务院) has no place;
- towns (镇, 乡, 街道) resolve to their unit only where the document names its
  city or province (town names repeat across China).

Each place carries ``evidence``: the words that decided it, so a researcher can audit a bar.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from itertools import accumulate, compress, count

from .gazetteer import LEVELS, Gazetteer, Name, Unit, gazetteer, short_form

__all__ = ["Place", "Mention", "Unit", "attribute", "find_mentions", "find_named", "gazetteer", "Gazetteer"]

_COUNTY_POINTER = re.compile(r"该县|全县|本县|我县|该区|全区|本区|我区|该旗|全旗|县委|县政府|县里")
_CITY_POINTER = re.compile(r"该市|全市|我市|本市|该州|全州")
_PROVINCE_POINTER = re.compile(r"该省|全省|我省|本省")
#: Words that place a paragraph in a locality: it may go on with the story of the county before it.
_LOCAL = re.compile(r"当地|这里|该县|全县|县里|县城|乡亲|村民|村里|本村|全村|镇上|乡里|村[党委集]|合作社|农户|贫困户|脱贫户")
#: Words of a paragraph about the whole country or the central government.
_NATIONAL = re.compile(r"全国|我国|各地|各省|国务院|党中央|中央[^\s，。]{0,6}(?:会议|工作|部署|要求|财政|企业)|"
                       r"国家[^\s，。]{0,6}(?:部|委|局)|国新办|国资委|(?:农业农村|财政|商务|人力资源和社会保障|"
                       r"教育|民政|自然资源|生态环境|住房和城乡建设|交通运输|水利|文化和旅游|应急管理|中组|中宣)部|中国[^\s，。]{0,4}(?:研究院|残联|协会)")
#: Before a name: it says where goods or people come from or go, a neighbour, or a birthplace.
_PASSING_BEFORE = re.compile(r"(?:来自|产自|运往|销往|发往|远销|出生于|出生在|生于|祖籍|籍贯|"
                             r"相邻的?|毗邻的?|邻近的?|周边的?|隔壁的?)[^，。；！？、\s到在赴去]{0,4}$")
#: After a name: an official's title (the person speaks; the scene may be elsewhere).
_TITLE_AFTER = re.compile(r"^(?:县委|区委|市委|旗委|州委)?(?:常务)?(?:副)?(?:书记|县长|区长|市长|旗长|州长|负责人)")
#: After a city or province: it is part of an organisation's name (天水师范学院, 农业银行天水分行).
_ORGANISATION_AFTER = re.compile(r"^[^，。；！？、：\s“”]{0,10}?(?:公司|学院|大学|分行|支行|银行|医院|集团|研究院|研究所|"
                                 r"农科院|科学院|日报|电视台|协会)")
#: After a short form: it is part of a village's or town's name.
_SETTLEMENT_AFTER = re.compile(r"^(?:村(?!级|庄)|镇(?!江)|乡(?!村|亲|镇|土|愁)|屯|街道|社区|嘎查|苏木)")
#: Before a city or province: it is where someone goes.
_TO_BEFORE = re.compile(r"(?:去|到|赴|往|来到|走进|前往)$")
_CLAUSE_END = re.compile(r"[，。；：！？,;:]")
TITLE_WEIGHT = 0.3


@dataclass(frozen=True)
class Mention:
    """A unit named in a text: where, under which name, how much it says the text is about it, and why."""

    unit: Unit
    surface: str
    start: int
    end: int
    #: 1 for a place named as the scene, less for an official's title, 0 for a passing mention.
    weight: float
    evidence: str


@dataclass(frozen=True)
class Place:
    """Where a paragraph is attributed; ``source`` says whether the paragraph named it."""

    unit: Unit | None
    source: str | None  # "paragraph", "article" or None
    #: The words that decided it, e.g. '"威宁县" (short form of 威宁彝族回族苗族自治县)'.
    evidence: str | None = None

    def fields(self) -> dict[str, str | None]:
        unit = self.unit
        return {
            "county": unit.county if unit else None,
            "city": unit.city if unit else None,
            "province": unit.province if unit else None,
            "place_source": self.source,
            "place_evidence": self.evidence,
        }


# ------------------------------------------------------------------------ mentions


def find_mentions(text: str, context: str, words: list[str] | None = None) -> list[Unit]:
    """The units named in ``text``, in order; ``context`` (the whole document) confirms short forms."""
    return [mention.unit for mention in find_named(text, context, words)]


def find_named(text: str, context: str, words: list[str] | None = None) -> list[Mention]:
    """Each unit (and town) named in ``text``, in order, with its weight and evidence.

    A name counts only where word segmentation (``words``, made here if not
    given) puts word breaks at both of its ends (so 兴县 is not found in 绍兴县
    or 乡村振兴县域): candidates are the spans between token boundaries, the
    longest name first at each boundary.
    """
    if words is None:
        from .tokens import segment

        words = segment(text)
    gaz = gazetteer()
    prefixes, names, towns = gaz.prefixes, gaz.names, gaz.towns
    mentions: list[Mention] = []
    taken_until = 0  # the token after the last mention
    offsets: list[int] | None = None
    for i in compress(count(), map(prefixes.__contains__, words)):  # no Python step per token
        if i < taken_until:
            continue
        first = words[i]
        if len(first) == 1 and words[i + 1: i + 2] and words[i + 1][0] not in gaz.seconds.get(first, ()):
            continue  # a common character (和, 中, 上) that begins no name with the next word
        found = []  # (surface, tokens) of the names of up to seven tokens from here, shortest first
        surface = ""
        for length, word in enumerate(words[i: i + 7], start=1):
            surface += word
            if surface not in prefixes:
                break
            if surface in names or surface in towns:
                found.append((surface, length))
        if not found:
            continue
        if offsets is None:
            offsets = [0, *accumulate(map(len, words))]
            if offsets[-1] != len(text):  # words not of this text: find the span by searching
                offsets = None
        start = offsets[i] if offsets is not None else max(text.find(found[0][0]), 0)
        for surface, length in reversed(found):
            mention = (_name_mention(names[surface], surface, text, start, context) if surface in names
                       else _town_mention(towns[surface], surface, text, start, context))
            if mention is not None:
                mentions.append(mention)
                taken_until = i + length
                break
    return _in_company(mentions, text) if len(mentions) > 1 else mentions


def _in_company(mentions: list[Mention], text: str) -> list[Mention]:
    """A county name right after a city or province that does not hold it (潍坊市滨海新区) is another
    place's name, not this county's: it weighs nothing."""
    out = list(mentions)
    for k, mention in enumerate(mentions):
        if mention.unit.level != "county" or mention.weight == 0:
            continue
        before = mentions[k - 1] if k else None
        if before is not None and before.end == mention.start and before.unit.level != "county" \
                and not before.unit.contains(mention.unit):
            why = f" after {before.surface}, which does not hold it"
        else:
            continue
        out[k] = Mention(mention.unit, mention.surface, mention.start, mention.end, 0.0, mention.evidence + why)
    return out


@lru_cache(maxsize=65536)
def _named_in(name: str, context: str) -> bool:
    """Cached: a document's context is searched for the same names paragraph after paragraph."""
    return name in context


def _name_mention(names: list[Name], surface: str, text: str, start: int, context: str) -> Mention | None:
    end = start + len(surface)
    after = text[end: end + 6]
    if all(n.short for n in names) and _SETTLEMENT_AFTER.match(after):
        return None  # 双桥村, 城关镇: a village or town's name
    before = text[max(0, start - 12): start]
    usable = []
    for name in names:
        confirmed = _confirmation(name, before, context)
        if confirmed is not None:
            usable.append((name, confirmed))
    if not usable:
        return None
    if len(usable) > 1:
        # Prefer a unit whose province or city the document names, then full names, then higher levels.
        def score(pair: tuple[Name, str]) -> tuple:
            unit = pair[0].unit
            in_context = sum(1 for member in (unit.city, unit.province) if member and _named_in(member, context))
            return (-in_context, pair[0].short, LEVELS.index(unit.level))

        usable.sort(key=score)
    name, confirmed = usable[0]
    evidence = f'"{surface}"' + (f" ({name.note})" if name.note else "") + confirmed
    weight = 1.0
    if _PASSING_BEFORE.search(before):
        weight, evidence = 0.0, evidence + " in passing"
    elif name.unit.level != "county" and _ORGANISATION_AFTER.match(text, end, end + 14):
        weight, evidence = 0.0, evidence + " in an organisation's name"
    elif _TITLE_AFTER.match(after):
        weight, evidence = TITLE_WEIGHT, evidence + " with an official's title"
    return Mention(name.unit, surface, start, end, weight, evidence)


def _confirmation(name: Name, before: str, context: str) -> str | None:
    """Why a name counts here ("" for a full name), or None where nothing confirms a short form."""
    family = name.family
    if not name.short or not family:  # a full name, or a province's short form (山西): no other name needed
        return ""
    if name.common:
        # an ordinary word too: its unit's full name in the document, or its city or province just before it
        if _named_in(name.unit.name, context):
            return f" + {name.unit.name} in the article"
        for member in family[1:]:
            if before.endswith(member):
                return f" after {member}"
        return None
    for member in family:
        if _named_in(member, context):
            return f" + {member} in the article"
    return None


def _town_mention(towns: list, surface: str, text: str, start: int, context: str) -> Mention | None:
    """A town counts where the document names its city or province (town names repeat across China)."""
    for town in towns:
        unit = town.unit
        for member in _town_family(unit):
            if _named_in(member, context):
                return Mention(unit, surface, start, start + len(surface), 1.0,
                               f'town "{surface}" of {unit.name} + {member} in the article')
    return None


@lru_cache(maxsize=4096)
def _town_family(unit: Unit) -> tuple[str, ...]:
    """The names that confirm a town: its county's, city's and province's, full and short."""
    names = []
    for level in ("county", "city", "province"):
        part = unit.up(level) if level != "county" else (unit if unit.level == "county" else None)
        if part is not None:
            names += [part.name, short_form(part) or part.name]
    return tuple(dict.fromkeys(name for name in names if len(name) >= 2))


# --------------------------------------------------------------------- attribution


def _chosen(mentions: list[Mention], level: str, prefer: Unit | None) -> Mention | None:
    """The unit of ``level`` the text is mainly about: the most weight, then ``prefer``, then the first."""
    weights: dict[Unit, float] = {}
    first: dict[Unit, Mention] = {}
    for mention in mentions:
        if mention.unit.level == level and mention.weight > 0:
            weights[mention.unit] = weights.get(mention.unit, 0.0) + mention.weight
            first.setdefault(mention.unit, mention)
    if not weights:
        return None
    best = max(weights.items(), key=lambda kv: (kv[1] + (0.5 if kv[0] == prefer else 0.0)))[0]
    return first[best]


def _lifts(mention: Mention, text: str, story: Unit, settled: Unit | None) -> bool:
    """Whether a city or province named in a story already placed is what the paragraph reports on.

    Never where someone only goes there (去绵阳市里, 到成都). A unit elsewhere lifts
    the paragraph where it is the first clause's subject (a county's story) or
    always (a city's story). A unit that holds the story's place: in the
    article's own county's story, one at the head of a clause (……，运城市牢牢筑起……,
    目前，河南省通过……); in a story that named a county as an example, any; in a
    city's story, none (its province is background).
    """
    if _TO_BEFORE.search(text, max(0, mention.start - 3), mention.start) or text.startswith(("里", "城里"), mention.end):
        return False
    if not mention.unit.contains(story):
        if story.level != "county":
            return True
        end = _CLAUSE_END.search(text)
        return mention.start < (end.start() if end else len(text))
    if story.level != "county":
        return False
    if story != settled:
        return True
    return mention.start == 0 or text[mention.start - 1] in "，。；：！？,;:"


#: How far into the lead (a dateline such as 央视网消息（新闻联播）： included) a story names its county.
LEAD_OPENING = 40


def _article_county(named: list[list[Mention]]) -> Mention | None:
    """Rule 3 where the headline names no county: the lead's county where the article names no other
    (named in the lead's opening words, as a story about it does: 在贵州大方县……),
    or the one it keeps naming (in two paragraphs or more, with two thirds of all the weight the article
    gives counties)."""
    weights: dict[Unit, float] = {}
    paragraphs: dict[Unit, int] = {}
    first: dict[Unit, Mention] = {}
    for mentions in named:
        seen = set()
        for mention in mentions:
            if mention.unit.level == "county" and mention.weight > 0:
                weights[mention.unit] = weights.get(mention.unit, 0.0) + mention.weight
                first.setdefault(mention.unit, mention)
                if mention.unit not in seen:
                    paragraphs[mention.unit] = paragraphs.get(mention.unit, 0) + 1
                    seen.add(mention.unit)
    if not weights:
        return None
    best = max(weights, key=weights.__getitem__)
    only_in_lead = len(weights) == 1 and any(m.unit == best and m.weight > 0 and m.start < LEAD_OPENING
                                             for m in named[0])
    if only_in_lead or paragraphs[best] >= 2 and weights[best] >= 2 / 3 * sum(weights.values()):
        return first[best]
    return None


def attribute(paragraphs: list[str], headline: str, context: str, words: list[list[str]]) -> list[Place]:
    """One place per paragraph, following THEMES.md "Places" rules 1-4 in order.

    ``words`` are the paragraphs' segmentations.
    """
    named = [find_named(text, context, tokens) for text, tokens in zip(paragraphs, words)]
    # Rule 3: what the headline (title, kicker, subtitle, lead marker's line) says the article is about,
    # else the county the whole article keeps naming.
    article: Mention | None = None
    why = ""
    if headline:
        in_headline = find_named(headline, context)
        article = (_chosen(in_headline, "county", None) or _chosen(in_headline, "city", None)
                   or _chosen(in_headline, "province", None))
        why = " in the headline"
    if article is None or article.unit.level != "county":
        kept = _article_county(named)
        if kept is not None:
            article, why = kept, " named throughout the article"
    story: Unit | None = article.unit if article else None  # the place the story is at so far (rule 2)
    settled = story if story is not None and story.level == "county" else None  # the article's county
    story_why = f"{article.evidence}{why}" if article else ""
    places = []
    for text, mentions in zip(paragraphs, named):
        at_county = story is not None and story.level == "county"
        county = _chosen(mentions, "county", story if at_county else None)
        city = _chosen(mentions, "city", None)
        province = _chosen(mentions, "province", None)
        place: Place
        if county:                                                         # rule 1
            place = Place(county.unit, "paragraph", county.evidence)
        elif at_county and (pointer := _COUNTY_POINTER.search(text)):      # rule 2: 该县, 全县
            place = Place(story, "article", f"{pointer.group()} → {story_why}")
        elif (city or (story and story.up("city"))) and (pointer := _CITY_POINTER.search(text)):
            place = (Place(city.unit, "paragraph", f"{city.evidence}, {pointer.group()}") if city
                     else Place(story.up("city"), "article", f"{pointer.group()} → {story_why}"))
        elif (province or story) and (pointer := _PROVINCE_POINTER.search(text)):
            place = (Place(province.unit, "paragraph", f"{province.evidence}, {pointer.group()}") if province
                     else Place(story.up("province"), "article", f"{pointer.group()} → {story_why}"))
        else:
            place = _without_pointer(text, city or province, story, story_why, settled, article)
        unit = place.unit
        if unit is not None and place.source == "paragraph" and not (
                settled is not None and story == settled and unit.level != "county" and unit.contains(story)):
            # a new place; a lift to the article's county's own city or province leaves the story there
            story = unit
            story_why = f"{place.evidence} in an earlier paragraph"
        places.append(place)
    return places


def _without_pointer(text: str, named: Mention | None, story: Unit | None, story_why: str,
                     settled: Unit | None, article: Mention | None) -> Place:
    """Rules 2-4 for a paragraph that names no county and has no pointer word.

    It goes on with the article's county (its headline's, or the one it keeps
    naming) unless it is about the whole country; with a county an earlier
    paragraph named (an example in a wider story) only where it speaks of a
    locality (当地, 村民, 合作社 …); else it stays with the headline's city or province.
    """
    at_county = story is not None and story.level == "county"
    if named and (story is None or _lifts(named, text, story, settled)):
        return Place(named.unit, "paragraph", named.evidence)               # rule 4, named here
    if story is not None:
        national = _NATIONAL.search(text)
        local = _LOCAL.search(text)
        if national and not local:
            return Place(None, None, f"about the whole country ({national.group()})")
        if not at_county or story == settled or local:
            return Place(story, "article", f"continues {story_why}")       # rules 2 and 3
        if article is not None and article.unit.level != "county":
            return Place(article.unit, "article", f"{article.evidence} in the headline")
    if named:
        return Place(named.unit, "paragraph", named.evidence)
    return Place(None, None, None)
