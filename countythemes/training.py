"""Training the theme classifier: the scikit-learn Pipeline, grouped cross-validation, baselines,
and the export to plain numbers. Only ``train.py`` imports this (and scikit-learn)."""
from __future__ import annotations

import hashlib
import math
import sys
from dataclasses import dataclass

import numpy as np
from scipy import sparse
from sklearn.base import BaseEstimator, ClassifierMixin, TransformerMixin
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import FeatureUnion, Pipeline

from .classifier import Theme, paragraph_tokens, softmax, typical_word_features
from .corpus import Paragraph
from .labels import Label

def calibration_folds(labels) -> int:
    """Three folds for fitting the calibration, fewer where a theme has fewer examples."""
    smallest = min(list(labels).count(k) for k in set(labels))
    return max(2, min(3, smallest))


def build_pipeline(seed: int, themes: list[Theme], folds: int = 3, C: float = 10.0, prior_weight: float = 2.0):
    """TF-IDF (sublinear tf, l2) and the codebook's typical-word counts, into a logistic
    regression that takes the counts as a fixed prior, then temperature scaling.

    Temperature scaling (one inverse temperature for the softmax over all six
    classes, fitted on inner cross-validation) gives calibrated probabilities
    without changing which theme ranks first; per-class sigmoids did change it
    and cost 0.09 macro-F1 on the seeds.

    The count columns follow the sorted theme keys, the order of the classes."""
    ordered = sorted(themes, key=lambda t: t.key)
    return Pipeline([
        ("features", FeatureUnion([
            ("tfidf", TfidfVectorizer(tokenizer=paragraph_tokens, lowercase=False, token_pattern=None,
                                      sublinear_tf=True, norm="l2")),
            ("typical_words", TypicalWordCounts(tuple(t.words for t in ordered))),
        ])),
        ("model", CalibratedThemes(tuple(t.key for t in ordered), C=C, prior_weight=prior_weight, seed=seed,
                                   folds=folds)),
    ])


class CalibratedThemes(ClassifierMixin, BaseEstimator):
    """``CodebookPriorLogit`` with temperature scaling, over theme keys.

    The inverse temperature is fitted on out-of-fold decisions (``folds``
    inner folds, as scikit-learn's ``CalibratedClassifierCV(method="temperature",
    ensemble=False)`` does), then the model is fitted on all. Two things are
    done here rather than there, each for a measured reason:

    - the temperature is the root of the log loss's derivative, found to
      machine precision, not the minimum of the loss found from its values:
      a minimum located by values is only known to about the square root of
      the rounding error (1e-8), and on two BLAS kernels scikit-learn's
      ``minimize_scalar`` stopped 1.2e-8 apart;
    - labels enter the inner model as their theme's position among all
      ``theme_keys`` (the count columns' order): ``CalibratedClassifierCV``
      renumbers them over the classes present, and where a training fold
      lacks a theme the codebook prior then lands on the wrong classes.
    """

    def __init__(self, theme_keys: tuple[str, ...] = (), C: float = 10.0, prior_weight: float = 2.0,
                 seed: int = 0, folds: int = 3):
        self.theme_keys = theme_keys
        self.C = C
        self.prior_weight = prior_weight
        self.seed = seed
        self.folds = folds

    def fit(self, features, labels):
        from sklearn.model_selection import StratifiedKFold, cross_val_predict

        position = {key: i for i, key in enumerate(self.theme_keys)}
        unknown = sorted(set(labels) - set(position))
        if unknown:
            raise ValueError(f"labels {unknown} are not among the themes {list(self.theme_keys)}")
        numbers = np.array([position[label] for label in labels])
        model = CodebookPriorLogit(len(self.theme_keys), C=self.C, prior_weight=self.prior_weight, seed=self.seed)
        decisions = cross_val_predict(model, features, numbers, cv=StratifiedKFold(self.folds),
                                      method="decision_function")
        self.model_ = model.fit(features, numbers)
        self.classes_ = np.array(self.theme_keys, dtype=object)[self.model_.classes_]
        truth = np.searchsorted(self.model_.classes_, numbers)
        self.inverse_temperature_ = inverse_temperature(decisions, truth)
        return self

    def predict_proba(self, features) -> np.ndarray:
        return softmax(self.inverse_temperature_ * self.model_.decision_function(features))

    def predict(self, features) -> np.ndarray:
        return self.classes_[self.predict_proba(features).argmax(axis=1)]


