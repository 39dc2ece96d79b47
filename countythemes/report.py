"""The theme report: each county's theme mix, the topics and the classifier, as PNGs, CSVs
and one HTML page.

Counting is separate from drawing: ``county_bars`` and ``bootstrap_shares``
are pure functions over plain rows; the ``draw_*`` functions only draw. Every
picture uses the Noto Sans CJK font that mplfonts installs, so Chinese never
renders as empty boxes, and the output is byte-identical from run to run.
"""
from __future__ import annotations

import csv
import html
import io
from dataclasses import dataclass, field
from typing import Iterable

import numpy as np

from .labels import spreadsheet_safe

#: Okabe–Ito colours (distinguishable with colour blindness) for the themes; ``other`` is grey.
PALETTE = ["#E69F00", "#56B4E9", "#009E73", "#CC79A7", "#0072B2", "#D55E00", "#F0E442", "#000000"]
OTHER_COLOUR = "#BBBBBB"
OTHER = "other"
BOOTSTRAP_SAMPLES = 1000
#: Below this many articles, resampling articles cannot show how uncertain a share is.
MIN_ARTICLES_FOR_INTERVAL = 3
FOLDED = "其他"


@dataclass
class ReportRow:
    """One paragraph as the report sees it."""

    source: str
    article: str
    article_index: int
    article_id: str | None
    date: str | None
    paragraph: int
    id: str
    county: str | None
    city: str | None
    province: str | None
    place_source: str | None
    label: str | None
    predicted: str
    confidence: float
    uncertain: bool
    topic: int
    counted: bool  # False for a repeat of a paragraph already counted elsewhere
    text: str
    #: The words that decided the place (see places.Place.evidence).
    place_evidence: str | None = None

    @property
    def theme(self) -> str:
        """The label where there is one, else the prediction."""
        return self.label or self.predicted

    @property
    def article_key(self) -> str:
        return f"{self.source}#{self.article_index}"


@dataclass
class Bar:
    """One bar of the county chart: a county, a city's paragraphs without a county, or the fold."""

    name: str
    city: str | None
    province: str | None
    rows: list[ReportRow]
    members: list[str] = field(default_factory=list)  # the names folded into this bar

    def counts(self, keys: list[str]) -> np.ndarray:
        themes = [r.theme for r in self.rows]
        return np.array([themes.count(k) for k in keys], dtype=float)


def theme_order(keys: list[str]) -> list[str]:
    """The themes in codebook order with ``other`` last."""
    return [k for k in keys if k != OTHER] + ([OTHER] if OTHER in keys else [])


def county_bars(rows: list[ReportRow], min_paragraphs: int) -> tuple[list[Bar], dict[str, int]]:
    """Bars grouped by province and city, largest first; small ones folded into one bar.

    Paragraphs placed at a city but no county get a bar of their own under
    their city ("（市级）"); those with only a province or no place cannot be
    drawn per county and are counted in the returned ``left_out``.
    """
    groups: dict[tuple, list[ReportRow]] = {}
    left_out = {"province_only": 0, "no_place": 0}
    for row in rows:
        if not row.counted:
            continue
        if row.county:
            key = (row.province or "", row.city or "", row.county)
        elif row.city:
            key = (row.province or "", row.city, f"{row.city}（市级）")
        else:
            left_out["province_only" if row.province else "no_place"] += 1
            continue
        groups.setdefault(key, []).append(row)
    kept = {k: v for k, v in groups.items() if len(v) >= min_paragraphs}
    small = {k: v for k, v in groups.items() if len(v) < min_paragraphs}
    city_size: dict[tuple, int] = {}
    for (province, city, _), members in kept.items():
        city_size[(province, city)] = city_size.get((province, city), 0) + len(members)
    order = sorted(kept, key=lambda k: (k[0], -city_size[(k[0], k[1])], k[1], -len(kept[k]), k[2]))
    bars = [Bar(name=k[2], city=k[1] or None, province=k[0] or None, rows=kept[k]) for k in order]
    if small:
        names = sorted(small, key=lambda k: (-len(small[k]), k))
        bars.append(Bar(name=FOLDED, city=None, province=None,
                        rows=[r for k in names for r in small[k]], members=[k[2] for k in names]))
    return bars, left_out


