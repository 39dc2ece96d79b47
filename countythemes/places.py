"""Attributing paragraphs to counties by the codebook's "Places" rules.

Names are found with a gazetteer of today's county-level units, their cities
and provinces, former names and short forms. A name counts only where word
segmentation agrees it is a word (so 兴县 is not found in 振兴县域 or 制定兴县),
and a short form (中阳, 运城) only where the document also names its unit,
city or province.
"""
from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from itertools import compress, count, repeat

LEVELS = ("province", "city", "county")

#: Generic names that are ordinary words far more often than places.
_GENERIC = {"城区", "郊区", "矿区", "新区", "市中区", "开发区", "高新区"}
_PROVINCE_SUFFIX = re.compile(r"(?:省|市|壮族自治区|回族自治区|维吾尔自治区|自治区|特别行政区)$")
_CITY_SUFFIX = re.compile(r"(?:[\u4e00-\u9fff]{1,8}?族)*(?:自治州|地区|盟|市)$")
_COUNTY_SUFFIX = re.compile(r"(?:[\u4e00-\u9fff]{1,8}?族)*(?:自治县|县|区|市)$")

_COUNTY_POINTER = re.compile(r"该县|全县|本县|我县|该区|全区|本区|我区|县委|县政府")
_CITY_POINTER = re.compile(r"该市|全市|我市|本市")
_PROVINCE_POINTER = re.compile(r"该省|全省|我省|本省")


@dataclass(frozen=True)
class Unit:
    """An administrative unit: a province, a prefecture-level city or a county-level unit."""

    level: str
    province: str
    city: str | None = None
    county: str | None = None

    @property
    def name(self) -> str:
        return self.county or self.city or self.province

    def up(self, level: str) -> "Unit | None":
        """The unit that contains this one at a higher level."""
        if level == "province":
            return Unit("province", self.province)
        if level == "city" and self.city:
            return Unit("city", self.province, self.city)
        return None


@dataclass(frozen=True)
class Name:
    surface: str
    unit: Unit
    short: bool
    #: Other names of its unit's family (full name, city, province), one of which the document must
    #: name for this short form to count; empty where the name needs no confirmation.
    family: tuple[str, ...] = ()


@dataclass(frozen=True)
class Mention:
    start: int
    end: int
    unit: Unit


@dataclass(frozen=True)
class Place:
    """Where a paragraph is attributed; ``source`` says whether the paragraph named it."""

    unit: Unit | None
    source: str | None  # "paragraph", "article" or None

    def fields(self) -> dict[str, str | None]:
        unit = self.unit
        return {
            "county": unit.county if unit else None,
            "city": unit.city if unit else None,
            "province": unit.province if unit else None,
            "place_source": self.source,
        }


class Gazetteer:
    """Every name a unit goes by, and every beginning of one (to stop looking early)."""

    def __init__(self, units: list[tuple[Unit, list[str]]]):
        self.units = [unit for unit, _ in units]
        self.names: dict[str, list[Name]] = {}
        for unit, former in units:
            full = unit.name
            if full in _GENERIC:
                continue
            self._add(Name(full, unit, short=False))
            for old in former:
                self._add(Name(old, unit, short=False))
            stem = _short_form(unit)
            if stem and len(stem) >= 2:
                self._add(Name(stem, unit, short=True, family=_family(unit, stem)))
        self.prefixes = {name[:end] for name in self.names for end in range(1, len(name) + 1)}
        #: For each first character, the second characters of the names it begins.
        self.seconds: dict[str, set[str]] = {}
        for name in self.names:  # every name has at least two characters
            self.seconds.setdefault(name[0], set()).add(name[1])

    def _add(self, name: Name) -> None:
        entries = self.names.setdefault(name.surface, [])
        if name not in entries:
            entries.append(name)

    def full_names(self) -> list[str]:
        return sorted({n.surface for ns in self.names.values() for n in ns if not n.short})


def _short_form(unit: Unit) -> str | None:
    name = unit.name
    if unit.level == "province":
        return _PROVINCE_SUFFIX.sub("", name)
    if unit.level == "city":
        return _CITY_SUFFIX.sub("", name)
    if name.endswith("旗"):
        return None
    return _COUNTY_SUFFIX.sub("", name)


def _family(unit: Unit, short: str) -> tuple[str, ...]:
    """The names that confirm a short form: its unit's full name, its city's and its province's."""
    if unit.level == "province":
        return ()
    family = [unit.name, unit.province, _PROVINCE_SUFFIX.sub("", unit.province)]
    if unit.level == "county" and unit.city:
        family += [unit.city, _CITY_SUFFIX.sub("", unit.city)]
    return tuple(dict.fromkeys(member for member in family if member and member != short))


@lru_cache(maxsize=1)
def gazetteer() -> Gazetteer:
    text = resources.files("countythemes.data").joinpath("gazetteer.csv").read_text(encoding="utf-8")
    rows = csv.DictReader(line for line in text.splitlines() if not line.startswith("#"))
    units = []
    for row in rows:
        unit = Unit(row["level"], row["province"], row["city"] or None, row["county"] or None)
        units.append((unit, [f for f in row["former"].split("|") if f]))
    return Gazetteer(units)


