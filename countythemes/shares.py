"""Theme shares corrected for the classifier's errors, with 90% intervals.

Counting the classifier's themes (classify and count) is biased wherever the
classifier errs, however accurate it is: a theme it over-predicts looks
larger everywhere, and the bias grows the more a place's mix differs from the
training set's. Cross-validation measured how it errs on articles it had not
seen (``out_of_fold.json``: every labeled paragraph's label and out-of-fold
probabilities), so the counts can be corrected (Forman's adjusted classify and
count; Bella et al.'s probabilistic version):

    observed = M @ true,   M[j, i] = P(predicted j | true theme i)

solved for ``true`` per place, and projected back onto the shares (negative
shares clipped to 0, the rest renormalised). Paragraphs with a human label
count with it; only the rest are estimated.

Intervals resample both sources of error together: the place's articles
(paragraphs of one story are not independent) and the training articles
that measured ``M`` (a rate from a few dozen examples is itself uncertain).
Each bootstrap replicate pairs one resample of each; the 5th and 95th
percentiles make the 90% interval.

``bench/shares.py`` compares the estimators on the labeled paragraphs with
articles held out and known theme mixes; ``DEFAULT`` is the one it chose.
PPI (prediction-powered inference) is compared there too but not offered
here: it needs a random sample of each place's paragraphs labeled, and the
labeled seeds were chosen (rare themes on purpose), not drawn at random.

Example
-------
>>> import numpy as np
>>> calibration = Calibration(labels=np.array([0, 0, 1, 1]), articles=np.array([0, 1, 2, 3]),
...                           probabilities=np.array([[.9, .1], [.8, .2], [.3, .7], [.2, .8]]))
>>> place = ArticleTotals.of(articles=np.array([0, 1, 2]), probabilities=np.array([[.9, .1], [.2, .8], [.8, .2]]),
...                          labeled=np.array([-1, -1, -1]))
>>> estimate(place, calibration, "acc", np.random.default_rng(0), samples=200).share.round(2).tolist()
[0.67, 0.33]
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

__all__ = ["ESTIMATORS", "DEFAULT", "NAMES", "Calibration", "Rates", "ArticleTotals", "Estimate", "estimate",
           "estimates", "adjusted", "MIN_ARTICLES_FOR_INTERVAL"]

#: cc: classify and count; pcc: mean of the calibrated probabilities; acc and pacc: the same, adjusted
#: by the misclassification rates (hard and soft) measured in cross-validation.
ESTIMATORS = ("cc", "pcc", "acc", "pacc")
#: Chosen by ``bench/shares.py`` (the table is in the README): coverage of its 90% intervals at least
#: 85% on every mix, and the lowest mean absolute error among those that reach it.
DEFAULT = "pacc"
NAMES = {"cc": "按分类计数，未校正", "pcc": "按概率加权，未校正", "acc": "误差校正计数 ACC",
         "pacc": "概率误差校正 PACC"}
#: Below this many articles, resampling articles cannot show how uncertain a share is.
MIN_ARTICLES_FOR_INTERVAL = 3
SAMPLES = 1000


@dataclass(frozen=True)
class Calibration:
    """Labeled paragraphs scored out of fold: label (theme position), article number, probabilities."""

    labels: np.ndarray
    articles: np.ndarray
    probabilities: np.ndarray

    @classmethod
    def from_model(cls, model: dict, keys: list[str]) -> "Calibration":
        """From ``out_of_fold.json``, its columns put in ``keys`` order."""
        columns = [model["theme_order"].index(k) for k in keys]
        return cls(labels=np.array([keys.index(t) for t in model["labels"]], dtype=np.int64),
                   articles=np.asarray(model["articles"], dtype=np.int64),
                   probabilities=np.asarray(model["probabilities"], dtype=np.float64)[:, columns])

    def subset(self, mask: np.ndarray) -> "Calibration":
        return Calibration(self.labels[mask], self.articles[mask], self.probabilities[mask])

    def per_article(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Per article: (hard, soft, labeled) where hard[a, i, j] counts paragraphs labeled i and
        predicted j, soft[a, i, j] sums their probability of j, labeled[a, i] counts label i."""
        numbers, article = np.unique(self.articles, return_inverse=True)
        k = self.probabilities.shape[1]
        hard = np.zeros((len(numbers), k, k))
        np.add.at(hard, (article, self.labels, self.probabilities.argmax(axis=1)), 1.0)
        soft = np.zeros((len(numbers), k, k))
        np.add.at(soft, (article, self.labels), self.probabilities)
        return hard, soft, hard.sum(axis=2)

    def rates(self, rng: np.random.Generator | None = None, samples: int = 0) -> "Rates":
        """The misclassification rates measured on these paragraphs; with ``rng``, ``samples`` of them,
        each from the training articles resampled."""
        hard, soft, labeled = self.per_article()
        if rng is None:
            return Rates(_rates(hard.sum(axis=0), labeled.sum(axis=0)), _rates(soft.sum(axis=0), labeled.sum(axis=0)))
        weights = _resample_weights(rng, len(hard), samples).astype(np.float64)
        return Rates(_rates(np.einsum("ba,aij->bij", weights, hard), weights @ labeled),
                     _rates(np.einsum("ba,aij->bij", weights, soft), weights @ labeled))