def bootstrap_shares(bar: Bar, keys: list[str], seed: int, samples: int = BOOTSTRAP_SAMPLES) -> np.ndarray:
    """5th and 95th percentiles of each theme's share, resampling the bar's articles.

    Paragraphs of one article are not independent (one story, one reporter),
    so articles, not paragraphs, are drawn with replacement. Shape (2, themes).
    """
    articles: dict[str, np.ndarray] = {}
    for row in bar.rows:
        counts = articles.setdefault(row.article_key, np.zeros(len(keys)))
        counts[keys.index(row.theme)] += 1
    matrix = np.array(list(articles.values()))
    rng = np.random.default_rng(seed)
    picks = rng.integers(0, len(matrix), size=(samples, len(matrix)))
    totals = matrix[picks].sum(axis=1)
    shares = totals / totals.sum(axis=1, keepdims=True)
    return np.percentile(shares, [5, 95], axis=0)


def topic_theme_matrix(rows: list[ReportRow], k: int, keys: list[str]) -> np.ndarray:
    """Share of each theme among the paragraphs whose dominant topic is each topic (topics × themes)."""
    matrix = np.zeros((k, len(keys)))
    for row in rows:
        if row.counted:
            matrix[row.topic - 1, keys.index(row.theme)] += 1
    sizes = matrix.sum(axis=1, keepdims=True)
    return np.divide(matrix, sizes, out=np.zeros_like(matrix), where=sizes > 0)


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


def draw_theme_mix(bars: list[Bar], keys: list[str], names: dict[str, str], notes: list[str]):
    """One stacked horizontal bar per county, grouped under its city, with counts and notes."""
    order = theme_order(keys)
    colours = {k: (OTHER_COLOUR if k == OTHER else PALETTE[i % len(PALETTE)]) for i, k in enumerate(order)}
    lines: list[tuple[str, Bar | None]] = []  # city headers and bars, top to bottom
    current = object()
    for bar in bars:
        group = (bar.province, bar.city) if bar.members == [] else None
        if group != current:
            header = f"{bar.city or ''}（{bar.province}）" if bar.city and bar.province else \
                (bar.city or bar.province or "")
            lines.append((header if group else "", None))
            current = group
        lines.append((bar.name, bar))
    row_height = 0.32
    top_margin, bottom_margin = 1.1, 0.5 + 0.2 * len(notes)
    height = top_margin + bottom_margin + row_height * max(len(lines), 1)
    figure = _figure(9.0, height)
    axes = figure.add_axes((0.2, bottom_margin / height, 0.68, row_height * max(len(lines), 1) / height))
    for position, (label, bar) in enumerate(lines):
        y = len(lines) - 1 - position
        if bar is None:
            axes.text(-0.27, y, label, transform=axes.get_yaxis_transform(), ha="left", va="center",
                      fontsize=9, color="#000000")
            continue
        counts = bar.counts(order)
        shares = counts / counts.sum()
        left = 0.0
        for key, share in zip(order, shares):
            axes.barh(y, share, left=left, height=0.72, color=colours[key], edgecolor="white", linewidth=0.5)
            left += share
        axes.text(1.01, y, f"{len(bar.rows)}", transform=axes.get_yaxis_transform(), va="center", fontsize=8,
                  color="#333333")
    axes.set_yticks([len(lines) - 1 - i for i, (_, bar) in enumerate(lines) if bar is not None])
    axes.set_yticklabels([label for label, bar in lines if bar is not None], fontsize=9)
    axes.set_ylim(-0.6, len(lines) - 0.4)
    axes.set_xlim(0, 1)
    axes.xaxis.set_major_formatter(_percent())
    axes.tick_params(axis="x", labelsize=8)
    axes.spines[["top", "right"]].set_visible(False)
    axes.text(1.01, 1.0, "段落数", transform=axes.transAxes, va="bottom", fontsize=8, color="#333333")
    handles = [_patch(colours[k]) for k in order]
    figure.legend(handles, [names.get(k, k) for k in order], loc="upper center", ncol=len(order), fontsize=8,
                  frameon=False, bbox_to_anchor=(0.5, 1 - 0.55 / height), handlelength=1.2, columnspacing=1.0)
    figure.suptitle("各县段落的主题构成", y=1 - 0.12 / height, fontsize=13)
    for i, note in enumerate(notes):
        figure.text(0.02, (0.12 + 0.2 * (len(notes) - 1 - i)) / height, note, fontsize=7, color="#444444",
                    ha="left", va="bottom")
    return figure


def _percent():
    from matplotlib.ticker import PercentFormatter

    return PercentFormatter(xmax=1.0, decimals=0)