def inverse_temperature(decisions: np.ndarray, truth: np.ndarray) -> float:
    """The beta > 0 that minimizes the log loss of softmax(beta * decisions) against ``truth``.

    The loss is convex in beta; its derivative, mean over paragraphs of
    (E_p[z] - z_true), rises from negative to positive, and its root is found
    by Newton steps kept inside a shrinking bracket, to the last bits of a
    float64. Beta is kept within e^-10..e^10, as scikit-learn bounds it.
    """
    true_scores = decisions[np.arange(len(truth)), truth]

    def slope_and_curvature(beta: float) -> tuple[float, float]:
        p = softmax(beta * decisions)
        mean = (p * decisions).sum(axis=1)
        variance = (p * decisions ** 2).sum(axis=1) - mean ** 2
        return float(np.mean(mean - true_scores)), float(np.mean(variance))

    low, high = math.exp(-10.0), math.exp(10.0)
    beta = 1.0
    for _ in range(200):
        slope, curvature = slope_and_curvature(beta)
        if slope > 0:
            high = beta
        else:
            low = beta
        step = beta - slope / curvature if curvature > 0 else (low + high) / 2
        following = step if low < step < high else (low + high) / 2
        if abs(following - beta) <= 4 * np.finfo(float).eps * beta or high - low <= 4 * np.finfo(float).eps * high:
            return following
        beta = following
    return beta


class CodebookPriorLogit(ClassifierMixin, BaseEstimator):
    """Logistic regression on TF-IDF whose decision adds a fixed codebook prior.

    With about a hundred labels a linear model cannot learn from scratch what
    the codebook already says; so each class's score is the regression's
    score plus ``prior_weight`` times log(1 + that theme's typical-word count).
    The counts are the last feature columns, one per theme in ``theme_keys`` order.
    The regression learns only what the codebook's words miss. On the seeds'
    grouped CV a weight of 2 beats both the plain regression and counting the
    words alone (see the README).
    """

    def __init__(self, n_themes: int = 6, C: float = 10.0, prior_weight: float = 2.0, seed: int = 0):
        self.n_themes = n_themes
        self.C = C
        self.prior_weight = prior_weight
        self.seed = seed

    def _split(self, features):
        features = sparse.csr_matrix(features)
        width = features.shape[1] - self.n_themes
        return features[:, :width], features[:, width:].toarray()

    def fit(self, features, labels):
        """``labels`` are theme numbers (positions among all themes, as ``CalibratedThemes`` gives them), so
        each class finds its own count column even where a training fold lacks a theme."""
        self.classes_ = np.unique(labels)
        words, _ = self._split(features)
        self.regression_ = LogisticRegression(C=self.C, class_weight="balanced", max_iter=5000,
                                              random_state=self.seed).fit(words, labels)
        return self

    def decision_function(self, features) -> np.ndarray:
        words, counts = self._split(features)
        return self.regression_.decision_function(words) + self.prior_weight * counts[:, self.classes_]

    def predict(self, features) -> np.ndarray:
        return self.classes_[self.decision_function(features).argmax(axis=1)]

    def coefficients(self) -> tuple[np.ndarray, np.ndarray]:
        """Weights over all feature columns (the prior as a fixed block: each class its own theme's
        count column) and intercepts."""
        prior = np.zeros((len(self.classes_), self.n_themes))
        prior[np.arange(len(self.classes_)), self.classes_] = self.prior_weight
        return np.hstack([self.regression_.coef_, prior]), self.regression_.intercept_


class TypicalWordCounts(TransformerMixin, BaseEstimator):
    """Features from the codebook: log(1 + occurrences of each theme's typical words).

    A scikit-learn transformer; with few labels these carry the codebook's
    knowledge that TF-IDF weights alone cannot learn (as keyATM seeds topics).
    """

    def __init__(self, words: tuple[tuple[str, ...], ...] = ()):
        self.words = words

    def fit(self, texts, labels=None):
        self.n_features_ = len(self.words)
        return self

    def transform(self, texts):
        return sparse.csr_matrix(typical_word_features([str(text) for text in texts], self.words))


class TypicalWordsClassifier:
    """Baseline: the theme whose codebook typical words occur most often; ``other`` if none."""

    def __init__(self, themes: list[Theme]):
        self.themes = themes

    def fit(self, texts, labels):
        self.classes_ = np.array(sorted({t.key for t in self.themes}))
        return self

    def predict(self, texts):
        counts = typical_word_features([str(text) for text in texts], tuple(theme.words for theme in self.themes))
        best = counts.argmax(axis=1)
        return np.array([self.themes[b].key if row[b] > 0 else "other" for b, row in zip(best, counts)])


def uncertainty_threshold(confidence: np.ndarray, correct: np.ndarray) -> float:
    """The confidence below which a paragraph is flagged ``uncertain``.

    The flag is there to send a reader to the answers most likely wrong, so it
    is chosen on out-of-fold predictions as the best detector of wrong answers:
    the threshold with the highest F1 of (flagged) against (wrong); ties go to
    the lower threshold. Maximizing plain accuracy instead would flag nothing
    whenever the model is right more often than not.
    """
    grid = np.round(np.arange(0.20, 0.951, 0.05), 2)
    wrong = ~np.asarray(correct, dtype=bool)
    scores = []
    for threshold in grid:
        flagged = confidence < threshold
        caught = int(np.sum(flagged & wrong))
        scores.append(2 * caught / (int(flagged.sum()) + int(wrong.sum())) if caught else 0.0)
    return float(grid[int(np.argmax(scores))])