# ------------------------------------------------------------------------ mentions


def find_mentions(text: str, context: str, words: list[str] | None = None) -> list[Mention]:
    """Places named in ``text``; ``context`` (the whole document) confirms short forms.

    A name counts only where word segmentation (``words``, made here if not
    given) puts word breaks at both of its ends (so 兴县 is not found in 绍兴县
    or 乡村振兴县域): candidates are the spans between token boundaries, the
    longest name first at each boundary.
    """
    if words is None:
        from .tokens import segment

        words = segment(text)
    gaz = gazetteer()
    prefixes, names = gaz.prefixes, gaz.names
    mentions: list[Mention] = []
    taken_until = 0  # the token after the last mention
    offset = counted = 0  # the characters in the tokens before token ``counted``: summed on, not again each time
    for i in compress(count(), map(prefixes.__contains__, words)):  # no Python step per token
        if i < taken_until:
            continue
        first = words[i]
        if len(first) == 1 and words[i + 1: i + 2] and words[i + 1][0] not in gaz.seconds[first]:
            continue  # a common character (和, 中, 上) that begins no name with the next word
        found = []  # (surface, tokens) of the names of up to seven tokens from here, shortest first
        surface = ""
        for length, word in enumerate(words[i: i + 7], start=1):
            surface += word
            if surface not in prefixes:
                break
            if surface in names:
                found.append((surface, length))
        for surface, length in reversed(found):
            unit = _choose(names[surface], context)
            if unit is not None:
                offset += sum(map(len, words[counted:i]))
                counted, start = i, offset
                mentions.append(Mention(start, start + len(surface), unit))
                taken_until = i + length
                break
    return mentions


@lru_cache(maxsize=65536)
def _named_in(name: str, context: str) -> bool:
    """Cached: a document's context is searched for the same names paragraph after paragraph."""
    return name in context


def _choose(names: list[Name], context: str) -> Unit | None:
    """Pick the unit a name means; short forms need their unit's family in the document."""
    usable = [n for n in names if not n.family or any(map(_named_in, n.family, repeat(context)))]
    if not usable:
        return None
    if len(usable) == 1:
        return usable[0].unit
    # Prefer a unit whose province or city the document names, then full names, then higher levels.
    def score(name: Name) -> tuple:
        unit = name.unit
        in_context = sum(1 for member in (unit.city, unit.province) if member and _named_in(member, context))
        return (-in_context, name.short, LEVELS.index(unit.level))

    return min(usable, key=score).unit


# --------------------------------------------------------------------- attribution


def _named_most(mentions: list[Mention]) -> dict[str, Unit]:
    """For each level named, the unit named most often there; the first named on a tie."""
    times: dict[Unit, int] = {}  # in the order first named
    for mention in mentions:
        times[mention.unit] = times.get(mention.unit, 0) + 1
    most: dict[str, Unit] = {}
    for unit, count_ in times.items():
        if unit.level not in most or count_ > times[most[unit.level]]:
            most[unit.level] = unit
    return most


def _most_specific(mentions: list[Mention]) -> Unit | None:
    most = _named_most(mentions)
    return most.get("county") or most.get("city") or most.get("province")


def attribute(paragraphs: list[str], headline: str, context: str, words: list[list[str]]) -> list[Place]:
    """One place per paragraph, following THEMES.md "Places" rules 1-4 in order.

    ``words`` are the paragraphs' segmentations.
    """
    named = [find_mentions(text, context, tokens) for text, tokens in zip(paragraphs, words)]
    # Rule 3: what the headline or lead is about; where they name nothing, what the article names most.
    article = _most_specific(find_mentions(headline, context)) if headline else None
    article = article or _most_specific([m for mentions in named for m in mentions])
    story: Unit | None = None  # the place the story is at so far (rule 2)
    places = []
    for text, mentions in zip(paragraphs, named):
        most = _named_most(mentions)
        county, city, province = most.get("county"), most.get("city"), most.get("province")
        around = story or article
        place: Place
        if county:                                             # rule 1
            place = Place(county, "paragraph")
        elif around and around.level == "county" and _COUNTY_POINTER.search(text):
            place = Place(around, "article")                   # rule 2: 该县, 全县
        elif (city or (around and around.up("city"))) and _CITY_POINTER.search(text):
            place = Place(city, "paragraph") if city else Place(around.up("city"), "article")
        elif (province or around) and _PROVINCE_POINTER.search(text):
            place = Place(province, "paragraph") if province else Place(around.up("province"), "article")
        elif city:
            place = Place(city, "paragraph")                   # rule 4, named here
        elif around:
            place = Place(around, "article")                   # rules 2 and 3
        elif province:
            place = Place(province, "paragraph")               # rule 4, named here
        else:
            place = Place(None, None)
        if place.unit is not None:
            story = place.unit
        places.append(place)
    return places
