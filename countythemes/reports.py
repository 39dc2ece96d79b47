"""The theme report: each place's theme mix (error-adjusted, with intervals), its trend over the
years, the paragraphs behind each bar, the topics and the classifier, as PNGs, CSVs and one HTML page.

Rows stream: each classified paragraph is written to paragraphs.csv as it
comes (``Tally``) and kept only as a few numbers (place, article, theme,
probabilities, year, topic), so an archive of hundreds of thousands of
paragraphs fits in memory. Counting is separate from drawing: ``county_bars``,
``year_groups`` and ``place_shares`` are pure functions over that table; the
``draw_*`` functions only draw. Every picture uses the Noto Sans CJK font that
mplfonts installs, so Chinese never renders as empty boxes, and the output is
byte-identical from run to run.
"""
from __future__ import annotations

import array
import csv
import functools
import heapq
import html
import io
import re
from dataclasses import dataclass, field
from typing import BinaryIO

import numpy as np

from .errors import CountythemesError
from .labels import spreadsheet_safe
from .records import Paragraph
from .shares import DEFAULT, SAMPLES, ArticleTotals, Calibration, estimates
from .shares import NAMES as ESTIMATOR_NAMES

#: Okabe–Ito colours (distinguishable with colour blindness) for the themes; ``other`` is grey.
PALETTE = ["#E69F00", "#56B4E9", "#009E73", "#CC79A7", "#0072B2", "#D55E00", "#F0E442", "#000000"]
OTHER_COLOUR = "#BBBBBB"
OTHER = "other"
#: The bar of places too small to draw on their own (not the theme ``other``, 其他).
FOLDED = "其余地区"
#: At most this many places get a bar of their own in the picture (the CSV lists every place).
MAX_BARS = 60
#: The places of each level drawn over the years with ``--by``.
TOP_PLACES = 6
#: A bar whose widest 90% interval is wider than this (both sides together) is drawn pale.
WIDE = 0.30
#: Paragraphs shown per place and theme in index.html: the most confident, and as many uncertain.
EVIDENCE = 2
PARAGRAPH_COLUMNS = ["source", "article", "article_index", "article_id", "date", "paragraph", "id", "county",
                     "city", "province", "place_source", "place_evidence", "label", "predicted", "confidence",
                     "uncertain", "topic", "counted", "text"]
LEVELS = ("province", "city", "county")


class ReportError(CountythemesError, ValueError):
    """A report that cannot be made from this corpus as asked; the message says why."""


def encode(paragraph: Paragraph) -> tuple[str, str, str | None]:
    """A paragraphs.csv line's cells but label and counted (which depend on what came before), CSV-encoded
    where the paragraph was classified (in a worker process, so the process writing the file only joins
    them): before label, between, and the text where encoding changed it (else None: the text as it is)."""
    p = paragraph
    text = _csv_cells([p.text])
    return (_csv_cells([p.source, p.article, p.article_index, p.article_id or "", p.date or "", p.paragraph, p.id,
                        p.county or "", p.city or "", p.province or "", p.place_source or "",
                        p.place_evidence or ""]),
            _csv_cells([p.theme, p.confidence, p.uncertain, p.topic]),
            None if text == p.text else text)


#: A classified paragraph and its CSV cells (``encode``; None where they must be made anew).
Row = tuple[Paragraph, "tuple[str, str, str | None] | None"]


_CELLS = io.StringIO()
_CELL_WRITER = csv.writer(_CELLS, lineterminator="")


def _csv_cells(cells: list) -> str:
    """Cells as one CSV line without its end (text cells escaped with ``spreadsheet_safe``); joining such
    pieces with commas gives what one ``writerow`` of all cells gives."""
    _CELLS.seek(0)
    _CELLS.truncate()
    _CELL_WRITER.writerow([spreadsheet_safe(cell) for cell in cells])
    return _CELLS.getvalue()


def theme_order(keys: list[str]) -> list[str]:
    """The themes in codebook order with ``other`` last."""
    return [k for k in keys if k != OTHER] + ([OTHER] if OTHER in keys else [])


_YEAR = re.compile(r"\s*(\d{4})(?!\d)")


@functools.lru_cache(maxsize=4096)
def year_of(date: str | None) -> int:
    """The year of a date such as 2019-03-05 or 2019年3月5日; -1 where there is none."""
    found = _YEAR.match(date or "")
    return int(found[1]) if found and 1900 <= int(found[1]) <= 2100 else -1


@dataclass
class Evidence:
    """A paragraph shown in index.html behind a place's theme."""

    source: str
    article: str
    date: str
    confidence: float
    labeled: bool
    uncertain: bool
    text: str


@dataclass
class Table:
    """The counted paragraphs as numbers, one entry per paragraph (themes as positions in ``order``)."""

    order: list[str]
    places: list[tuple[str, str, str]]  # (province, city, county); "" where unknown
    place: np.ndarray
    article: np.ndarray
    theme: np.ndarray  # the label where there is one, else the prediction
    label: np.ndarray  # -1: not labeled
    probabilities: np.ndarray
    year: np.ndarray  # -1: no date
    topic: np.ndarray

    def totals(self, rows: np.ndarray) -> ArticleTotals:
        return ArticleTotals.of(self.article[rows], self.probabilities[rows], self.label[rows], self.theme[rows])

    def counts(self, rows: np.ndarray) -> np.ndarray:
        return np.bincount(self.theme[rows], minlength=len(self.order)).astype(float)