def export_pipeline(pipeline, themes: list[Theme], threshold: float) -> dict:
    """The trained pipeline as plain numbers: vocabulary, idf, weights, calibration."""
    union = pipeline.named_steps["features"]
    tfidf = union.named_transformers["tfidf"]
    words = union.named_transformers["typical_words"].words
    calibrated = pipeline.named_steps["model"]
    coef, intercept = calibrated.model_.coefficients()
    vocabulary = sorted(tfidf.vocabulary_, key=tfidf.vocabulary_.get)
    classes = [str(c) for c in pipeline.classes_]
    return {
        "classes": classes,
        "names": {t.key: t.name for t in themes},
        "vocabulary": vocabulary,
        "idf": tfidf.idf_.tolist(),
        "typical_words": [list(w) for w in words],
        "coef": coef.tolist(),
        "intercept": intercept.tolist(),
        "inverse_temperature": float(calibrated.inverse_temperature_),
        "threshold": threshold,
    }


@dataclass
class TrainingSet:
    texts: list[str]
    themes: list[str]
    groups: list[str]
    ids: list[str]
    #: Each text's segmentation, as its paragraph already holds it.
    words: list[list[str]]


def training_set(paragraphs: list[Paragraph], labels: dict[str, Label]) -> TrainingSet:
    """Each labeled paragraph once (its first occurrence), grouped by its article."""
    seen: set[str] = set()
    rows = TrainingSet([], [], [], [], [])
    for p in paragraphs:
        if p.id in labels and p.id not in seen:
            seen.add(p.id)
            rows.texts.append(p.text)
            rows.themes.append(labels[p.id].theme)
            rows.groups.append(f"{p.source}#{p.article_index}")
            rows.ids.append(p.id)
            rows.words.append(p.words)
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
    """Grouped CV (no article on both sides) of the model and two baselines on the same folds.

    ``out_of_fold`` holds each paragraph's theme probabilities (themes in ``themes`` order) from the
    fold that held its article out: for ``out_of_fold_model``, not the manifest."""
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
    out_of_fold = np.zeros((len(truth), len(keys)))
    for train, test in splitter.split(texts, truth, groups):
        model = build_pipeline(seed, themes, calibration_folds(truth[train])).fit(texts[train], truth[train])
        probabilities = model.predict_proba(texts[test])
        predicted["model"][test] = model.classes_[probabilities.argmax(axis=1)]
        confidence[test] = probabilities.max(axis=1)
        # in theme order; a theme missing from a training fold keeps probability 0
        out_of_fold[np.ix_(test, [keys.index(str(c)) for c in model.classes_])] = probabilities
        predicted["majority"][test] = DummyClassifier(strategy="most_frequent").fit(
            texts[train], truth[train]).predict(texts[test])
        predicted["typical_words"][test] = TypicalWordsClassifier(themes).fit(
            texts[train], truth[train]).predict(texts[test])
    result = {name: _scores(list(truth), list(values), keys) for name, values in predicted.items()}
    correct = predicted["model"] == truth
    threshold = uncertainty_threshold(confidence, correct)
    flagged = confidence < threshold
    result["threshold"] = threshold
    result["uncertain"] = {"flagged": int(flagged.sum()), "wrong": int((~correct).sum()),
                           "wrong_flagged": int((flagged & ~correct).sum()),
                           "accuracy_flagged": round(float(correct[flagged].mean()), 4) if flagged.any() else None,
                           "accuracy_confident": round(float(correct[~flagged].mean()), 4) if (~flagged).any() else None}
    result["folds"] = n_splits
    result["grouped_by"] = "article"
    result["out_of_fold"] = out_of_fold
    return result


def out_of_fold_model(data: TrainingSet, keys: list[str], probabilities: np.ndarray) -> dict:
    """What the report's error-adjusted shares need from cross-validation, as plain numbers: every
    labeled paragraph's label, article (numbered in order) and out-of-fold theme probabilities.

    Whatever the classifier is, these say how it errs on articles it has not
    seen; ``shares`` estimates the misclassification rates from them, and
    resamples their articles for the rates' own uncertainty.
    """
    numbers: dict[str, int] = {}
    return {"theme_order": list(keys), "ids": list(data.ids), "labels": list(data.themes),
            "articles": [numbers.setdefault(group, len(numbers)) for group in data.groups],
            "probabilities": probabilities.tolist()}


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
    flag = cv["uncertain"]
    answers = sum(row["support"] for row in cv["model"]["per_theme"].values())
    print(f"uncertain below confidence {cv['threshold']:.2f}: flags {flag['flagged']} of {answers} answers, "
          f"{flag['wrong_flagged']} of the {flag['wrong']} wrong ones", file=out)