@dataclass(frozen=True)
class Rates:
    """Misclassification matrices M[..., j, i] = P(predicted j | theme i): ``hard`` counts predictions,
    ``soft`` sums probabilities; one pair, or a stack of resampled ones. Their pseudo-inverses are
    computed once, however many places are adjusted with them."""

    hard: np.ndarray
    soft: np.ndarray

    @cached_property
    def inverses(self) -> tuple[np.ndarray, np.ndarray]:
        return np.linalg.pinv(self.hard), np.linalg.pinv(self.soft)


def _rates(joint: np.ndarray, labeled: np.ndarray) -> np.ndarray:
    """Row-normalise joint[..., i, j] by the label counts and transpose to M[..., j, i]; a theme without
    labeled examples (in a resample) is taken as always recognised."""
    k = joint.shape[-1]
    rows = np.divide(joint, labeled[..., :, None], out=np.zeros_like(joint), where=labeled[..., :, None] > 0)
    missing = labeled <= 0
    rows[missing] = np.broadcast_to(np.eye(k), rows.shape)[missing]
    return np.swapaxes(rows, -1, -2)


@dataclass(frozen=True)
class ArticleTotals:
    """One place's (or year's) paragraphs summed per article, the unit that is resampled.

    ``predicted`` counts unlabeled paragraphs by predicted theme, ``probability`` sums their
    probabilities, ``labeled`` counts labeled paragraphs by their label (all articles × themes)."""

    predicted: np.ndarray
    probability: np.ndarray
    labeled: np.ndarray

    @classmethod
    def of(cls, articles: np.ndarray, probabilities: np.ndarray, labeled: np.ndarray,
           predicted_themes: np.ndarray | None = None) -> "ArticleTotals":
        """From paragraphs: each one's article number, probabilities, label position (-1: none) and
        predicted theme position (default: the most probable)."""
        numbers, article = np.unique(articles, return_inverse=True)
        k = probabilities.shape[1]
        free = labeled < 0
        if predicted_themes is None:
            predicted_themes = probabilities.argmax(axis=1)
        predicted = np.zeros((len(numbers), k))
        np.add.at(predicted, (article[free], predicted_themes[free]), 1.0)
        probability = np.zeros((len(numbers), k))
        np.add.at(probability, article[free], probabilities[free])
        known = np.zeros((len(numbers), k))
        np.add.at(known, (article[~free], labeled[~free]), 1.0)
        return cls(predicted, probability, known)

    @property
    def articles(self) -> int:
        return len(self.predicted)


def adjusted(observed: np.ndarray, rates: np.ndarray) -> np.ndarray:
    """Solve observed = rates @ true for the true shares (batched over leading axes), clip negative
    shares to 0 and renormalise; a singular ``rates`` gets its least-squares (pseudo-inverse) answer."""
    return _adjusted(observed, np.linalg.pinv(rates))


