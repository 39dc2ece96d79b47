"""The theme classifier: TF-IDF over jieba tokens and a calibrated linear model.

Training uses a scikit-learn ``Pipeline``; the trained model is stored as plain
numbers (see ``modelfiles``) and scored by ``ThemeScorer`` with numpy alone,
which gives the pipeline's probabilities to 1e-9 without importing scikit-learn.
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


def calibration_folds(labels) -> int:
    """Three folds for the sigmoid calibration, fewer where a theme has fewer examples."""
    smallest = min(list(labels).count(k) for k in set(labels))
    return max(2, min(3, smallest))


def build_pipeline(seed: int, themes: list[Theme], folds: int = 3, C: float = 10.0):
    """TF-IDF (sublinear tf, l2) plus the codebook's typical-word counts, then logistic
    regression with per-class sigmoid calibration."""
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import FeatureUnion, Pipeline

    return Pipeline([
        ("features", FeatureUnion([
            ("tfidf", TfidfVectorizer(tokenizer=paragraph_tokens, lowercase=False, token_pattern=None,
                                      sublinear_tf=True, norm="l2")),
            ("typical_words", TypicalWordCounts(tuple(t.words for t in themes))),
        ])),
        ("model", CalibratedClassifierCV(
            LogisticRegression(C=C, class_weight="balanced", max_iter=5000, random_state=seed),
            method="sigmoid", cv=folds, ensemble=False)),
    ])


class TypicalWordCounts:
    """Features from the codebook: log(1 + occurrences of each theme's typical words).

    A scikit-learn transformer; with few labels these carry the codebook's
    knowledge that TF-IDF weights alone cannot learn (as keyATM seeds topics).
    """

    def __init__(self, words: tuple[tuple[str, ...], ...] = ()):
        self.words = words

    def get_params(self, deep: bool = True) -> dict:
        return {"words": self.words}

    def set_params(self, **params):
        self.words = params.get("words", self.words)
        return self

    def fit(self, texts, labels=None):
        self.n_features_ = len(self.words)
        return self

    def transform(self, texts):
        from scipy import sparse

        rows = [typical_word_features(text, self.words) for text in texts]
        return sparse.csr_matrix(np.asarray(rows, dtype=np.float64).reshape(len(rows), len(self.words)))


def typical_word_counts(text: str, words) -> list[int]:
    """Occurrences of each theme's typical words in the raw text."""
    return [sum(text.count(w) for w in theme) for theme in words]


def typical_word_features(text: str, words: tuple[tuple[str, ...], ...]) -> np.ndarray:
    return np.log1p(np.array(typical_word_counts(text, words), dtype=np.float64))


class TypicalWordsClassifier:
    """Baseline: the theme whose codebook typical words occur most often; ``other`` if none."""

    def __init__(self, themes: list[Theme]):
        self.themes = themes

    def fit(self, texts, labels):
        self.classes_ = np.array(sorted({t.key for t in self.themes}))
        return self

    def predict(self, texts):
        predictions = []
        for text in texts:
            counts = typical_word_counts(text, (theme.words for theme in self.themes))
            best = int(np.argmax(counts))
            predictions.append(self.themes[best].key if counts[best] > 0 else "other")
        return np.array(predictions)


def uncertainty_threshold(confidence: np.ndarray, correct: np.ndarray) -> float:
    """The confidence below which a paragraph is flagged ``uncertain``.

    Chosen on out-of-fold predictions so that the flag best separates right from
    wrong answers: it maximizes (right and confident) + (wrong and flagged);
    ties go to the lower threshold.
    """
    grid = np.round(np.arange(0.20, 0.91, 0.05), 2)
    scores = [int(np.sum(correct & (confidence >= t)) + np.sum(~correct & (confidence < t))) for t in grid]
    return float(grid[int(np.argmax(scores))])


# ------------------------------------------------------------------ stored model


def export_pipeline(pipeline, themes: list[Theme], threshold: float) -> dict:
    """The trained pipeline as plain numbers: vocabulary, idf, weights, calibration."""
    union = pipeline.named_steps["features"]
    tfidf = union.named_transformers["tfidf"]
    words = union.named_transformers["typical_words"].words
    calibrated = pipeline.named_steps["model"].calibrated_classifiers_[0]
    linear = calibrated.estimator
    vocabulary = sorted(tfidf.vocabulary_, key=tfidf.vocabulary_.get)
    classes = [str(c) for c in pipeline.classes_]
    return {
        "classes": classes,
        "names": {t.key: t.name for t in themes},
        "vocabulary": vocabulary,
        "idf": tfidf.idf_.tolist(),
        "typical_words": [list(w) for w in words],
        "coef": linear.coef_.tolist(),
        "intercept": linear.intercept_.tolist(),
        "calibration": [[float(c.a_), float(c.b_)] for c in calibrated.calibrators],
        "threshold": threshold,
    }


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
        self.calibration = np.asarray(model["calibration"], dtype=np.float64)
        self.threshold = float(model["threshold"])
        width = len(self.index)
        if self.idf.shape != (width,) or self.coef.shape != (len(self.classes), width + len(self.words)) \
                or self.intercept.shape != (len(self.classes),) or self.calibration.shape != (len(self.classes), 2):
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
        a, b = self.calibration[:, 0], self.calibration[:, 1]
        calibrated = 1.0 / (1.0 + np.exp(a * decision + b))
        total = calibrated.sum()
        if total <= 0:
            return np.full(len(self.classes), 1.0 / len(self.classes))
        return calibrated / total

    def classify(self, text: str) -> dict:
        probabilities = self.probabilities(text, tokenize(text))
        best = int(np.argmax(probabilities))
        return {
            "theme": self.classes[best],
            "confidence": round(float(probabilities[best]), 4),
            "scores": {c: round(float(p), 4) for c, p in zip(self.classes, probabilities)},
            "uncertain": bool(probabilities[best] < self.threshold),
        }
