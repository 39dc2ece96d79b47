"""Training: the scikit-learn Pipeline, grouped cross-validation, baselines, the learning curve, the
topic search, and the whole run that makes a models folder (``train_models``).

Only training imports scikit-learn and gensim; the models it makes are plain
numbers that ``classifier`` and ``topics`` score with numpy. What the run
finds is logged (logger ``countythemes.training``) as it goes and returned.
"""
from __future__ import annotations

import datetime
import hashlib
import logging
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np
from scipy import sparse
from sklearn.base import BaseEstimator, ClassifierMixin, TransformerMixin
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import FeatureUnion, Pipeline

from .classifier import ThemeScorer, embedding_features, paragraph_tokens, softmax, typical_word_features
from .codebook import Theme
from .embeddings import Embeddings
from .errors import CountythemesError
from .labels import Label
from .records import Paragraph

log = logging.getLogger(__name__)
#: Notes on how the work goes (what is being read or built), apart from what it finds.
notes = logging.getLogger("countythemes.progress")

def calibration_folds(labels) -> int:
    """Three folds for fitting the calibration, fewer where a theme has fewer examples."""
    smallest = min(list(labels).count(k) for k in set(labels))
    return max(2, min(3, smallest))


#: Chosen by grouped cross-validation on all labels of ``seeds/`` (see the README, "Training").
C = 10.0
PRIOR_WEIGHT = 2.0
VECTOR_WEIGHT = 1.0
SIMILARITY_WEIGHT = 1.0


def build_pipeline(seed: int, themes: list[Theme], embeddings, folds: int = 3, C: float = C,
                   prior_weight: float = PRIOR_WEIGHT, vector_weight: float = VECTOR_WEIGHT,
                   similarity_weight: float = SIMILARITY_WEIGHT):
    """TF-IDF (sublinear tf, l2), the word-vector features and the codebook's typical-word counts,
    into a logistic regression that takes the counts as a fixed prior, then temperature scaling.

    TF-IDF knows the words labeled; the word vectors (trained on the
    archives) carry the meaning of words no label holds, and the similarity
    to each theme's prototype carries the codebook's.

    Temperature scaling (one inverse temperature for the softmax over all six
    classes, fitted on inner cross-validation) gives calibrated probabilities
    without changing which theme ranks first; per-class sigmoids did change it
    and cost 0.09 macro-F1 on the seeds.

    The count columns follow the sorted theme keys, the order of the classes."""
    ordered = sorted(themes, key=lambda t: t.key)
    return Pipeline([
        ("features", FeatureUnion([
            ("tfidf", TfidfVectorizer(analyzer=passage_tokens, lowercase=False, sublinear_tf=True, norm="l2")),
            ("embedding", EmbeddingFeatures(embeddings, tuple(ordered), vector_weight, similarity_weight)),
            ("typical_words", TypicalWordCounts(tuple(t.words for t in ordered))),
        ])),
        ("model", CalibratedThemes(tuple(t.key for t in ordered), C=C, prior_weight=prior_weight, seed=seed,
                                   folds=folds)),
    ])


@dataclass(frozen=True)
class Passage:
    """A paragraph as the Pipeline reads it: its text and its article's key (for the article features).
    ``str()`` gives the text, which is all the other features read."""

    text: str
    article: str

    def __str__(self) -> str:
        return self.text


def passage_tokens(passage: Passage) -> list[str]:
    """TF-IDF's analyzer: the paragraph's feature tokens (a module-level function, cached across folds)."""
    return paragraph_tokens(str(passage))


def passages(data: TrainingSet) -> np.ndarray:
    """The training set's paragraphs as the Pipeline reads them: an object array of ``Passage``."""
    rows = np.empty(len(data.texts), dtype=object)
    rows[:] = [Passage(text, group) for text, group in zip(data.texts, data.groups)]
    return rows