def _adjusted(observed: np.ndarray, inverse: np.ndarray) -> np.ndarray:
    solved = np.einsum("...ij,...j->...i", inverse, observed)
    solved = np.clip(solved, 0.0, None)
    totals = solved.sum(axis=-1, keepdims=True)
    fallback = np.broadcast_to(observed, solved.shape)
    return np.where(totals > 0, solved / np.where(totals > 0, totals, 1.0), fallback)


def _shares(predicted: np.ndarray, probability: np.ndarray, labeled: np.ndarray, method: str,
            rates: Rates) -> np.ndarray:
    """Shares from totals (leading axes batched): labeled paragraphs as they are, the others estimated."""
    free = predicted.sum(axis=-1, keepdims=True)
    total = free + labeled.sum(axis=-1, keepdims=True)
    observed = (probability if method in ("pcc", "pacc") else predicted) / np.where(free > 0, free, 1.0)
    if method == "acc":
        observed = _adjusted(observed, rates.inverses[0])
    elif method == "pacc":
        observed = _adjusted(observed, rates.inverses[1])
    return (labeled + free * observed) / np.where(total > 0, total, 1.0)


@dataclass(frozen=True)
class Estimate:
    share: np.ndarray
    low: np.ndarray | None  # None: too few articles for an interval
    high: np.ndarray | None


def estimate(place: ArticleTotals, calibration: Calibration | Rates, method: str, rng: np.random.Generator,
             samples: int = SAMPLES, resampled_rates: Rates | None = None) -> Estimate:
    """One place's shares by ``method`` and their 90% interval (articles of the place and of the
    training resampled together, ``samples`` times; none below ``MIN_ARTICLES_FOR_INTERVAL`` articles).

    ``resampled_rates`` (from ``Calibration.rates(rng, samples)``) may be given to share one set of
    resampled training rates among many places (the report does, so each place costs only its own
    resampling); ``calibration`` may then be the point ``Rates``.
    """
    if isinstance(calibration, Calibration):
        if resampled_rates is None and method in ("acc", "pacc"):
            resampled_rates = calibration.rates(rng, samples)
        calibration = calibration.rates()
    return estimates(place, calibration, resampled_rates or calibration, (method,), rng, samples)[method]


def estimates(place: ArticleTotals, rates: Rates, resampled_rates: Rates, methods: tuple[str, ...],
              rng: np.random.Generator, samples: int = SAMPLES) -> dict[str, Estimate]:
    """``estimate`` by several methods at once, on the same resamples of the place's articles."""
    unknown = [m for m in methods if m not in ESTIMATORS]
    if unknown:
        raise ValueError(f"unknown estimator {unknown[0]!r}; one of {', '.join(ESTIMATORS)}")
    totals = place.predicted.sum(axis=0), place.probability.sum(axis=0), place.labeled.sum(axis=0)
    shares = {m: _shares(*totals, m, rates) for m in methods}
    if place.articles < MIN_ARTICLES_FOR_INTERVAL:
        return {m: Estimate(shares[m], None, None) for m in methods}
    weights = _resample_weights(rng, place.articles, samples)
    replicated = weights @ place.predicted, weights @ place.probability, weights @ place.labeled
    found = {}
    for m in methods:
        low, high = np.percentile(_shares(*replicated, m, resampled_rates), [5, 95], axis=0)
        found[m] = Estimate(shares[m], low, high)
    return found


def _resample_weights(rng: np.random.Generator, n: int, samples: int, block: int = 64) -> np.ndarray:
    """How often each of ``n`` articles is drawn in each of ``samples`` resamples with replacement
    (samples × n, as float32 in blocks, so a place of 10,000 articles needs no 10,000-wide index array
    of int64 per sample)."""
    weights = np.zeros((samples, n), dtype=np.float32)
    for start in range(0, samples, block):
        stop = min(samples, start + block)
        picks = rng.integers(0, n, size=(stop - start, n))
        rows = np.repeat(np.arange(stop - start), n)
        weights[start:stop] = np.bincount(rows * n + picks.ravel(), minlength=(stop - start) * n).reshape(-1, n)
    return weights
