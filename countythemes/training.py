"""Training the theme classifier: labels, grouped cross-validation, baselines, model files."""
from __future__ import annotations

import csv
import hashlib
import io
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .classifier import (Theme, TypicalWordsClassifier, build_pipeline, calibration_folds,
                         export_pipeline, uncertainty_threshold)
from .corpus import Paragraph

LABEL_COLUMNS = ["id", "theme", "secondary", "note", "excerpt"]


class LabelError(ValueError):
    """A label file that cannot be trusted; the message names the file and line."""


@dataclass
class Label:
    id: str
    theme: str
    secondary: str
    where: str


def read_labels(paths: list[str], known_ids: set[str], keys: list[str]) -> dict[str, Label]:
    """Labels from CSV files (BOM and CRLF accepted); blank themes are left for later.

    Refused, with the file and line: an id that matches no paragraph, an unknown
    theme key, the same id twice (whether or not the themes agree).
    """
    labels: dict[str, Label] = {}
    for path in paths:
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
        for row in reader:
            where = f"{path}:{reader.line_num}"
            key = (row.get("id") or "").strip()
            theme = (row.get("theme") or "").strip()
            if not key and not theme:
                continue
            if not theme:
                continue  # a suggestion not yet labeled
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


@dataclass
class TrainingSet:
    texts: list[str]
    themes: list[str]
    groups: list[str]
    ids: list[str]


def training_set(paragraphs: list[Paragraph], labels: dict[str, Label]) -> TrainingSet:
    """Each labeled paragraph once (its first occurrence), grouped by its article."""
    seen: set[str] = set()
    rows = TrainingSet([], [], [], [])
    for p in paragraphs:
        if p.id in labels and p.id not in seen:
            seen.add(p.id)
            rows.texts.append(p.text)
            rows.themes.append(labels[p.id].theme)
            rows.groups.append(f"{p.source}#{p.article_index}")
            rows.ids.append(p.id)
    return rows


def _scores(truth: list[str], predicted, keys: list[str]) -> dict:
    from sklearn.metrics import confusion_matrix, precision_recall_fscore_support

    precision, recall, f1, support = precision_recall_fscore_support(
        truth, predicted, labels=keys, zero_division=0)
    return {
        "per_theme": {k: {"precision": round(float(p), 4), "recall": round(float(r), 4),
                          "f1": round(float(f), 4), "support": int(s)}
                      for k, p, r, f, s in zip(keys, precision, recall, f1, support)},
        "macro_f1": round(float(np.mean(f1)), 4),
        "accuracy": round(float(np.mean(np.asarray(truth) == np.asarray(predicted))), 4),
        "confusion": confusion_matrix(truth, predicted, labels=keys).tolist(),
    }


def cross_validate(data: TrainingSet, themes: list[Theme], seed: int, folds: int = 5) -> dict:
    """Grouped CV (no article on both sides) of the model and two baselines on the same folds."""
    from sklearn.dummy import DummyClassifier
    from sklearn.model_selection import StratifiedGroupKFold

    keys = [t.key for t in themes]
    texts = np.asarray(data.texts, dtype=object)
    truth = np.asarray(data.themes)
    groups = np.asarray(data.groups)
    n_splits = min(folds, len(set(data.groups)))
    splitter = StratifiedGroupKFold(n_splits=n_splits, shuffle=True, random_state=seed)
    predicted = {"model": np.empty(len(truth), dtype=object), "majority": np.empty(len(truth), dtype=object),
                 "typical_words": np.empty(len(truth), dtype=object)}
    confidence = np.zeros(len(truth))
    for train, test in splitter.split(texts, truth, groups):
        model = build_pipeline(seed, themes, calibration_folds(truth[train])).fit(texts[train], truth[train])
        probabilities = model.predict_proba(texts[test])
        predicted["model"][test] = model.classes_[probabilities.argmax(axis=1)]
        confidence[test] = probabilities.max(axis=1)
        predicted["majority"][test] = DummyClassifier(strategy="most_frequent").fit(
            texts[train], truth[train]).predict(texts[test])
        predicted["typical_words"][test] = TypicalWordsClassifier(themes).fit(
            texts[train], truth[train]).predict(texts[test])
    result = {name: _scores(list(truth), list(values), keys) for name, values in predicted.items()}
    correct = predicted["model"] == truth
    result["threshold"] = uncertainty_threshold(confidence, correct)
    result["folds"] = n_splits
    result["grouped_by"] = "article"
    return result


def fit_final(data: TrainingSet, themes: list[Theme], seed: int, threshold: float) -> dict:
    model = build_pipeline(seed, themes, calibration_folds(data.themes)).fit(data.texts, data.themes)
    return export_pipeline(model, themes, threshold)


def fingerprint(*parts: str) -> str:
    digest = hashlib.sha256()
    for part in parts:
        digest.update(part.encode("utf-8"))
        digest.update(b"\0")
    return digest.hexdigest()[:16]


def print_evaluation(cv: dict, keys: list[str], out=sys.stdout) -> None:
    print(f"Cross-validation: {cv['folds']} folds grouped by article", file=out)
    print(f"{'theme':<12}{'precision':>10}{'recall':>8}{'f1':>8}{'n':>5}", file=out)
    for key in keys:
        row = cv["model"]["per_theme"][key]
        print(f"{key:<12}{row['precision']:>10.3f}{row['recall']:>8.3f}{row['f1']:>8.3f}{row['support']:>5}", file=out)
    print(f"macro-F1: model {cv['model']['macro_f1']:.3f} | majority class {cv['majority']['macro_f1']:.3f}"
          f" | typical words {cv['typical_words']['macro_f1']:.3f}", file=out)
    print("confusion (rows: label, columns: predicted, order " + " ".join(keys) + "):", file=out)
    for key, row in zip(keys, cv["model"]["confusion"]):
        print(f"  {key:<12}" + " ".join(f"{n:>4}" for n in row), file=out)
    print(f"uncertain below confidence {cv['threshold']:.2f}", file=out)