class Tally:
    """The report's rows as they stream by: each written to ``out`` (paragraphs.csv) at once; a
    paragraph seen before (same id) is listed but not counted again; counted ones are kept as numbers
    (``table``), with the few paragraphs per place and theme that index.html shows."""

    def __init__(self, out: BinaryIO, keys: list[str], labels: dict[str, str]):
        self.order = theme_order(keys)
        self.position = {k: i for i, k in enumerate(self.order)}
        self.labels = labels
        self.text = io.TextIOWrapper(out, encoding="utf-8", newline="", write_through=False)
        self.text.write("\ufeff" + ",".join(PARAGRAPH_COLUMNS) + "\n")
        self.seen: set[str] = set()
        self.places: dict[tuple[str, str, str], int] = {}
        self.articles: dict[str, int] = {}
        self.rows = self.counted = self.labeled = 0
        self._columns = {name: array.array(code) for name, code in
                         (("place", "l"), ("article", "l"), ("theme", "b"), ("label", "b"), ("year", "h"),
                          ("topic", "h"), ("probabilities", "d"))}
        self.confident: dict[tuple[int, int], list] = {}
        self.doubtful: dict[tuple[int, int], list] = {}

    def add_all(self, rows: list[Row]) -> None:
        for row in rows:
            self.add(row)

    def add(self, row: Row) -> None:
        paragraph, cells = row
        label = paragraph.label = self.labels.get(paragraph.id)
        counted = paragraph.id not in self.seen
        self.seen.add(paragraph.id)
        self.rows += 1
        before, between, text = cells or encode(paragraph)
        self.text.write(f"{before},{label or ''},{between},{counted},{paragraph.text if text is None else text}\n")
        if not counted:
            return
        self.counted += 1
        self.labeled += label is not None
        place = self.places.setdefault((paragraph.province or "", paragraph.city or "", paragraph.county or ""),
                                       len(self.places))
        theme = self.position[label or paragraph.theme]
        columns = self._columns
        columns["place"].append(place)
        columns["article"].append(self.articles.setdefault(paragraph.article_key, len(self.articles)))
        columns["theme"].append(theme)
        columns["label"].append(self.position[label] if label else -1)
        columns["year"].append(year_of(paragraph.date))
        columns["topic"].append(paragraph.topic)
        columns["probabilities"].extend(paragraph.scores.get(k, 0.0) for k in self.order)
        self._keep_evidence(place, theme, paragraph)

    def _keep_evidence(self, place: int, theme: int, paragraph: Paragraph) -> None:
        """The ``EVIDENCE`` most confident paragraphs of each place and theme, and as many of the least
        confident among those flagged uncertain; ties go to the earlier paragraph."""
        key, n = (place, theme), self.counted
        _keep(self.confident.setdefault(key, []), (paragraph.confidence, -n), paragraph)
        if paragraph.uncertain and paragraph.label is None:
            _keep(self.doubtful.setdefault(key, []), (-paragraph.confidence, -n), paragraph)

    def close(self) -> None:
        """Everything written through to ``out``."""
        self.text.flush()
        self.text.detach()

    def table(self) -> Table:
        columns = self._columns
        k = len(self.order)
        return Table(order=self.order, places=list(self.places),
                     place=np.asarray(columns["place"], dtype=np.int64),
                     article=np.asarray(columns["article"], dtype=np.int64),
                     theme=np.asarray(columns["theme"], dtype=np.int64),
                     label=np.asarray(columns["label"], dtype=np.int64),
                     probabilities=np.asarray(columns["probabilities"], dtype=np.float64).reshape(-1, k),
                     year=np.asarray(columns["year"], dtype=np.int64),
                     topic=np.asarray(columns["topic"], dtype=np.int64))

    def evidence(self, place: int, theme: int) -> tuple[list[Evidence], list[Evidence]]:
        """(most confident first, least confident first) for one place and theme."""
        confident = [e for _, _, e in sorted(self.confident.get((place, theme), []), key=lambda t: t[:2],
                                             reverse=True)]
        doubtful = [e for _, _, e in sorted(self.doubtful.get((place, theme), []), key=lambda t: t[:2],
                                            reverse=True)]
        return confident, [e for e in doubtful if e not in confident]


def _keep(heap: list, rank: tuple[float, int], paragraph: Paragraph) -> None:
    """Keep the ``EVIDENCE`` paragraphs of largest ``rank`` in a min-heap (an ``Evidence`` made only when kept)."""
    if len(heap) < EVIDENCE or rank > heap[0][:2]:
        shown = Evidence(paragraph.source, paragraph.article, paragraph.date or "", paragraph.confidence,
                         paragraph.label is not None, paragraph.uncertain, paragraph.text)
        (heapq.heappush if len(heap) < EVIDENCE else heapq.heapreplace)(heap, (*rank, shown))


@dataclass
class Shares:
    """A place's (or year's) theme shares by two estimates, each with a 90% interval (None: too few
    articles): ``share`` counts labels and predictions as they are, ``adjusted`` corrects the
    predictions for the classifier's measured errors (``shares.DEFAULT``)."""

    paragraphs: int
    articles: int
    share: np.ndarray
    share_low: np.ndarray | None
    share_high: np.ndarray | None
    adjusted: np.ndarray
    adjusted_low: np.ndarray | None
    adjusted_high: np.ndarray | None

    def widest(self) -> float | None:
        """The widest adjusted 90% interval over the themes (None: no interval)."""
        return None if self.adjusted_low is None else float(np.max(self.adjusted_high - self.adjusted_low))


class Estimator:
    """Shares of any set of paragraphs, corrected by the rates measured in cross-validation; one set of
    resampled training rates is shared by every place (fixed seed), each place resamples its articles."""

    def __init__(self, calibration: Calibration, seed: int, method: str = DEFAULT, samples: int = SAMPLES):
        self.method, self.seed, self.samples = method, seed, samples
        self.rates = calibration.rates()
        self.resampled = calibration.rates(np.random.default_rng([seed, 1]), samples)

    def __call__(self, table: Table, rows: np.ndarray) -> Shares:
        totals = table.totals(rows)
        found = estimates(totals, self.rates, self.resampled, ("cc", self.method), np.random.default_rng(self.seed),
                          self.samples)
        counted, adjusted = found["cc"], found[self.method]
        return Shares(len(rows), totals.articles, counted.share, counted.low, counted.high, adjusted.share,
                      adjusted.low, adjusted.high)