class EmbeddingFeatures(TransformerMixin, BaseEstimator):
    """Dense features from the word vectors: the paragraph's unit mean vector and its cosine similarity
    to each theme's prototype (``classifier.embedding_features``), each block with its weight.

    The weights set how strongly the regularized regression may lean on each
    block against TF-IDF (whose rows have unit length too)."""

    def __init__(self, embeddings=None, themes: tuple[Theme, ...] = (), vector_weight: float = VECTOR_WEIGHT,
                 similarity_weight: float = SIMILARITY_WEIGHT):
        self.embeddings = embeddings
        self.themes = themes
        self.vector_weight = vector_weight
        self.similarity_weight = similarity_weight

    def fit(self, texts, labels=None):
        self.prototypes_ = self.embeddings.theme_prototypes(self.themes)
        return self

    def transform(self, rows):
        words = [paragraph_tokens(row.text) for row in rows]
        return embedding_features(self.embeddings, words, [row.article for row in rows], self.prototypes_,
                                  self.vector_weight, self.similarity_weight)


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

    def fit(self, features, labels, groups=None):
        """``groups`` (each paragraph's article), where given, keep an article's paragraphs on one side
        of the calibration folds, as in the outer cross-validation: with an article on both sides the
        inner decisions were surer than on new articles, and the temperature too low."""
        from sklearn.model_selection import StratifiedGroupKFold, StratifiedKFold, cross_val_predict

        position = {key: i for i, key in enumerate(self.theme_keys)}
        unknown = sorted(set(labels) - set(position))
        if unknown:
            raise ValueError(f"labels {unknown} are not among the themes {list(self.theme_keys)}")
        numbers = np.array([position[label] for label in labels])
        model = CodebookPriorLogit(len(self.theme_keys), C=self.C, prior_weight=self.prior_weight, seed=self.seed)
        if self.folds >= 2:
            splitter = StratifiedKFold(self.folds) if groups is None else StratifiedGroupKFold(self.folds)
            decisions = cross_val_predict(model, features, numbers, groups=groups, cv=splitter,
                                          method="decision_function")
        self.model_ = model.fit(features, numbers)
        self.classes_ = np.array(self.theme_keys, dtype=object)[self.model_.classes_]
        truth = np.searchsorted(self.model_.classes_, numbers)
        # Without calibration folds (the learning curve, which needs only the ranking): temperature 1.
        self.inverse_temperature_ = inverse_temperature(decisions, truth) if self.folds >= 2 else 1.0
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
        # Newton-CG run to the optimum (tol 1e-12, about 11 steps): L-BFGS at its default tolerance
        # stopped where two BLAS kernels' rounding left the weights 6e-10 apart, Newton-CG at 1e-4
        # 1e-7 apart, at 1e-12 6e-12 apart, in the time L-BFGS took.
        self.regression_ = LogisticRegression(C=self.C, class_weight="balanced", max_iter=5000, solver="newton-cg",
                                              tol=1e-12, random_state=self.seed).fit(words, labels)
        return self

    def decision_function(self, features) -> np.ndarray:
        words, counts = self._split(features)
        coef, intercept = self._regression()
        return words @ coef.T + intercept + self.prior_weight * counts[:, self.classes_]

    def _regression(self) -> tuple[np.ndarray, np.ndarray]:
        """The regression's weights, one row per class; with two classes (a small training set)
        scikit-learn keeps one row d, which is the softmax of (-d/2, d/2)."""
        coef, intercept = self.regression_.coef_, self.regression_.intercept_
        if len(self.classes_) == 2:
            return np.vstack([-coef / 2, coef / 2]), np.concatenate([-intercept / 2, intercept / 2])
        return coef, intercept

    def predict(self, features) -> np.ndarray:
        return self.classes_[self.decision_function(features).argmax(axis=1)]

    def coefficients(self) -> tuple[np.ndarray, np.ndarray]:
        """Weights over all feature columns (the prior as a fixed block: each class its own theme's
        count column) and intercepts."""
        prior = np.zeros((len(self.classes_), self.n_themes))
        prior[np.arange(len(self.classes_)), self.classes_] = self.prior_weight
        coef, intercept = self._regression()
        return np.hstack([coef, prior]), intercept


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
    embedding = union.named_transformers["embedding"]
    words = union.named_transformers["typical_words"].words
    calibrated = pipeline.named_steps["model"]
    coef, intercept = calibrated.model_.coefficients()
    vocabulary = sorted(tfidf.vocabulary_, key=tfidf.vocabulary_.get)
    classes = [str(c) for c in pipeline.classes_]
    return {
        "classes": classes,
        "names": {t.key: t.name for t in themes},
        "zero_shot": False,
        "vocabulary": vocabulary,
        "idf": tfidf.idf_.tolist(),
        "typical_words": [list(w) for w in words],
        "embedding": {"prototypes": embedding.prototypes_.tolist(), "vector_weight": embedding.vector_weight,
                      "similarity_weight": embedding.similarity_weight},
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
            rows.groups.append(p.article_key)
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


def source_kind(group: str) -> str:
    """The kind of source an article comes from, for scores per source: a JSONL corpus by its file's
    name (``xwlb.jsonl``: TV news, ``rmrb.jsonl``: the newspaper), every other file as ``pages``."""
    name = group.rsplit("#", 1)[0].replace("\\", "/").rsplit("/", 1)[-1]
    return name if ".jsonl" in name else "pages"


def calibration_error(confidence: np.ndarray, correct: np.ndarray, bins: int = 10) -> float:
    """Expected calibration error: over ten equal-width bins of confidence, the gap between mean
    confidence and accuracy, weighted by the bin's share of answers."""
    where = np.minimum((np.asarray(confidence) * bins).astype(int), bins - 1)
    error = 0.0
    for b in range(bins):
        inside = where == b
        if inside.any():
            error += inside.mean() * abs(float(np.mean(correct[inside])) - float(np.mean(confidence[inside])))
    return error


def cross_validate(data: TrainingSet, themes: list[Theme], embeddings, seed: int, folds: int = 5,
                   workers: int = 1) -> dict:
    """Grouped CV (no article on both sides) of the model and two baselines on the same folds; scores per
    source, calibration error and the uncertainty threshold from the same out-of-fold answers.

    ``out_of_fold`` holds each paragraph's theme probabilities (themes in ``themes`` order) from the
    fold that held its article out: for ``out_of_fold_model``, not the manifest."""
    from sklearn.dummy import DummyClassifier

    keys = [t.key for t in themes]
    texts = passages(data)
    truth = np.asarray(data.themes)
    splits = grouped_folds(data, seed, folds)
    predicted = {"model": np.empty(len(truth), dtype=object), "majority": np.empty(len(truth), dtype=object),
                 "typical_words": np.empty(len(truth), dtype=object)}
    confidence = np.zeros(len(truth))
    out_of_fold = np.zeros((len(truth), len(keys)))
    tasks = [(train, test, calibration_folds(truth[train])) for train, test in splits]
    for (train, test), (classes, probabilities) in zip(splits, _fit_folds(data, themes, embeddings, seed, tasks,
                                                                          workers)):
        predicted["model"][test] = classes[probabilities.argmax(axis=1)]
        confidence[test] = probabilities.max(axis=1)
        # in theme order; a theme missing from a training fold keeps probability 0
        out_of_fold[np.ix_(test, [keys.index(str(c)) for c in classes])] = probabilities
        predicted["majority"][test] = DummyClassifier(strategy="most_frequent").fit(
            texts[train], truth[train]).predict(texts[test])
        predicted["typical_words"][test] = TypicalWordsClassifier(themes).fit(
            texts[train], truth[train]).predict(texts[test])
    result = {name: _scores(list(truth), list(values), keys) for name, values in predicted.items()}
    kinds = np.array([source_kind(g) for g in data.groups])
    result["per_source"] = {}
    for kind in sorted(set(kinds)):
        inside = kinds == kind
        scores = _scores(list(truth[inside]), list(predicted["model"][inside]), keys)
        result["per_source"][kind] = {"paragraphs": int(inside.sum()), "macro_f1": scores["macro_f1"],
                                      "accuracy": scores["accuracy"]}
    correct = predicted["model"] == truth
    result["calibration_error"] = round(calibration_error(confidence, correct), 4)
    threshold = uncertainty_threshold(confidence, correct)
    flagged = confidence < threshold
    result["threshold"] = threshold
    result["uncertain"] = {"flagged": int(flagged.sum()), "wrong": int((~correct).sum()),
                           "wrong_flagged": int((flagged & ~correct).sum()),
                           "precision": round(float((~correct)[flagged].mean()), 4) if flagged.any() else None,
                           "accuracy_flagged": round(float(correct[flagged].mean()), 4) if flagged.any() else None,
                           "accuracy_confident": round(float(correct[~flagged].mean()), 4) if (~flagged).any() else None}
    result["folds"] = len(splits)
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


def grouped_folds(data: TrainingSet, seed: int, folds: int = 5) -> list[tuple[np.ndarray, np.ndarray]]:
    """The cross-validation folds: stratified by theme, no article on both sides, fixed seed."""
    from sklearn.model_selection import StratifiedGroupKFold

    n_splits = min(folds, len(set(data.groups)))
    splitter = StratifiedGroupKFold(n_splits=n_splits, shuffle=True, random_state=seed)
    return list(splitter.split(np.zeros(len(data.themes)), np.asarray(data.themes), np.asarray(data.groups)))


#: What every fold's fit shares; set before the workers fork, so they inherit it (as the topic search does).
_fold_job: tuple = ()


def _fit_folds(data: TrainingSet, themes: list[Theme], embeddings, seed: int, tasks: list[tuple], workers: int):
    """Each task's (training rows, test rows, calibration folds) fitted, on ``workers`` processes: the
    classes and the test rows' probabilities, in task order. Every fit is independent and on one BLAS
    thread, so the results are the same as in one process."""
    from .workers import mapper

    global _fold_job
    _fold_job = (passages(data), np.asarray(data.themes), np.asarray(data.groups), themes, embeddings, seed)
    with mapper(min(workers, len(tasks))) as mapped:
        return list(mapped(_fit_fold, tasks))


def _fit_fold(task: tuple) -> tuple[np.ndarray, np.ndarray]:
    train, test, calibration = task
    rows, truth, groups, themes, embeddings, seed = _fold_job
    model = build_pipeline(seed, themes, embeddings, calibration).fit(rows[train], truth[train],
                                                                     model__groups=groups[train])
    return model.classes_, model.predict_proba(rows[test])


#: The learning curve's training sizes, as shares of each training fold's articles.
CURVE_SHARES = (0.125, 0.25, 0.5)


def learning_curve(data: TrainingSet, themes: list[Theme], embeddings, seed: int, full: dict,
                   folds: int = 5, workers: int = 1) -> list[dict]:
    """Macro-F1 against the number of labeled paragraphs trained on, in the same grouped folds.

    Each training fold keeps a fixed random share of its articles (whole
    articles, as labels come); the test folds stay whole. No calibration is
    fitted, as it does not change which theme ranks first; the last point is
    the cross-validation's own (``full``).
    """
    truth = np.asarray(data.themes)
    groups = np.asarray(data.groups)
    keys = [t.key for t in themes]
    splits = grouped_folds(data, seed, folds)
    tasks = []
    for share in CURVE_SHARES:
        for fold, (train, test) in enumerate(splits):
            articles = sorted(set(groups[train]))
            kept = set(np.random.default_rng([seed, fold]).permutation(articles)[: max(2, round(share * len(articles)))])
            tasks.append((train[np.isin(groups[train], list(kept))], test, 0))
    fitted = iter(zip(tasks, _fit_folds(data, themes, embeddings, seed, tasks, workers)))
    curve = []
    for share in CURVE_SHARES:
        predicted = np.empty(len(truth), dtype=object)
        sizes = []
        for _ in splits:
            (subset, test, _), (classes, probabilities) = next(fitted)
            sizes.append(len(subset))
            predicted[test] = classes[probabilities.argmax(axis=1)]
        curve.append({"share": share, "labeled": int(round(np.mean(sizes))),
                      "macro_f1": _scores(list(truth), list(predicted), keys)["macro_f1"]})
    sizes = [len(train) for train, _ in splits]
    curve.append({"share": 1.0, "labeled": int(round(np.mean(sizes))), "macro_f1": full["model"]["macro_f1"]})
    return curve


def fit_final(data: TrainingSet, themes: list[Theme], embeddings, seed: int, threshold: float) -> dict:
    model = build_pipeline(seed, themes, embeddings, calibration_folds(data.themes)).fit(
        passages(data), data.themes, model__groups=np.asarray(data.groups))
    return export_pipeline(model, themes, threshold)


def fingerprint(*parts: str) -> str:
    digest = hashlib.sha256()
    for part in parts:
        digest.update(part.encode("utf-8"))
        digest.update(b"\0")
    return digest.hexdigest()[:16]


def evaluation_lines(cv: dict, keys: list[str]) -> list[str]:
    """Cross-validation as a researcher reads it: per theme, the baselines, confusion, calibration."""
    lines = [f"Cross-validation: {cv['folds']} folds grouped by article",
             f"{'theme':<12}{'precision':>10}{'recall':>8}{'f1':>8}{'n':>5}"]
    for key in keys:
        row = cv["model"]["per_theme"][key]
        lines.append(f"{key:<12}{row['precision']:>10.3f}{row['recall']:>8.3f}{row['f1']:>8.3f}{row['support']:>5}")
    lines.append(f"macro-F1: model {cv['model']['macro_f1']:.3f} | majority class {cv['majority']['macro_f1']:.3f}"
                 f" | typical words {cv['typical_words']['macro_f1']:.3f}")
    lines.append("confusion (rows: label, columns: predicted, order " + " ".join(keys) + "):")
    for key, row in zip(keys, cv["model"]["confusion"]):
        lines.append(f"  {key:<12}" + " ".join(f"{n:>4}" for n in row))
    flag = cv["uncertain"]
    answers = sum(row["support"] for row in cv["model"]["per_theme"].values())
    lines.append("per source: " + ", ".join(f"{kind} {row['macro_f1']:.3f} ({row['paragraphs']} paragraphs)"
                                            for kind, row in cv["per_source"].items()))
    lines.append(f"calibration: expected calibration error {cv['calibration_error']:.3f} (10 bins)")
    precision = "" if flag["precision"] is None else f" (precision {flag['precision']:.2f})"
    lines.append(f"uncertain below confidence {cv['threshold']:.2f}: flags {flag['flagged']} of {answers} answers, "
                 f"{flag['wrong_flagged']} of the {flag['wrong']} wrong ones{precision}")
    return lines


def learning_curve_lines(curve: list[dict]) -> list[str]:
    return ["learning curve (grouped CV, the same folds; a share of each training fold's articles):"] + [
        f"  {point['labeled']:>5} labeled paragraphs: macro-F1 {point['macro_f1']:.3f}" for point in curve]


#: The zero-shot classifier's scale of the prototype similarities: cosines differ by tenths, the
#: typical-word prior by units. Chosen on the labels of ``seeds/`` (the README says how it scores).
ZERO_SHOT_SCALE = 10.0
#: The same for the article's similarity to the prototypes.
ZERO_SHOT_CONTEXT = 10.0


def zero_shot_classifier(themes: list[Theme], embeddings) -> dict:
    """A classifier without labels, as ``export_pipeline`` writes one: each theme's score is its
    prototype's similarity to the paragraph (times ``ZERO_SHOT_SCALE``) plus the codebook prior of
    its typical words; no TF-IDF and no calibration (``zero_shot`` says so)."""
    ordered = sorted(themes, key=lambda t: t.key)
    prototypes = embeddings.theme_prototypes(ordered)
    n = len(ordered)
    nothing = np.zeros((n, embeddings.size))  # the mean vectors themselves: no labels to weigh them
    coef = np.hstack([nothing, ZERO_SHOT_SCALE * np.eye(n), nothing, ZERO_SHOT_CONTEXT * np.eye(n),
                      PRIOR_WEIGHT * np.eye(n)])
    return {
        "classes": [t.key for t in ordered],
        "names": {t.key: t.name for t in themes},
        "zero_shot": True,
        "vocabulary": [],
        "idf": [],
        "typical_words": [list(t.words) for t in ordered],
        "embedding": {"prototypes": prototypes.tolist(), "vector_weight": 0.0, "similarity_weight": 1.0},
        "coef": coef.tolist(),
        "intercept": [0.0] * n,
        "inverse_temperature": 1.0,
        "threshold": 0.5,
    }


# ---------------------------------------------------------------------- the run


@dataclass
class TrainingOptions:
    """What to train on and how (``train.py``'s options).

    ``seeds`` is the labeled corpus folder (its ``labels*.csv`` are always
    read); ``corpus`` more articles that ``labels`` files name; ``themes`` a
    codebook of one's own (None: the packaged one); ``ks`` the numbers of topics
    searched (``topics`` fixes K); ``vector_corpora`` the unlabeled corpora to
    rebuild the word vectors from (None: copy those of ``vectors_from``).
    """

    seeds: Path
    vectors_from: Path
    corpus: list[str] = field(default_factory=list)
    labels: list[str] = field(default_factory=list)
    themes: str | None = None
    seed: int = 20240501
    topics: int | None = None
    ks: list[int] = field(default_factory=lambda: list(range(4, 11)))
    seeded: bool = False
    vector_corpora: list[Path] | None = None


class TrainingError(CountythemesError):
    """Training data that cannot make a model (a theme without enough labeled articles, unreadable files)."""


def train_models(options: TrainingOptions, on_problem: Callable | None = None) -> tuple[dict[str, object], dict]:
    """The model files and manifest that training on ``options`` makes (``modelfiles.write_models``
    writes them; ``modelfiles.compare_models`` checks them against committed ones)."""
    from .codebook import load_themes
    from .labels import read_labels, seed_label_files
    from .modelfiles import library_versions
    from .pipeline import iter_paragraphs
    from .workers import cores

    themes = load_themes(options.themes)
    keys = [t.key for t in themes]
    problems = []

    def heard(problem) -> None:
        problems.append(problem)
        if on_problem is not None:
            on_problem(problem)

    notes.info(f"reading {' '.join([str(options.seeds)] + list(options.corpus))} …")
    paragraphs = list(iter_paragraphs([str(options.seeds)] + list(options.corpus), heard))
    if problems:
        raise TrainingError(f"{len(problems)} corpus file(s) could not be read; fix or remove them first")
    label_files = seed_label_files(Path(options.seeds)) + list(options.labels)
    labels = read_labels(label_files, {p.id for p in paragraphs}, {t.key: t.name for t in themes})
    data = training_set(paragraphs, labels)
    articles = {k: {g for g, t in zip(data.groups, data.themes) if t == k} for k in keys}
    thin = [f"{k} ({len(articles[k])})" for k in keys if len(articles[k]) < 2]
    if thin and data.texts:
        raise TrainingError("every theme needs labeled paragraphs in at least 2 articles, so that cross-validation "
                            f"can hold one out; too few articles for: {', '.join(thin)}")
    vector_files, embeddings = word_vectors(options)
    manifest = {"trained": datetime.date.today().isoformat(), "versions": library_versions(), "seed": options.seed,
                "themes": {t.key: t.name for t in themes}, "theme_order": keys}
    if not data.texts:
        notes.info("no labeled paragraphs: training a zero-shot classifier from the codebook alone (each theme's "
                    "prototype in the word vectors and its typical words); it is not cross-validated and its "
                    "confidences are not calibrated: label some paragraphs to do better")
        classifier = zero_shot_classifier(themes, embeddings)
        topic_model, topic_summary = train_topics(paragraphs, themes, ThemeScorer(classifier, embeddings), options)
        manifest.update(zero_shot=True, training={"paragraphs": len(paragraphs), "labeled": 0, "articles": 0,
                                                  "data": fingerprint(*(p.text for p in paragraphs))},
                        topics=topic_summary)
        return {"classifier.json": classifier, "topics.json": topic_model, **vector_files}, manifest
    notes.info(f"{len(paragraphs)} paragraphs, {len(data.texts)} labeled, in {len(set(data.groups))} articles")
    cv = cross_validate(data, themes, embeddings, options.seed, workers=cores())
    out_of_fold = out_of_fold_model(data, keys, cv.pop("out_of_fold"))
    for line in evaluation_lines(cv, keys):
        log.info(line)
    for baseline in ("majority", "typical_words"):
        if cv["model"]["macro_f1"] <= cv[baseline]["macro_f1"]:
            log.warning(f"the model does not beat the {baseline} baseline")
    curve = learning_curve(data, themes, embeddings, options.seed, cv, workers=cores())
    for line in learning_curve_lines(curve):
        log.info(line)
    classifier = fit_final(data, themes, embeddings, options.seed, cv["threshold"])
    scorer = ThemeScorer(classifier, embeddings)
    topic_model, topic_summary = train_topics(paragraphs, themes, scorer, options)
    predicted = [v["theme"] for v in scorer.classify_all(data.texts, data.words, data.groups)]
    manifest.update(
        training={"paragraphs": len(paragraphs), "labeled": len(data.texts), "articles": len(set(data.groups)),
                  "label_counts": {k: data.themes.count(k) for k in keys},
                  "data": fingerprint(*(p.text for p in paragraphs), *sorted(
                      f"{i}:{labels[i].theme}" for i in data.ids)),
                  "predicted": dict(zip(data.ids, predicted))},
        cross_validation=cv, learning_curve=curve, topics=topic_summary)
    return {"classifier.json": classifier, "topics.json": topic_model, "out_of_fold.json": out_of_fold,
            **vector_files}, manifest


def train_topics(paragraphs: list[Paragraph], themes: list[Theme], scorer: ThemeScorer,
                 options: TrainingOptions) -> tuple[dict, dict]:
    """The K search, the kept topic model, and what the manifest records of it."""
    from .topics import K_RULE, TopicScorer, describe_topics, export_topics, search, topic_words
    from .workers import cores

    unique = list({p.text: p for p in paragraphs}.values())  # each paragraph once
    texts, words = [p.text for p in unique], [p.words for p in unique]
    articles = [p.article_key for p in unique]
    try:
        found = search([topic_words(w) for w in words], themes, options.seed, options.ks, seeded=options.seeded,
                       forced_k=options.topics, workers=cores())
    except ValueError as error:
        raise TrainingError(f"cannot fit topics: {error}") from None
    model = export_topics(found, themes)
    predicted = [v["theme"] for v in scorer.classify_all(texts, words, articles)]
    model["topics"] = describe_topics(TopicScorer(model), found.coherence["c_npmi_per_topic"], words, predicted,
                                      [t.key for t in themes])
    chosen = next(row for row in found.curve if row["k"] == found.k)
    log.info(f"chosen: K = {found.k}, {'seeded' if found.seeded else 'unseeded'} "
             f"({'set by --topics' if options.topics else K_RULE})")
    summary = {"k": found.k, "seeded": found.seeded, "rule": "--topics" if options.topics else K_RULE,
               "k_range": [options.ks[0], options.ks[-1]], "at_chosen_k": chosen, "curve": found.curve}
    return model, summary


def word_vectors(options: TrainingOptions) -> tuple[dict[str, object], Embeddings]:
    """The word vectors to train with, as model files and loaded: rebuilt from ``vector_corpora``,
    else those of ``vectors_from`` (the committed models), copied as they are."""
    from .embeddings import rebuild_vectors
    from .modelfiles import EMBEDDINGS, VECTORS, embedding_files

    if options.vector_corpora is None:
        return embedding_files(options.vectors_from), Embeddings.load(options.vectors_from)
    missing = [str(p) for p in options.vector_corpora if not Path(p).is_file()]
    if missing:
        raise TrainingError(f"{missing[0]}: no such corpus file (--embeddings needs the unlabeled JSONL corpora)")
    notes.info(f"training word vectors on {' '.join(map(str, options.vector_corpora))} …")
    vocabulary, payload, vectors = rebuild_vectors([Path(p) for p in options.vector_corpora], options.seed)
    notes.info(f"word vectors: {len(vocabulary['words'])} words × {vectors.shape[1]} dimensions, "
             f"from {vocabulary['corpora_tokens']} tokens")
    return {EMBEDDINGS: vocabulary, VECTORS: payload}, Embeddings(vectors, vocabulary["words"])