def _patch(colour: str):
    from matplotlib.patches import Patch

    return Patch(facecolor=colour)


def draw_topics(topics: list[dict], topic_word: np.ndarray, vocabulary: list[str]):
    """Each topic's top ten words as small bars, one panel per topic."""
    index = {w: i for i, w in enumerate(vocabulary)}
    columns = min(4, len(topics))
    rows = -(-len(topics) // columns)
    figure = _figure(3.0 * columns, 2.6 * rows + 0.6)
    for n, topic in enumerate(topics):
        axes = figure.add_subplot(rows, columns, n + 1)
        words = topic["words"][:10]
        weights = [topic_word[topic["topic"] - 1, index[w]] for w in words]
        axes.barh(range(len(words))[::-1], weights, color=PALETTE[4], height=0.7)
        axes.set_yticks(range(len(words))[::-1])
        axes.set_yticklabels(words, fontsize=8)
        axes.tick_params(axis="x", labelsize=7)
        axes.spines[["top", "right"]].set_visible(False)
        axes.set_title(f"话题{topic['topic']}（{topic['size']}段）", fontsize=9)
    figure.suptitle("各话题的前十个词（横轴：词在话题中的概率）", fontsize=12)
    figure.tight_layout(rect=(0, 0, 1, 0.97))
    return figure


def draw_topic_selection(curve: list[dict], k: int, seeded: bool):
    """The coherence curve over K for both variants; the chosen K marked."""
    figure = _figure(9.0, 3.6)
    for n, (measure, title) in enumerate((("c_npmi", "c_npmi（越高越好）"), ("u_mass", "u_mass（越高越好）"))):
        axes = figure.add_subplot(1, 2, n + 1)
        for variant, label, style in (("unseeded", "无种子", "o-"), ("seeded", "种子词锚定", "s--")):
            points = [(row["k"], row[variant][measure]) for row in curve if row.get(variant)]
            if points:
                axes.plot(*zip(*points), style, label=label, markersize=4, linewidth=1.2)
        axes.axvline(k, color="#D55E00", linewidth=1, linestyle=":")
        axes.annotate(f"选定 K={k}（{'种子' if seeded else '无种子'}）", xy=(k, 0), xycoords=("data", "axes fraction"),
                      xytext=(4, 4), textcoords="offset points", fontsize=8, color="#D55E00")
        axes.set_xlabel("话题数 K", fontsize=9)
        axes.set_title(title, fontsize=10)
        axes.tick_params(labelsize=8)
        axes.spines[["top", "right"]].set_visible(False)
        if n == 0:
            axes.legend(fontsize=8, frameon=False)
    figure.suptitle("话题数的选择：各 K 的一致性", fontsize=12)
    figure.tight_layout(rect=(0, 0, 1, 0.94))
    return figure


def _heatmap(axes, matrix: np.ndarray, labels: list[list[str]], colour_map: str, maximum: float):
    axes.imshow(matrix, cmap=colour_map, vmin=0, vmax=maximum, aspect="auto")
    for (i, j), text in np.ndenumerate(np.array(labels, dtype=object)):
        dark = matrix[i, j] > 0.6 * maximum
        axes.text(j, i, text, ha="center", va="center", fontsize=8, color="white" if dark else "#222222")


def draw_topic_theme(matrix: np.ndarray, topics: list[dict], keys: list[str], names: dict[str, str]):
    """Topic × theme: the share of each theme among each topic's paragraphs."""
    order = theme_order(keys)
    matrix = matrix[:, [keys.index(k) for k in order]]
    figure = _figure(1.1 * len(order) + 3.0, 0.45 * len(topics) + 1.8, layout="constrained")
    axes = figure.add_subplot()
    _heatmap(axes, matrix, [[f"{v:.0%}" if v else "" for v in row] for row in matrix], "Blues", 1.0)
    axes.set_xticks(range(len(order)))
    axes.set_xticklabels([names.get(k, k) for k in order], fontsize=8, rotation=20, ha="right")
    axes.set_yticks(range(len(topics)))
    axes.set_yticklabels([f"话题{t['topic']}：{' '.join(t['words'][:3])}" for t in topics], fontsize=8)
    axes.set_title("话题与主题：每个话题的段落中各主题的占比", fontsize=11)
    return figure


def draw_classifier(cross_validation: dict, keys: list[str], names: dict[str, str]):
    """The cross-validated confusion matrix, per-theme F1 beside each row."""
    model = cross_validation["model"]
    confusion = np.array(model["confusion"], dtype=float)
    figure = _figure(1.1 * len(keys) + 3.6, 0.5 * len(keys) + 2.4, layout="constrained")
    axes = figure.add_subplot()
    rows = confusion.sum(axis=1, keepdims=True)
    shares = np.divide(confusion, rows, out=np.zeros_like(confusion), where=rows > 0)
    _heatmap(axes, shares, [[f"{int(v)}" for v in row] for row in confusion], "Greens", 1.0)
    axes.set_xticks(range(len(keys)))
    axes.set_xticklabels([names.get(k, k) for k in keys], fontsize=8, rotation=20, ha="right")
    axes.set_yticks(range(len(keys)))
    axes.set_yticklabels([f"{names.get(k, k)}  F1 {model['per_theme'][k]['f1']:.2f}" for k in keys], fontsize=8)
    axes.set_xlabel("模型预测", fontsize=9)
    axes.set_ylabel("人工标注", fontsize=9)
    axes.set_title(f"分类器交叉验证（按文章分组，{cross_validation['folds']}折）\n宏平均F1 {model['macro_f1']:.3f}；"
                   f"基线：多数类 {cross_validation['majority']['macro_f1']:.3f}，"
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


def index_html(title: str, sections: list[tuple[str, str, str]], notes: list[str], files: list[str]) -> bytes:
    """One offline page: each picture with a line on how to read it, and links to the CSVs."""
    parts = [f"<!doctype html><html lang=\"zh-CN\"><head><meta charset=\"utf-8\"><title>{html.escape(title)}</title>",
             "<style>body{font-family:sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222}"
             "img{max-width:100%;border:1px solid #ddd}p.how{color:#444}</style></head><body>",
             f"<h1>{html.escape(title)}</h1>"]
    parts += [f"<p>{html.escape(note)}</p>" for note in notes]
    for image, heading, how in sections:
        parts.append(f"<h2>{html.escape(heading)}</h2><p class=\"how\">{html.escape(how)}</p>"
                     f"<img src=\"{html.escape(image)}\" alt=\"{html.escape(heading)}\">")
    parts.append("<h2>数据 Data</h2><ul>" + "".join(f"<li><a href=\"{html.escape(f)}\">{html.escape(f)}</a></li>"
                                                  for f in files) + "</ul></body></html>\n")
    return "".join(parts).encode("utf-8")


def source_line(corpus: list[str], manifest: dict) -> str:
    trained = manifest.get("trained", "unknown date")
    return f"来源：{', '.join(corpus)}；模型：{trained} 训练（{manifest['training']['labeled']} 段人工标注）"


# ------------------------------------------------------------------------ building


def paragraph_rows(paragraphs: list, theme_scorer, topic_scorer) -> list[ReportRow]:
    """A batch of paragraphs, classified, as report rows; ``report_rows`` then adds labels and repeats."""
    words = [p.words for p in paragraphs]
    verdicts = theme_scorer.classify_all([p.text for p in paragraphs], words)
    topics = topic_scorer.topics(words)
    return [ReportRow(
        source=p.source, article=p.article, article_index=p.article_index, article_id=p.article_id, date=p.date,
        paragraph=p.paragraph, id=p.id,
        county=p.county, city=p.city, province=p.province, place_source=p.place_source,
        label=None, predicted=verdict["theme"], confidence=verdict["confidence"],
        uncertain=verdict["uncertain"], topic=topic["topic"], counted=True, text=p.text,
        place_evidence=p.place_evidence)
        for p, verdict, topic in zip(paragraphs, verdicts, topics)]


def report_rows(rows: Iterable[ReportRow], labels: dict[str, str]) -> list[ReportRow]:
    """Every row with its label; a paragraph seen before (same id) is listed but not counted again."""
    listed, seen = [], set()
    for row in rows:
        row.label = labels.get(row.id)
        row.counted = row.id not in seen
        seen.add(row.id)
        listed.append(row)
    return listed


def build_report(rows: list[ReportRow], corpus: list[str], manifest: dict, topics: dict, names: dict[str, str],
                 keys: list[str], min_paragraphs: int, dpi: int, seed: int) -> dict[str, bytes]:
    """Every file of the report, as bytes, ready to be written together."""
    chinese_font()
    order = theme_order(keys)
    bars, left_out = county_bars(rows, min_paragraphs)
    counted = sum(r.counted for r in rows)
    labeled = sum(r.counted and r.label is not None for r in rows)
    notes = [f"{counted} 个段落（{labeled} 个按人工标注计，其余 {counted - labeled} 个按模型预测计）；"
             f"条形右侧数字为段落数；重复出现的段落只计一次。"]
    bar_of = [b for b in bars if b.members]
    if bar_of:
        folded = bar_of[0]
        notes.append(f"“{FOLDED}”合并了段落少于 {min_paragraphs} 的 {len(folded.members)} 个地区："
                     + "、".join(folded.members[:12]) + ("等" if len(folded.members) > 12 else "") + "。")
    if any(left_out.values()):
        notes.append(f"未画出：只归到省级的 {left_out['province_only']} 段，无地点的 {left_out['no_place']} 段"
                     "（见 paragraphs.csv）。")
    notes.append(source_line(corpus, manifest))

    files: dict[str, bytes] = {}
    files["theme_mix_by_county.png"] = png_bytes(draw_theme_mix(bars, keys, names, notes), dpi)
    mix_rows = []
    for bar in bars:
        counts = bar.counts(order)
        articles = len({r.article_key for r in bar.rows})
        low, high = bootstrap_shares(bar, order, seed)
        cells = []
        for i in range(len(order)):
            interval = [round(float(low[i]), 4), round(float(high[i]), 4)] \
                if articles >= MIN_ARTICLES_FOR_INTERVAL else ["", ""]
            cells += [round(counts[i] / counts.sum(), 4), *interval]
        mix_rows.append([bar.province or "", bar.city or "", bar.name, len(bar.rows), articles, *cells,
                         "、".join(bar.members)])
    files["theme_mix_by_county.csv"] = csv_bytes(
        ["province", "city", "county", "paragraphs", "articles",
         *[f"{k}_{part}" for k in order for part in ("share", "low90", "high90")], "folded"], mix_rows)

    topic_word = np.asarray(topics["topic_word"])
    files["topics.png"] = png_bytes(draw_topics(topics["topics"], topic_word, topics["vocabulary"]), dpi)
    files["topic_selection.png"] = png_bytes(draw_topic_selection(topics["curve"], topics["k"], topics["seeded"]), dpi)
    matrix = topic_theme_matrix(rows, topics["k"], keys)
    files["topic_theme.png"] = png_bytes(draw_topic_theme(matrix, topics["topics"], keys, names), dpi)
    files["classifier.png"] = png_bytes(draw_classifier(manifest["cross_validation"], keys, names), dpi)
    files["paragraphs.csv"] = csv_bytes(
        ["source", "article", "article_index", "article_id", "date", "paragraph", "id", "county", "city", "province",
         "place_source", "place_evidence", "label", "predicted", "confidence", "uncertain", "topic", "counted",
         "text"],
        [[r.source, r.article, r.article_index, r.article_id or "", r.date or "", r.paragraph, r.id, r.county or "",
          r.city or "", r.province or "",
          r.place_source or "", r.place_evidence or "", r.label or "", r.predicted, r.confidence, r.uncertain, r.topic, r.counted, r.text]
         for r in rows])
    sections = [
        ("theme_mix_by_county.png", "各县的主题构成 Theme mix by county",
         "每个条形是一个县（按所属地级市分组），各色块为该县段落中各主题的占比，灰色为“其他”；右侧数字是段落数。"
         "段落少的县不确定性大：90% 区间见 theme_mix_by_county.csv（按文章重抽样；少于 3 篇文章的地区不给区间）。"),
        ("topics.png", "话题 Topics (LDA)", "每个小图是一个 LDA 话题的前十个词；条越长，该词在话题中越常见。"
         "话题由模型自动发现，需要结合词语判断其含义。"),
        ("topic_selection.png", "话题数的选择 Choosing K",
         f"每个 K 的一致性分数（c_npmi 与 u_mass，越高越好）；虚线为选定的 K，规则：{manifest['topics']['rule']}。"),
        ("topic_theme.png", "话题与主题 Topics against themes",
         "每一行是一个话题，格中是该话题段落里各主题的占比；一行集中在一列，说明该话题与该主题对应。"),
        ("classifier.png", "分类器的可靠性 How good the classifier is",
         "按文章分组交叉验证的混淆矩阵：行是人工标注，列是模型预测，对角线为预测正确；行旁为各主题的 F1。"),
    ]
    files["index.html"] = index_html("县域新闻主题报告", sections, notes,
                                     ["theme_mix_by_county.csv", "paragraphs.csv"])
    return files