@dataclass
class Bar:
    """One bar of the county chart: a county, a city's paragraphs without a county, or the fold."""

    name: str
    city: str | None
    province: str | None
    rows: np.ndarray  # positions in the Table
    places: list[int] = field(default_factory=list)  # the Table's place numbers in this bar
    members: list[str] = field(default_factory=list)  # the names folded into this bar
    shares: Shares | None = None

    @property
    def paragraphs(self) -> int:
        return len(self.rows)


def _groups(values: np.ndarray) -> dict[int, np.ndarray]:
    """Positions of each distinct value, in order."""
    order = np.argsort(values, kind="stable")
    found, starts = np.unique(values[order], return_index=True)
    return {int(v): rows for v, rows in zip(found, np.split(order, starts[1:]))}


def _place_name(province: str, city: str, county: str) -> str:
    return county or (f"{city}（市级）" if city else "")


def county_bars(table: Table, min_paragraphs: int, max_bars: int | None = None) -> tuple[list[Bar], dict[str, int]]:
    """Bars grouped by province and city, largest first; small ones (and, with ``max_bars``, all but
    the largest ``max_bars``) folded into one bar.

    Paragraphs placed at a city but no county get a bar of their own under
    their city ("（市级）"); those with only a province or no place cannot be
    drawn per county and are counted in the returned ``left_out``.
    """
    left_out = {"province_only": 0, "no_place": 0}
    groups: dict[tuple, list[int]] = {}
    by_place = _groups(table.place)
    for number, (province, city, county) in enumerate(table.places):
        if number not in by_place:
            continue
        if county or city:
            groups.setdefault((province, city, _place_name(province, city, county)), []).append(number)
        else:
            left_out["province_only" if province else "no_place"] += len(by_place[number])
    rows = {key: np.sort(np.concatenate([by_place[n] for n in numbers])) for key, numbers in groups.items()}
    kept = [key for key in rows if len(rows[key]) >= min_paragraphs]
    if max_bars is not None and len(kept) > max_bars:
        kept = sorted(kept, key=lambda k: (-len(rows[k]), k))[:max_bars]
    kept_set = set(kept)
    small = [key for key in rows if key not in kept_set]
    city_size: dict[tuple, int] = {}
    for province, city, _ in kept:
        city_size[(province, city)] = city_size.get((province, city), 0) + len(rows[(province, city, _)])
    order = sorted(kept, key=lambda k: (k[0], -city_size[(k[0], k[1])], k[1], -len(rows[k]), k[2]))
    bars = [Bar(name=k[2], city=k[1] or None, province=k[0] or None, rows=rows[k], places=groups[k])
            for k in order]
    if small:
        names = sorted(small, key=lambda k: (-len(rows[k]), k))
        bars.append(Bar(name=FOLDED, city=None, province=None, rows=np.sort(np.concatenate([rows[k] for k in names])),
                        places=sorted(n for k in names for n in groups[k]), members=[k[2] for k in names]))
    return bars, left_out


def level_groups(table: Table, level: str) -> list[tuple[str, np.ndarray]]:
    """The ``TOP_PLACES`` largest places of a level (province, city or county), with their rows."""
    field_of = LEVELS.index(level)
    names: dict[str, list[int]] = {}
    for number, place in enumerate(table.places):
        if place[field_of]:
            name = place[field_of] if level != "county" else f"{place[2]}（{place[1] or place[0]}）"
            names.setdefault(name, []).append(number)
    rows = {name: np.flatnonzero(np.isin(table.place, numbers)) for name, numbers in names.items()}
    top = sorted(rows, key=lambda name: (-len(rows[name]), name))[:TOP_PLACES]
    return [(name, rows[name]) for name in top if len(rows[name])]


def year_groups(table: Table, rows: np.ndarray) -> list[tuple[int, np.ndarray]]:
    """``rows`` by year, in order; undated paragraphs left out."""
    dated = rows[table.year[rows] >= 0]
    return [(year, dated[positions]) for year, positions in _groups(table.year[dated]).items()]


def topic_theme_matrix(table: Table, k: int) -> np.ndarray:
    """Paragraph counts of each theme among the paragraphs whose dominant topic is each topic (topics ×
    themes, in the table's theme order)."""
    matrix = np.zeros((k, len(table.order)))
    np.add.at(matrix, (table.topic - 1, table.theme), 1.0)
    return matrix


# ------------------------------------------------------------------------ drawing


def chinese_font() -> str:
    """Register the Noto Sans CJK SC font shipped by mplfonts (OFL) and make it the default."""
    from importlib import resources

    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import font_manager, rcParams

    path = str(resources.files("mplfonts").joinpath("fonts", "NotoSansCJKsc-Regular.otf"))
    font_manager.fontManager.addfont(path)
    name = font_manager.FontProperties(fname=path).get_name()
    rcParams["font.family"] = "sans-serif"
    rcParams["font.sans-serif"] = [name]
    rcParams["axes.unicode_minus"] = False
    return name


def _figure(width: float, height: float, layout: str | None = None):
    import matplotlib.pyplot as plt

    return plt.figure(figsize=(width, height), layout=layout)


#: Characters a line of Chinese text never starts with.
_NO_LINE_START = frozenset("，。、；：？！）》」』】〕”’…%,.;:?!)]")


def wrap(text: str, width: float, fontsize: float) -> list[str]:
    """``text`` cut into lines that fit ``width`` inches at ``fontsize`` points (a Chinese character is
    about one em wide, a Latin letter or digit about half). As Chinese typesetting does, no line starts
    with closing punctuation (，。）…): it hangs at the end of the line before."""
    import unicodedata

    limit = width * 72 / fontsize  # ems per line
    lines, line, used = [], "", 0.0
    for ch in text:
        size = 1.0 if unicodedata.east_asian_width(ch) in "WF" else 0.55
        if used + size > limit and line and ch not in _NO_LINE_START:
            lines.append(line)
            line, used = "", 0.0
        line += ch
        used += size
    return lines + ([line] if line else [])


