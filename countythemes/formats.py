"""How classified paragraphs are written out: one table shape for CSV and DataFrames, and a readable table.

The JSON lines of ``classify`` are ``Paragraph.record()`` (encoded in the
workers, see ``pipeline.classified_lines``); CSV and ``ct.classify``'s
DataFrame share ``classified_columns``: the paragraph's fields, the verdict,
one probability column per theme, the topic.
"""
from __future__ import annotations

import csv
import io
import unicodedata
from typing import Iterable, Iterator

from .labels import LABEL_COLUMNS, spreadsheet_safe
from .records import PARAGRAPH_FIELDS, Paragraph

__all__ = ["classified_columns", "classified_row", "csv_lines", "differences_lines", "suggestion_csv", "table_lines",
           "topic_lines"]


def classified_columns(theme_keys: list[str], topics: bool = True) -> list[str]:
    """The columns of a classified paragraph: its fields, theme, confidence, uncertain, ``p_<theme>`` per
    theme, and (with topics) topic and topic_words."""
    return ([*PARAGRAPH_FIELDS, "theme", "confidence", "uncertain"] + [f"p_{key}" for key in theme_keys]
            + (["topic", "topic_words"] if topics else []))


def classified_row(paragraph: Paragraph, theme_keys: list[str], topics: bool = True) -> list:
    """A classified paragraph's values in ``classified_columns`` order (topic words joined by spaces)."""
    row = [*(getattr(paragraph, name) for name in PARAGRAPH_FIELDS), paragraph.theme, paragraph.confidence,
           paragraph.uncertain] + [paragraph.scores[key] for key in theme_keys]
    if topics:
        row += [paragraph.topic, " ".join(paragraph.topic_words or [])]
    return row


def csv_lines(paragraphs: Iterable[Paragraph], theme_keys: list[str], topics: bool = True) -> Iterator[str]:
    """CSV text, line by line, as the report's CSVs are: UTF-8 with a BOM (so spreadsheet programs read
    the Chinese right), cells that a spreadsheet would run as formulas escaped."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")

    def line(cells: list) -> str:
        buffer.seek(0)
        buffer.truncate()
        writer.writerow([spreadsheet_safe("" if cell is None else cell) for cell in cells])
        return buffer.getvalue()

    yield "\ufeff" + line(classified_columns(theme_keys, topics))
    for paragraph in paragraphs:
        yield line(classified_row(paragraph, theme_keys, topics))


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _fit(text: str, width: int) -> str:
    """Cut or pad to a display width (Chinese characters take two columns)."""
    out, used = [], 0
    for ch in text:
        w = _width(ch)
        if used + w > width - (1 if len(text) > len(out) + 1 else 0):
            out.append("…")
            used += 1
            break
        out.append(ch)
        used += w
    return "".join(out) + " " * max(0, width - used)


#: The table's columns and their display widths.
TABLE_COLUMNS = [("段落", 34), ("来源", 14), ("文章", 16), ("地点", 12), ("主题", 16), ("置信度", 8)]


def table_lines(paragraphs: Iterable[Paragraph], names: dict[str, str]) -> Iterator[str]:
    """A table a person reads in a terminal: the paragraph, its source file and article, place, theme and
    confidence (``?``: below the threshold chosen in cross-validation)."""
    yield "  ".join(_fit(name, width) for name, width in TABLE_COLUMNS).rstrip()
    for p in paragraphs:
        place = p.county or p.city or p.province or "–"
        confidence = f"{p.confidence:.2f}" + (" ?" if p.uncertain else "")
        cells = [" ".join(p.text.split()), p.source, p.article, place, names.get(p.theme, p.theme), confidence]
        yield "  ".join(_fit(cell, width) for cell, (_, width) in zip(cells, TABLE_COLUMNS)).rstrip()
    yield "? = uncertain: below the confidence threshold chosen in cross-validation; worth a human look"


def topic_lines(model: dict, names: dict[str, str]) -> Iterator[str]:
    """The trained topics as ``topics`` prints them: words, size, coherence and theme mix."""
    anchors = len(model.get("anchors", {}))
    kind = f"seeded: topics 1–{anchors} anchored to the themes' typical words" if model["seeded"] else "unseeded"
    yield (f"{model['k']} topics ({kind}); mean c_npmi {model['coherence']['c_npmi']:.3f}, "
           f"u_mass {model['coherence']['u_mass']:.3f}")
    for topic in model["topics"]:
        anchor = f" [{names.get(topic['anchor'], topic['anchor'])}]" if topic.get("anchor") else ""
        mix = ", ".join(f"{names.get(k, k)} {share:.0%}"
                        for k, share in sorted(topic["theme_mix"].items(), key=lambda kv: -kv[1]) if share > 0)
        yield f"\ntopic {topic['topic']}{anchor}: {topic['size']} paragraphs, c_npmi {topic['c_npmi']:.3f}"
        yield f"  words: {' '.join(topic['words'])}"
        yield f"  themes: {mix or '–'}"


def suggestion_csv(picked: list[Paragraph]) -> str:
    """A label file to fill in: the label columns (``theme`` empty), then the text, source and article."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(LABEL_COLUMNS + ["text", "source", "article"])
    for p in picked:
        writer.writerow([spreadsheet_safe(cell) for cell in (p.id, "", "", "", p.text[:30], p.text, p.source,
                                                             p.article)])
    return buffer.getvalue()


def differences_lines(differences: list[str], trained_with: dict[str, str], running: dict[str, str]) -> list[str]:
    """What ``train.py --check`` found different (the first 20), and the library versions side by side."""
    lines = [f"  {line}" for line in differences[:20]] + ["library versions (committed models | this training):"]
    for name in sorted(set(trained_with) | set(running)):
        mark = "" if trained_with.get(name) == running.get(name) else "   <- differs"
        lines.append(f"  {name:<14}{trained_with.get(name, '–'):<28}{running.get(name, '–')}{mark}")
    return lines
