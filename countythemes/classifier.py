"""The theme classifier at use: themes, tokens, and scoring a paragraph.

Training (``training``) fits a scikit-learn ``Pipeline``; the trained model is
stored as plain numbers (see ``modelfiles``) and scored here by ``ThemeScorer``
with numpy alone, which gives the pipeline's probabilities to 1e-9 without
importing scikit-learn.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path

import numpy as np

from .tokens import tokenize


@dataclass(frozen=True)
class Theme:
    key: str
    name: str
    words: tuple[str, ...]


class ThemesError(ValueError):
    pass


def load_themes(path: str | None = None) -> list[Theme]:
    """The codebook's themes from a JSON file (the packaged mirror of THEMES.md by default)."""
    try:
        if path is None:
            text = resources.files("countythemes.data").joinpath("themes.json").read_text(encoding="utf-8")
        else:
            text = Path(path).read_text(encoding="utf-8-sig")
        data = json.loads(text)
        themes = [Theme(str(t["key"]), str(t["name"]), tuple(str(w) for w in t["words"])) for t in data["themes"]]
    except OSError as error:
        raise ThemesError(f"{path}: cannot read themes file ({error.strerror})") from None
    except (ValueError, KeyError, TypeError) as error:
        raise ThemesError(f"{path}: not a themes file: needs {{\"themes\": [{{\"key\", \"name\", \"words\"}}]}} "
                          f"({error})") from None
    keys = [t.key for t in themes]
    if len(themes) < 2 or len(set(keys)) != len(keys):
        raise ThemesError(f"{path}: needs at least two themes with distinct keys")
    return themes


@lru_cache(maxsize=65536)
def _cached_tokens(text: str) -> tuple[str, ...]:
    return tuple(tokenize(text))


def paragraph_tokens(text: str) -> list[str]:
    """The tokenizer inside the Pipeline: a module-level function, cached across CV folds."""
    return list(_cached_tokens(text))


def typical_word_counts(text: str, words) -> list[int]:
    """Occurrences of each theme's typical words in the raw text."""
    return [sum(text.count(w) for w in theme) for theme in words]


def typical_word_features(text: str, words: tuple[tuple[str, ...], ...]) -> np.ndarray:
    return np.log1p(np.array(typical_word_counts(text, words), dtype=np.float64))


class ThemeScorer:
    """Scores paragraphs from the stored numbers with numpy: the pipeline's predict_proba."""

    def __init__(self, model: dict):
        self.classes = list(model["classes"])
        self.names = dict(model["names"])
        self.index = {word: i for i, word in enumerate(model["vocabulary"])}
        self.idf = np.asarray(model["idf"], dtype=np.float64)
        self.words = tuple(tuple(w) for w in model["typical_words"])
        self.coef = np.asarray(model["coef"], dtype=np.float64)
        self.intercept = np.asarray(model["intercept"], dtype=np.float64)
        self.inverse_temperature = float(model["inverse_temperature"])
        self.threshold = float(model["threshold"])
        width = len(self.index)
        if self.idf.shape != (width,) or self.coef.shape != (len(self.classes), width + len(self.words)) \
                or self.intercept.shape != (len(self.classes),):
            raise ValueError("array shapes do not agree")

    def features(self, tokens: list[str]) -> tuple[np.ndarray, np.ndarray]:
        counts: dict[int, int] = {}
        for token in tokens:
            column = self.index.get(token)
            if column is not None:
                counts[column] = counts.get(column, 0) + 1
        columns = np.fromiter(counts, dtype=np.int64, count=len(counts))
        values = (1.0 + np.log(np.fromiter(counts.values(), dtype=np.float64, count=len(counts)))) * self.idf[columns]
        norm = np.sqrt(np.dot(values, values))
        return columns, (values / norm if norm > 0 else values)

    def probabilities(self, text: str, tokens: list[str]) -> np.ndarray:
        columns, values = self.features(tokens)
        width = len(self.index)
        decision = (self.coef[:, columns] @ values + self.coef[:, width:] @ typical_word_features(text, self.words)
                    + self.intercept)
        logits = self.inverse_temperature * decision
        exponentials = np.exp(logits - logits.max())
        return exponentials / exponentials.sum()

    def classify(self, text: str) -> dict:
        probabilities = self.probabilities(text, tokenize(text))
        best = int(np.argmax(probabilities))
        return {
            "theme": self.classes[best],
            "confidence": round(float(probabilities[best]), 4),
            "scores": {c: round(float(p), 4) for c, p in zip(self.classes, probabilities)},
            "uncertain": bool(probabilities[best] < self.threshold),
        }


def margin(scores: dict[str, float]) -> float:
    """Top probability minus the runner-up: small where the model hesitates between two themes."""
    top, second = sorted(scores.values(), reverse=True)[:2]
    return top - second


def pick_for_labeling(candidates: list[dict], n: int) -> list[dict]:
    """Uncertainty sampling spread across articles.

    Each candidate carries ``id``, ``article_key`` and ``scores``. The smallest
    margins come first, but in rounds: every article gives its most uncertain
    paragraph before any gives a second, so one long article cannot fill the
    list. Ties break on the id, so the pick is deterministic.
    """
    by_article: dict[str, list[dict]] = {}
    seen: set[str] = set()
    for candidate in candidates:
        if candidate["id"] not in seen:
            seen.add(candidate["id"])
            by_article.setdefault(candidate["article_key"], []).append(candidate)
    queues = [sorted(group, key=lambda c: (margin(c["scores"]), c["id"])) for group in by_article.values()]
    picked: list[dict] = []
    depth = 0
    while len(picked) < n and any(depth < len(q) for q in queues):
        round_ = sorted((q[depth] for q in queues if depth < len(q)), key=lambda c: (margin(c["scores"]), c["id"]))
        picked.extend(round_[: n - len(picked)])
        depth += 1
    return picked