def _notes(notes: list[str], width: float, fontsize: float = 7) -> list[str]:
    return [line for note in notes for line in wrap(note, width, fontsize)]


def _colours(order: list[str]) -> dict[str, str]:
    return {k: (OTHER_COLOUR if k == OTHER else PALETTE[i % len(PALETTE)]) for i, k in enumerate(order)}


def _group_header(bar: Bar) -> str:
    """The city a bar's group sits under, with its province; a municipality (重庆市) once."""
    if bar.members:
        return f"{FOLDED}（段落少或未单独画出的地区）"
    if bar.city and bar.province and bar.city != bar.province:
        return f"{bar.city}（{bar.province}）"
    return bar.city or bar.province or ""


def draw_theme_mix(bars: list[Bar], keys: list[str], names: dict[str, str], notes: list[str],
                   estimator: str = DEFAULT):
    """One stacked horizontal bar per place, grouped under its city: the error-adjusted shares; the
    paragraph and article counts and the widest 90% interval at the right; bars with a wide interval pale."""
    order = theme_order(keys)
    colours = _colours(order)
    notes = _notes(notes, 8.6)
    lines: list[tuple[str, Bar | None]] = []  # city headers and bars, top to bottom
    current = object()
    for bar in bars:
        group = (bar.province, bar.city) if not bar.members else FOLDED
        if group != current:
            lines.append((_group_header(bar), None))
            current = group
        lines.append((bar.name, bar))
    row_height = 0.32
    top_margin, bottom_margin = 1.1, 0.85 + 0.2 * len(notes)
    height = top_margin + bottom_margin + row_height * max(len(lines), 1)
    figure = _figure(9.0, height)
    axes = figure.add_axes((0.2, bottom_margin / height, 0.6, row_height * max(len(lines), 1) / height))
    for position, (label, bar) in enumerate(lines):
        y = len(lines) - 1 - position
        if bar is None:
            axes.text(-0.3, y, label, transform=axes.get_yaxis_transform(), ha="left", va="center",
                      fontsize=9, color="#000000")
            continue
        widest = bar.shares.widest()
        pale = widest is None or widest > WIDE
        left = 0.0
        for key, share in zip(order, bar.shares.adjusted):
            axes.barh(y, share, left=left, height=0.72, color=colours[key], edgecolor="white", linewidth=0.5,
                      alpha=0.45 if pale else 1.0)
            left += share
        interval = "–" if widest is None else f"±{widest / 2:.0%}"
        axes.text(1.02, y, f"{bar.paragraphs} / {bar.shares.articles}", transform=axes.get_yaxis_transform(),
                  va="center", fontsize=8, color="#333333")
        axes.text(1.19, y, interval, transform=axes.get_yaxis_transform(), va="center", fontsize=8,
                  color="#333333")
    axes.set_yticks([len(lines) - 1 - i for i, (_, bar) in enumerate(lines) if bar is not None])
    axes.set_yticklabels([label for label, bar in lines if bar is not None], fontsize=9)
    axes.set_ylim(-0.6, len(lines) - 0.4)
    axes.set_xlim(0, 1)
    axes.xaxis.set_major_formatter(_percent())
    axes.tick_params(axis="x", labelsize=8)
    axes.set_xlabel(f"各主题占该地区段落的比例（{ESTIMATOR_NAMES[estimator]}）", fontsize=9)
    axes.spines[["top", "right"]].set_visible(False)
    axes.text(1.02, 1.0, "段落 / 文章", transform=axes.transAxes, va="bottom", fontsize=8, color="#333333")
    axes.text(1.19, 1.0, "最宽90%区间", transform=axes.transAxes, va="bottom", fontsize=8, color="#333333")
    handles = [_patch(colours[k]) for k in order]
    figure.legend(handles, [names.get(k, k) for k in order], loc="upper center", ncol=len(order), fontsize=8,
                  frameon=False, bbox_to_anchor=(0.5, 1 - 0.55 / height), handlelength=1.2, columnspacing=1.0)
    figure.suptitle("各县段落的主题构成（误差校正后）", y=1 - 0.12 / height, fontsize=13)
    for i, note in enumerate(notes):
        figure.text(0.02, (0.12 + 0.2 * (len(notes) - 1 - i)) / height, note, fontsize=7, color="#444444",
                    ha="left", va="bottom")
    return figure


