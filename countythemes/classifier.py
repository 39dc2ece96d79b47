"""The theme classifier at use: themes, tokens, and scoring a paragraph.

Training (``training``) fits a scikit-learn ``Pipeline``; the trained model is
stored as plain numbers (see ``modelfiles``) and scored here by ``ThemeScorer``
with numpy alone, which gives the pipeline's probabilities to 1e-9 without
importing scikit-learn.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path

import numpy as np

from .tokens import segment, tokenize


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


class TypicalWords:
    """Counts each theme's typical words in raw text (as ``str.count`` does, word by word).

    Only the words whose first character occurs in the text are counted: a
    paragraph holds the first characters of few of them.
    """

    def __init__(self, words: tuple[tuple[str, ...], ...]):
        self.words = words
        self.by_first: dict[str, list[tuple[str, int]]] = {}
        for theme, group in enumerate(words):
            for word in group:
                self.by_first.setdefault(word[0], []).append((word, theme))
        self.first_characters = re.compile("[" + "".join(map(re.escape, sorted(self.by_first))) + "]")

    def counts(self, text: str) -> list[int]:
        counts = [0] * len(self.words)
        for first in set(self.first_characters.findall(text)):
            for word, theme in self.by_first[first]:
                counts[theme] += text.count(word)
        return counts


@lru_cache(maxsize=8)
def _typical_words(words: tuple[tuple[str, ...], ...]) -> TypicalWords:
    return TypicalWords(words)


def typical_word_counts(text: str, words: tuple[tuple[str, ...], ...]) -> list[int]:
    """Occurrences of each theme's typical words in the raw text."""
    return _typical_words(words).counts(text)


def typical_word_features(text: str, words: tuple[tuple[str, ...], ...]) -> np.ndarray:
    return np.log1p(np.array(typical_word_counts(text, words), dtype=np.float64))


class ThemeScorer:
    """Scores paragraphs from the stored numbers with numpy: the pipeline's predict_proba."""

    def __init__(self, model: dict):
        self.classes = list(model["classes"])
        self.names = dict(model["names"])
        self.index = {word: i for i, word in enumerate(model["vocabulary"])}
        self.idf = np.asarray(model["idf"], dtype=np.float64)
        self.typical = TypicalWords(tuple(tuple(w) for w in model["typical_words"]))
        self.coef = np.asarray(model["coef"], dtype=np.float64)
        self.intercept = np.asarray(model["intercept"], dtype=np.float64)
        self.inverse_temperature = float(model["inverse_temperature"])
        self.threshold = float(model["threshold"])
        width = len(self.index)
        if self.idf.shape != (width,) or self.coef.shape != (len(self.classes), width + len(self.typical.words)) \
                or self.intercept.shape != (len(self.classes),):
            raise ValueError("array shapes do not agree")

    def probabilities(self, texts: list[str], words: list[list[str]]) -> np.ndarray:
        """One row of theme probabilities per paragraph, all paragraphs in one pass of array work.

        ``words`` are the paragraphs' segmentations: every vocabulary word is a
        feature token, so looking the raw tokens up in the vocabulary gives
        what the pipeline's tokenizer gives.
        """
        n, width, index = len(texts), len(self.index), self.index
        cells: list[int] = []  # row * width + column, once per token occurrence
        for row, tokens in enumerate(words):
            offset = row * width
            cells.extend([offset + column for column in map(index.get, tokens) if column is not None])
        cells, counts = np.unique(np.array(cells, dtype=np.int64), return_counts=True)
        rows, columns = np.divmod(cells, width)
        # TF-IDF with sublinear tf and l2 norm, as the pipeline's TfidfVectorizer.
        values = (1.0 + np.log(counts)) * self.idf[columns]
        norms = np.sqrt(np.bincount(rows, weights=values * values, minlength=n))
        values /= norms[rows]
        decision = np.empty((n, len(self.classes)))
        for c in range(len(self.classes)):
            decision[:, c] = np.bincount(rows, weights=self.coef[c, columns] * values, minlength=n)
        typical = np.log1p(np.array([self.typical.counts(text) for text in texts], dtype=np.float64))
        decision += typical.reshape(n, -1) @ self.coef[:, width:].T + self.intercept
        logits = self.inverse_temperature * decision
        exponentials = np.exp(logits - logits.max(axis=1, keepdims=True))
        return exponentials / exponentials.sum(axis=1, keepdims=True)

    def verdict(self, probabilities: np.ndarray) -> dict:
        """A paragraph's theme, confidence, every theme's probability, and whether to look twice."""
        scores = [round(p, 4) for p in probabilities.tolist()]
        best = int(np.argmax(probabilities))
        return {
            "theme": self.classes[best],
            "confidence": scores[best],
            "scores": dict(zip(self.classes, scores)),
            "uncertain": bool(probabilities[best] < self.threshold),
        }

    def classify_all(self, texts: list[str], words: list[list[str]]) -> list[dict]:
        return [self.verdict(row) for row in self.probabilities(texts, words)]

    def classify(self, text: str) -> dict:
        return self.classify_all([text], [segment(text)])[0]


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
