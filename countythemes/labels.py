"""Label files: the CSVs a researcher fills in (``id``, ``theme``, …), read by training, ``report``
and ``suggest``; kept apart from training so that reading them does not import scikit-learn."""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path

LABEL_COLUMNS = ["id", "theme", "secondary", "note", "excerpt"]


class LabelError(ValueError):
    """A label file that cannot be trusted; the message names the file and line."""


@dataclass
class Label:
    id: str
    theme: str
    secondary: str
    where: str


def _label_rows(path: str):
    """(file:line, row) for each row of a label CSV; BOM and CRLF accepted."""
    try:
        text = Path(path).read_bytes().decode("utf-8-sig")
    except OSError as error:
        raise LabelError(f"{path}: cannot read label file ({error.strerror})") from None
    except UnicodeDecodeError:
        raise LabelError(f"{path}: label file is not UTF-8") from None
    reader = csv.DictReader(io.StringIO(text, newline=""))
    missing = [c for c in ("id", "theme") if c not in (reader.fieldnames or [])]
    if missing:
        raise LabelError(f"{path}:1: label file needs the columns {', '.join(LABEL_COLUMNS)} "
                         f"(missing {', '.join(missing)})")
    csv.field_size_limit(2**31 - 1)  # a suggestions file holds whole paragraphs, some very long
    try:
        for row in reader:
            yield f"{path}:{reader.line_num}", row
    except csv.Error as error:
        raise LabelError(f"{path}:{reader.line_num}: not a readable CSV row ({error})") from None


def label_themes(paths: list[str]) -> dict[str, str]:
    """Each labeled id's theme; a later file's label wins over an earlier one's."""
    return {(row.get("id") or "").strip(): (row.get("theme") or "").strip()
            for path in paths for _, row in _label_rows(path) if (row.get("theme") or "").strip()}


def read_labels(paths: list[str], known_ids: set[str], keys: list[str]) -> dict[str, Label]:
    """Labels from CSV files; rows with a blank theme are suggestions not yet labeled.

    Refused, with the file and line: an id that matches no paragraph, an unknown
    theme key, the same id twice (whether or not the themes agree).
    """
    labels: dict[str, Label] = {}
    for path in paths:
        for where, row in _label_rows(path):
            key = (row.get("id") or "").strip()
            theme = (row.get("theme") or "").strip()
            if not theme:
                continue
            if key not in known_ids:
                raise LabelError(f"{where}: id {key!r} matches no paragraph of the corpus")
            if theme not in keys:
                raise LabelError(f"{where}: unknown theme {theme!r} (themes: {', '.join(keys)})")
            secondary = " ".join((row.get("secondary") or "").split())
            for extra in secondary.split():
                if extra not in keys:
                    raise LabelError(f"{where}: unknown secondary theme {extra!r}")
            if key in labels:
                earlier = labels[key]
                kind = "duplicate" if earlier.theme == theme else f"conflicting ({earlier.theme} vs {theme})"
                raise LabelError(f"{where}: {kind} label for id {key}, first given at {earlier.where}")
            labels[key] = Label(key, theme, secondary, where)
    return labels