def draw_by_year(panels: list[tuple[str, list[tuple[int, Shares]]]], keys: list[str], names: dict[str, str],
                 notes: list[str], estimator: str = DEFAULT):
    """Each theme's adjusted share over the years, its 90% interval as a band, one panel per place
    (small multiples on one scale), the paragraphs per year under each."""
    order = theme_order(keys)
    colours = _colours(order)
    columns = min(3, len(panels))
    rows = -(-len(panels) // columns)
    width = max(9.0, 4.2 * columns + 0.8)
    notes = _notes(notes, width - 0.4)
    height = 3.6 * rows + 1.4 + 0.18 * len(notes)
    figure = _figure(width, height)
    years = sorted({year for _, points in panels for year, _ in points})
    grid = figure.add_gridspec(2 * rows, columns, height_ratios=[4, 1] * rows, hspace=0.35, wspace=0.25,
                               left=0.8 / width, right=1 - 0.2 / width, top=1 - 1.1 / height,
                               bottom=(0.45 + 0.18 * len(notes)) / height)
    first = None
    for n, (title, points) in enumerate(panels):
        row, column = divmod(n, columns)
        axes = figure.add_subplot(grid[2 * row, column], sharex=first, sharey=first)
        counts = figure.add_subplot(grid[2 * row + 1, column], sharex=axes)
        first = first or axes
        x = [year for year, _ in points]
        for i, key in enumerate(order):
            # The themes side by side within a year, each point on its interval's line, so that one year
            # (where no band can be drawn) still shows how uncertain its shares are.
            dodge = (i - (len(order) - 1) / 2) * 0.07
            share = [shares.adjusted[i] for _, shares in points]
            axes.plot([year + dodge for year in x], share, "o-", color=colours[key], markersize=3, linewidth=1.4,
                      label=names.get(key, key))
            banded = [(year + dodge, shares) for year, shares in points if shares.adjusted_low is not None]
            low, high = [s.adjusted_low[i] for _, s in banded], [s.adjusted_high[i] for _, s in banded]
            if len(banded) > 1:
                axes.fill_between([y for y, _ in banded], low, high, color=colours[key], alpha=0.12, linewidth=0)
            axes.vlines([y for y, _ in banded], low, high, color=colours[key], linewidth=1.0, alpha=0.8)
        paragraphs = sum(shares.paragraphs for _, shares in points)
        articles = sum(shares.articles for _, shares in points)
        axes.set_title(f"{title}（{paragraphs}段，{articles}篇）", fontsize=10)
        axes.set_ylim(0, 1)
        axes.yaxis.set_major_formatter(_percent())
        axes.tick_params(labelsize=8, labelbottom=False)
        axes.grid(axis="y", color="#EEEEEE")
        axes.spines[["top", "right"]].set_visible(False)
        counts.bar(x, [shares.paragraphs for _, shares in points], color="#999999", width=0.7)
        counts.tick_params(labelsize=7)
        counts.set_ylabel("段落", fontsize=7)
        counts.spines[["top", "right"]].set_visible(False)
        if len(years) > 8:
            counts.set_xticks(years[::2] if len(years) <= 16 else years[::4])
        else:
            counts.set_xticks(years)
        counts.set_xlim(years[0] - 0.6, years[-1] + 0.6)
    figure.legend([_patch(colours[k]) for k in order], [names.get(k, k) for k in order], loc="upper center",
                  ncol=len(order), fontsize=8, frameon=False, bbox_to_anchor=(0.5, 1 - 0.5 / height))
    figure.suptitle(f"各主题占比的逐年变化（{ESTIMATOR_NAMES[estimator]}，竖线与色带为 90% 区间）", y=1 - 0.1 / height,
                    fontsize=12)
    for i, note in enumerate(notes):
        figure.text(0.02, (0.1 + 0.18 * (len(notes) - 1 - i)) / height, note, fontsize=7, color="#444444",
                    ha="left", va="bottom")
    return figure


def _percent():
    from matplotlib.ticker import PercentFormatter

    return PercentFormatter(xmax=1.0, decimals=0)


def _patch(colour: str):
    from matplotlib.patches import Patch

    return Patch(facecolor=colour)


def topic_name(topic: dict) -> str:
    """A topic named by its top three words."""
    return f"话题{topic['topic']}：{'·'.join(topic['words'][:3])}"


def draw_topics(topics: list[dict], topic_word: np.ndarray, vocabulary: list[str]):
    """Each topic's top ten words as small bars, one panel per topic, all on one x scale."""
    index = {w: i for i, w in enumerate(vocabulary)}
    columns = min(3, len(topics))
    rows = -(-len(topics) // columns)
    figure = _figure(4.0 * columns, 3.0 * rows + 0.7)
    weights = {t["topic"]: [topic_word[t["topic"] - 1, index[w]] for w in t["words"][:10]] for t in topics}
    largest = max((max(w) for w in weights.values() if w), default=1.0)
    for n, topic in enumerate(topics):
        axes = figure.add_subplot(rows, columns, n + 1)
        words = topic["words"][:10]
        axes.barh(range(len(words))[::-1], weights[topic["topic"]], color=PALETTE[4], height=0.7)
        axes.set_yticks(range(len(words))[::-1])
        axes.set_yticklabels(words, fontsize=10)
        axes.set_xlim(0, largest * 1.05)
        axes.xaxis.set_major_formatter(_percent_of(largest))
        axes.tick_params(axis="x", labelsize=8)
        axes.spines[["top", "right"]].set_visible(False)
        axes.set_title(f"{topic_name(topic)}（{topic['size']}段）", fontsize=10)
    figure.suptitle("各话题的前十个词（横轴：词在话题中的概率，各图同一刻度）", fontsize=12)
    figure.tight_layout(rect=(0, 0, 1, 0.97))
    return figure


def _percent_of(largest: float):
    from matplotlib.ticker import PercentFormatter

    return PercentFormatter(xmax=1.0, decimals=1 if largest < 0.05 else 0)


#: The coherence curves' colours and styles, one per variant; the chosen K's line takes its variant's.
VARIANTS = (("unseeded", "无种子", "o-", "#0072B2"), ("seeded", "种子词锚定", "s--", "#E69F00"))


def draw_topic_selection(curve: list[dict], k: int, seeded: bool, anchored: int = 5):
    """The coherence curve over K for both variants; the chosen K marked in its variant's colour."""
    figure = _figure(9.0, 4.2)
    chosen_colour = dict((v, c) for v, _, _, c in VARIANTS)["seeded" if seeded else "unseeded"]
    for n, (measure, title) in enumerate((("c_npmi", "c_npmi（越高越好）"), ("u_mass", "u_mass（越高越好）"))):
        axes = figure.add_subplot(1, 2, n + 1)
        for variant, label, style, colour in VARIANTS:
            points = [(row["k"], row[variant][measure]) for row in curve if row.get(variant)]
            if points:
                axes.plot(*zip(*points), style, label=label, markersize=4, linewidth=1.2, color=colour)
        axes.axvline(k, color=chosen_colour, linewidth=1.2, linestyle=":")
        axes.annotate(f"选定 K={k}（{'种子' if seeded else '无种子'}）", xy=(k, 1), xycoords=("data", "axes fraction"),
                      xytext=(0, 3), textcoords="offset points", fontsize=8, color=chosen_colour, ha="center",
                      va="bottom")
        axes.set_xlabel("话题数 K", fontsize=9)
        axes.set_title(title, fontsize=10, pad=16)
        axes.tick_params(labelsize=8)
        axes.spines[["top", "right"]].set_visible(False)
        if n == 0:
            axes.legend(fontsize=8, frameon=False)
    figure.suptitle("话题数的选择：各 K 的一致性", fontsize=12)
    figure.text(0.02, 0.02, f"种子词锚定的曲线从 K={anchored + 1} 起：前 {anchored} 个话题各锚定一个主题，"
                "至少还需 1 个自由话题。", fontsize=8, color="#444444")
    figure.tight_layout(rect=(0, 0.05, 1, 0.95))
    return figure


def _heatmap(figure, axes, matrix: np.ndarray, labels: list[list[str]], colour_map: str, bar_label: str,
             columns: list[str]) -> None:
    """Shares (0 to 1) as colours with ``labels`` in the cells, a colour bar, the columns named below."""
    image = axes.imshow(matrix, cmap=colour_map, vmin=0, vmax=1.0, aspect="auto")
    for (i, j), text in np.ndenumerate(np.array(labels, dtype=object)):
        axes.text(j, i, text, ha="center", va="center", fontsize=8, color="white" if matrix[i, j] > 0.6 else "#222222")
    colour_bar = figure.colorbar(image, ax=axes, shrink=0.8, format=_percent())
    colour_bar.set_label(bar_label, fontsize=8)
    colour_bar.ax.tick_params(labelsize=7)
    axes.set_xticks(range(len(columns)))
    axes.set_xticklabels(columns, fontsize=8, rotation=20, ha="right")


def draw_topic_theme(counts: np.ndarray, topics: list[dict], order: list[str], names: dict[str, str],
                     labeled: int, counted: int):
    """Topic × theme: the share of each theme among each topic's paragraphs, N per row, a colour bar."""
    sizes = counts.sum(axis=1, keepdims=True)
    matrix = np.divide(counts, sizes, out=np.zeros_like(counts), where=sizes > 0)
    figure = _figure(1.1 * len(order) + 4.2, 0.45 * len(topics) + 2.2, layout="constrained")
    axes = figure.add_subplot()
    _heatmap(figure, axes, matrix, [[f"{v:.0%}" if v else "" for v in row] for row in matrix], "Blues",
             "占该话题段落的比例", [names.get(k, k) for k in order])
    axes.set_yticks(range(len(topics)))
    axes.set_yticklabels([f"{topic_name(t)}（N={int(n)}）" for t, n in zip(topics, sizes[:, 0])], fontsize=8)
    basis = "人工标注" if labeled == counted else ("模型预测" if labeled == 0 else
                                                   f"人工标注（{labeled} 段）与模型预测（{counted - labeled} 段）")
    axes.set_title(f"话题与主题：每个话题的段落中各主题的占比\n主题按{basis}计", fontsize=10)
    return figure


def draw_classifier(cross_validation: dict, keys: list[str], names: dict[str, str]):
    """The cross-validated confusion matrix (colours normalised per row), per-theme F1 beside each row."""
    model = cross_validation["model"]
    confusion = np.array(model["confusion"], dtype=float)
    figure = _figure(1.1 * len(keys) + 4.4, 0.5 * len(keys) + 2.8, layout="constrained")
    axes = figure.add_subplot()
    rows = confusion.sum(axis=1, keepdims=True)
    shares = np.divide(confusion, rows, out=np.zeros_like(confusion), where=rows > 0)
    _heatmap(figure, axes, shares, [[f"{int(v)}" for v in row] for row in confusion], "Greens",
             "占该行（同一人工标注）段落的比例", [names.get(k, k) for k in keys])
    axes.set_yticks(range(len(keys)))
    axes.set_yticklabels([f"{names.get(k, k)}  F1 {model['per_theme'][k]['f1']:.2f}  (N={int(n)})"
                          for k, n in zip(keys, rows[:, 0])], fontsize=8)
    axes.set_xlabel("模型预测（格中数字为段落数；颜色按行归一化）", fontsize=9)
    axes.set_ylabel("人工标注", fontsize=9)
    axes.set_title(f"分类器交叉验证（按文章分组，{cross_validation['folds']}折，共 {int(confusion.sum())} 段）\n"
                   f"宏平均F1 {model['macro_f1']:.3f}；基线：多数类 {cross_validation['majority']['macro_f1']:.3f}，"
                   f"典型词 {cross_validation['typical_words']['macro_f1']:.3f}", fontsize=10)
    return figure


def png_bytes(figure, dpi: int) -> bytes:
    """The figure as PNG bytes with no timestamp or version in them, so runs are byte-identical."""
    import matplotlib.pyplot as plt

    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=dpi, metadata={"Software": None})
    plt.close(figure)
    return buffer.getvalue()


def csv_bytes(header: list[str], rows: list[list]) -> bytes:
    """UTF-8 with a BOM, so that spreadsheet programs show the Chinese correctly; text cells that a
    spreadsheet would run as a formula are escaped (``spreadsheet_safe``)."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows([spreadsheet_safe(cell) for cell in row] for row in rows)
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def index_html(title: str, sections: list[tuple[str, str, str]], notes: list[str], files: list[str],
               evidence: str = "") -> bytes:
    """One offline page: each picture with a line on how to read it, the paragraphs behind the bars
    (folded), and links to the CSVs. No scripts, nothing from the internet."""
    parts = [f"<!doctype html><html lang=\"zh-CN\"><head><meta charset=\"utf-8\"><title>{html.escape(title)}</title>",
             "<style>body{font-family:sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222}"
             "img{max-width:100%;border:1px solid #ddd}p.how{color:#444}details{margin:.3em 0 .3em 1em}"
             "summary{cursor:pointer}li{margin:.4em 0}small{color:#666}</style></head><body>",
             f"<h1>{html.escape(title)}</h1>"]
    parts += [f"<p>{html.escape(note)}</p>" for note in notes]
    for image, heading, how in sections:
        parts.append(f"<h2>{html.escape(heading)}</h2><p class=\"how\">{html.escape(how)}</p>"
                     f"<img src=\"{html.escape(image)}\" alt=\"{html.escape(heading)}\">")
    parts.append(evidence)
    parts.append("<h2>数据 Data</h2><ul>" + "".join(f"<li><a href=\"{html.escape(f)}\">{html.escape(f)}</a></li>"
                                                  for f in files) + "</ul></body></html>\n")
    return "".join(parts).encode("utf-8")


def _interval(low, high, i: int) -> str:
    return "" if low is None else f"（90% 区间 {low[i]:.0%}–{high[i]:.0%}）"


def evidence_html(bars: list[Bar], tally: Tally, table: Table, names: dict[str, str]) -> str:
    """For each drawn place and theme, the most confident paragraphs and the uncertain ones, each with
    its source, article, date and confidence, folded in ``<details>``."""
    parts = ["<h2 id=\"evidence\">各地区各主题的段落 The paragraphs behind each bar</h2>"
             "<p class=\"how\">每个地区、每个主题列出模型最有把握的段落，以及被标为“不确定”（置信度低于阈值）的段落；"
             "点击展开。人工标注的段落按标注计。</p>"]
    for bar in bars:
        if bar.members:
            continue
        within = [p for p in (bar.city, bar.province) if p and p != bar.name]
        where = f"{bar.name}（{'，'.join(dict.fromkeys(within))}）" if within else bar.name
        counts = table.counts(bar.rows)
        parts.append(f"<details class=\"place\"><summary>{html.escape(where)}：{bar.paragraphs} 段，"
                     f"{bar.shares.articles} 篇文章</summary>")
        for i, key in enumerate(tally.order):
            confident: list[Evidence] = []
            doubtful: list[Evidence] = []
            for place in bar.places:
                more, unsure = tally.evidence(place, i)
                confident += more
                doubtful += unsure
            if not confident:
                continue
            confident = sorted(confident, key=lambda e: -e.confidence)[:EVIDENCE]
            doubtful = [e for e in sorted(doubtful, key=lambda e: e.confidence) if e not in confident][:EVIDENCE]
            shares = bar.shares
            parts.append(f"<details><summary>{html.escape(names.get(key, key))}：{int(counts[i])} 段按标注或预测归入，"
                         f"校正后占 {shares.adjusted[i]:.0%}{_interval(shares.adjusted_low, shares.adjusted_high, i)}"
                         "</summary><ul>")
            for kind, shown in (("最有把握", confident), ("不确定", doubtful)):
                for e in shown:
                    basis = "人工标注" if e.labeled else f"模型预测，置信度 {e.confidence:.2f}"
                    parts.append(f"<li>{html.escape(e.text)}<br><small>{kind}｜{basis}｜{html.escape(e.source)}｜"
                                 f"《{html.escape(e.article)}》｜{html.escape(e.date or '无日期')}</small></li>")
            parts.append("</ul></details>")
        parts.append("</details>")
    return "".join(parts)


def source_line(corpus: list[str], manifest: dict) -> str:
    trained = manifest.get("trained", "unknown date")
    return f"来源：{', '.join(corpus)}；模型：{trained} 训练（{manifest['training']['labeled']} 段人工标注）"


#: The K rule of topics.K_RULE, as the Chinese page says it.
K_RULE_ZH = "取 c_npmi 均值与最佳 K 相差不超过 0.01 的最小 K（话题越少越易读；小于 0.01 的差别属于噪声）"


# ------------------------------------------------------------------------ building


def encoded_rows(paragraphs: list[Paragraph]) -> list[Row]:
    """Classified paragraphs with their CSV cells, made where they were classified; ``Tally`` then adds
    labels and repeats."""
    return [(paragraph, encode(paragraph)) for paragraph in paragraphs]


def renumbered_row(row: Row, articles_before: int) -> Row:
    """A row of a later input with its article number moved on (its CSV cells then made anew)."""
    paragraph, cells = row
    if articles_before:
        paragraph.article_index += articles_before
        return paragraph, None
    return row


def _cells(shares: Shares, i: int) -> list:
    def rounded(values):
        return "" if values is None else round(float(values[i]), 4)

    return [rounded(shares.share), rounded(shares.share_low), rounded(shares.share_high), rounded(shares.adjusted),
            rounded(shares.adjusted_low), rounded(shares.adjusted_high)]


SHARE_COLUMNS = ["share", "share_low", "share_high", "adjusted_share", "adjusted_low", "adjusted_high"]


def build_report(tally: Tally, corpus: list[str], manifest: dict, topics: dict, names: dict[str, str],
                 out_of_fold: dict, min_paragraphs: int, dpi: int, seed: int, by: str | None = None,
                 method: str = DEFAULT) -> dict[str, bytes]:
    """Every file of the report but paragraphs.csv (which ``tally`` streamed), as bytes, ready to be
    written together."""
    chinese_font()
    table = tally.table()
    order = table.order
    estimator = Estimator(Calibration.from_model(out_of_fold, order), seed, method)
    bars, left_out = county_bars(table, min_paragraphs)
    for bar in bars:
        bar.shares = estimator(table, bar.rows)
    drawn, _ = county_bars(table, min_paragraphs, MAX_BARS)
    known = {(bar.name, bar.city, bar.province): bar.shares for bar in bars if not bar.members}
    for bar in drawn:
        bar.shares = known.get((bar.name, bar.city, bar.province)) if not bar.members else None
        bar.shares = bar.shares or estimator(table, bar.rows)
    counted, labeled = tally.counted, tally.labeled
    method_note = (f"条形为{ESTIMATOR_NAMES[method]} 估计的占比：模型预测按交叉验证测得的误判率校正，人工标注的段落按标注计；"
                   "未校正的占比与两者的 90% 区间见 theme_mix_by_county.csv。")
    notes = [f"{counted} 个段落（{labeled} 个按人工标注计，其余 {counted - labeled} 个按模型预测计）；"
             "条形右侧为段落数 / 文章数，以及各主题 90% 区间中最宽的半宽（浅色条：宽于 ±15%，或文章少于 3 篇而无区间，记作 –）；"
             "重复出现的段落只计一次。", method_note]
    folded = [b for b in drawn if b.members]
    if folded:
        notes.append(f"“{FOLDED}”合并了段落少于 {min_paragraphs} 的地区" +
                     (f"及段落最多的 {MAX_BARS} 个以外的地区" if sum(not b.members for b in bars) > MAX_BARS else "") +
                     f"，共 {len(folded[0].members)} 个：" + "、".join(folded[0].members[:12]) +
                     ("等" if len(folded[0].members) > 12 else "") + "。")
    if any(left_out.values()):
        notes.append(f"未画出：只归到省级的 {left_out['province_only']} 段，无地点的 {left_out['no_place']} 段"
                     "（见 paragraphs.csv）。")
    notes.append(source_line(corpus, manifest))

    files: dict[str, bytes] = {}
    files["theme_mix_by_county.png"] = png_bytes(draw_theme_mix(drawn, order, names, notes, method), dpi)
    files["theme_mix_by_county.csv"] = csv_bytes(
        ["province", "city", "county", "theme", "theme_name", "paragraphs", "articles", *SHARE_COLUMNS,
         "estimator", "folded"],
        [[bar.province or "", bar.city or "", bar.name, key, names.get(key, key), bar.paragraphs,
          bar.shares.articles, *_cells(bar.shares, i), method, "、".join(bar.members)]
         for bar in bars for i, key in enumerate(order)])

    all_rows = np.arange(len(table.place))
    overall = year_groups(table, all_rows)
    if by is not None and not overall:
        raise ReportError(f"--by {by}: the corpus has no dated articles, so there are no years to draw")
    sections_by_year = []
    if overall:
        panels = [("全部段落", [(year, estimator(table, rows)) for year, rows in overall])]
        if by is not None:
            panels += [(name, [(year, estimator(table, r)) for year, r in year_groups(table, rows)])
                       for name, rows in level_groups(table, by)]
        undated = int((table.year < 0).sum())
        year_notes = [f"线为{ESTIMATOR_NAMES[method]} 估计的占比：模型预测按交叉验证测得的误判率校正，人工标注的段落按标注计；"
                      "未校正的占比与两者的 90% 区间见 theme_by_year.csv。",
                      f"{undated} 个无日期的段落未计入。" if undated else "所有段落都有日期。",
                      source_line(corpus, manifest)]
        files["theme_by_year.png"] = png_bytes(draw_by_year(panels, order, names, year_notes, method), dpi)
        files["theme_by_year.csv"] = csv_bytes(
            ["level", "place", "year", "theme", "theme_name", "paragraphs", "articles", *SHARE_COLUMNS, "estimator"],
            [[("all" if n == 0 else by), name, year, key, names.get(key, key), shares.paragraphs, shares.articles,
              *_cells(shares, i), method]
             for n, (name, points) in enumerate(panels) for year, shares in points for i, key in enumerate(order)])
        scope = {"province": "省", "city": "地级市", "county": "县"}
        sections_by_year = [("theme_by_year.png", "逐年变化 Themes over the years",
                             "每条线是一个主题在该年段落中的校正后占比，色带为 90% 区间（文章少于 3 篇的年份无区间）；"
                             "下方灰条是每年的段落数。"
                             + (f"其余小图是段落最多的 {TOP_PLACES} 个{scope[by]}。" if by else
                                "用 --by province|city|county 可加画段落最多的地区。"))]

    topic_word = np.asarray(topics["topic_word"])
    files["topics.png"] = png_bytes(draw_topics(topics["topics"], topic_word, topics["vocabulary"]), dpi)
    files["topic_selection.png"] = png_bytes(draw_topic_selection(topics["curve"], topics["k"], topics["seeded"]), dpi)
    files["topic_theme.png"] = png_bytes(draw_topic_theme(topic_theme_matrix(table, topics["k"]), topics["topics"],
                                                          order, names, labeled, counted), dpi)
    if "cross_validation" in manifest:  # a zero-shot classifier was never cross-validated
        files["classifier.png"] = png_bytes(draw_classifier(manifest["cross_validation"], manifest["theme_order"],
                                                            names), dpi)
    rule = K_RULE_ZH if manifest["topics"]["rule"] != "--topics" else "由 --topics 指定"
    sections = [
        ("theme_mix_by_county.png", "各县的主题构成 Theme mix by county",
         "每个条形是一个县（按所属地级市分组），各色块为该县段落中各主题经误差校正后的占比，灰色为“其他”主题；"
         "右侧是段落数 / 文章数与最宽的 90% 区间。"
         "未校正的占比和每个主题的区间见 theme_mix_by_county.csv（按文章重抽样；少于 3 篇文章的地区不给区间）。"),
        *sections_by_year,
        ("topics.png", "话题 Topics (LDA)", "每个小图是一个 LDA 话题的前十个词，以前三个词命名；条越长，该词在话题中越常见，"
         "各图横轴刻度相同。话题由模型自动发现，需要结合词语判断其含义。"),
        ("topic_selection.png", "话题数的选择 Choosing K",
         f"每个 K 的一致性分数（c_npmi 与 u_mass，越高越好）；虚线为选定的 K，规则：{rule}。"),
        ("topic_theme.png", "话题与主题 Topics against themes",
         "每一行是一个话题（N 为其段落数），格中是该话题段落里各主题的占比；一行集中在一列，说明该话题与该主题对应。"),
        ("classifier.png", "分类器的可靠性 How good the classifier is",
         "按文章分组交叉验证的混淆矩阵：行是人工标注，列是模型预测，对角线为预测正确；颜色按行归一化；行旁为各主题的 F1。"
         "误差校正用的正是这些交叉验证中的误判。"),
    ]
    sections = [section for section in sections if section[0] in files]
    data = ["theme_mix_by_county.csv"] + (["theme_by_year.csv"] if overall else []) + ["paragraphs.csv"]
    files["index.html"] = index_html("县域新闻主题报告", sections, notes, data,
                                     evidence_html(drawn, tally, table, names))
    return files
