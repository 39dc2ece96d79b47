"""Label files: the CSVs a researcher fills in (``id``, ``theme``, …), read by training, ``report``
and ``suggest``; kept apart from training so that reading them does not import scikit-learn."""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path

from .errors import CountythemesError

LABEL_COLUMNS = ["id", "theme", "secondary", "note", "excerpt"]


#: What a spreadsheet program reads as the start of a formula (OWASP's list for CSV injection).
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(cell):
    """A text cell that starts like a formula, with a ``'`` before it, so that opening a CSV the tool
    wrote in a spreadsheet shows the text instead of running it; other cells as they are."""
    if isinstance(cell, str) and cell.startswith(_FORMULA_STARTS):
        return "'" + cell
    return cell


class LabelError(CountythemesError, ValueError):
    """A label file that cannot be trusted; the message names the file and line."""


@dataclass
class Label:
    id: str
    theme: str
    secondary: str
    where: str


def seed_label_files(folder: Path) -> list[str]:
    """Every label file of a labeled corpus folder: ``labels.csv`` and ``labels-*.csv`` (one per source)."""
    return [str(path) for path in sorted(Path(folder).glob("labels*.csv")) if path.is_file()]


def _decoded(path: str) -> str:
    """A label CSV's text: UTF-8 (with or without BOM), or GB18030 as Excel on Chinese Windows saves it."""
    try:
        data = Path(path).read_bytes()
    except OSError as error:
        raise LabelError(f"{path}: cannot read label file ({error.strerror})") from None
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise LabelError(f"{path}: label file is neither UTF-8 nor GBK/GB18030 text")


def _label_rows(path: str):
    """(file:line, row) for each row of a label CSV; BOM, CRLF and GBK accepted."""
    reader = csv.DictReader(io.StringIO(_decoded(path), newline=""))
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


def theme_keys_by_name(names: dict[str, str]) -> dict[str, str]:
    """A theme as a label file may spell it: its key (``industry``) or its codebook name (产业发展).
    ``names`` maps each key to its name."""
    return {spelling: key for key, name in names.items() for spelling in (key, name)}


def label_themes(paths: list[str], names: dict[str, str]) -> dict[str, str]:
    """Each labeled id's theme key; a later file's label wins over an earlier one's.

    Every row with an unknown theme is refused, all of them in one message.
    """
    keys = theme_keys_by_name(names)
    found: dict[str, str] = {}
    problems: list[str] = []
    for path in paths:
        for where, row in _label_rows(path):
            theme = (row.get("theme") or "").strip()
            if theme and theme not in keys:
                problems.append(f"{where}: unknown theme {theme!r} ({_spellings(names)})")
            elif theme:
                found[(row.get("id") or "").strip()] = keys[theme]
    _refuse(problems)
    return found


def _spellings(names: dict[str, str]) -> str:
    return "themes: " + ", ".join(f"{key} or {name}" for key, name in names.items())


def _refuse(problems: list[str]) -> None:
    if problems:
        more = f" ({len(problems)} bad rows)" if len(problems) > 1 else ""
        raise LabelError("\n".join([problems[0] + more] + problems[1:]))


def read_labels(paths: list[str], known_ids: set[str], names: dict[str, str]) -> dict[str, Label]:
    """Labels from CSV files; rows with a blank theme are suggestions not yet labeled.

    Refused, with the file and line, every bad row in one run: an id that
    matches no paragraph, an unknown theme (a key or the codebook's Chinese
    name is accepted), the same id twice (whether or not the themes agree).
    """
    keys = theme_keys_by_name(names)
    labels: dict[str, Label] = {}
    problems: list[str] = []
    for path in paths:
        for where, row in _label_rows(path):
            key = (row.get("id") or "").strip()
            theme = (row.get("theme") or "").strip()
            if not theme:
                continue
            if key not in known_ids:
                problems.append(f"{where}: id {key!r} matches no paragraph of the corpus")
                continue
            if theme not in keys:
                problems.append(f"{where}: unknown theme {theme!r} ({_spellings(names)})")
                continue
            secondary = [keys.get(extra, extra) for extra in (row.get("secondary") or "").split()]
            unknown = [extra for extra in secondary if extra not in keys.values()]
            if unknown:
                problems.append(f"{where}: unknown secondary theme {unknown[0]!r}")
                continue
            if key in labels:
                earlier = labels[key]
                kind = "duplicate" if earlier.theme == keys[theme] else f"conflicting ({earlier.theme} vs {keys[theme]})"
                problems.append(f"{where}: {kind} label for id {key}, first given at {earlier.where}")
                continue
            labels[key] = Label(key, keys[theme], " ".join(secondary), where)
    _refuse(problems)
    return labels
