"""Error-adjusted theme shares (issue 19): on synthetic data with a known mix and a known classifier error."""
from __future__ import annotations

import numpy as np
import pytest

from countythemes.shares import ESTIMATORS, ArticleTotals, Calibration, adjusted, estimate

#: The synthetic classifier: P(predicted j | true i) in column i. It over-predicts theme 0, as a
#: classifier trained on a set where theme 0 is common does.
RATES = np.array([[0.80, 0.25, 0.20],
                  [0.10, 0.70, 0.10],
                  [0.10, 0.05, 0.70]])


def _paragraphs(rng, truth: np.ndarray, per_article: int = 4):
    """Paragraphs of the given true themes, predicted through RATES, with probabilities that put 0.7 on
    the prediction; grouped into articles of ``per_article``."""
    predicted = (rng.random(len(truth))[:, None] > np.cumsum(RATES[:, truth].T, axis=1)[:, :-1]).sum(axis=1)
    probabilities = np.full((len(truth), 3), 0.15)
    probabilities[np.arange(len(truth)), predicted] = 0.7
    return predicted, probabilities, np.arange(len(truth)) // per_article


def _calibration(rng) -> Calibration:
    truth = np.repeat([0, 1, 2], 400)  # a balanced labeled set, like cross-validation's
    rng.shuffle(truth)
    _, probabilities, articles = _paragraphs(rng, truth)
    return Calibration(labels=truth, articles=articles, probabilities=probabilities)


@pytest.mark.parametrize("method", ["acc", "pacc"])
def test_adjusted_shares_recover_a_known_mix_unlike_the_training_set(method):
    rng = np.random.default_rng(7)
    calibration = _calibration(rng)
    mix = np.array([0.15, 0.25, 0.60])  # unlike the balanced labels: theme 0 rare, theme 2 common
    truth = rng.choice(3, size=3000, p=mix)
    predicted, probabilities, articles = _paragraphs(rng, truth)
    place = ArticleTotals.of(articles, probabilities, np.full(len(truth), -1), predicted)
    found = estimate(place, calibration, method, np.random.default_rng(1), samples=400)
    counted = estimate(place, calibration, "cc", np.random.default_rng(1), samples=400)
    true_share = np.bincount(truth, minlength=3) / len(truth)
    assert np.all(found.low <= true_share) and np.all(true_share <= found.high), (found, true_share)
    assert np.max(np.abs(found.share - true_share)) < 0.04
    # classify and count is biased towards the over-predicted theme 0, beyond its own interval
    assert counted.share[0] - true_share[0] > 0.1 and counted.low[0] > true_share[0]
    assert np.isclose(found.share.sum(), 1) and np.all(found.high - found.low < 0.12)


def test_intervals_cover_the_mix_in_nine_of_ten_small_corpora():
    """Small places (200 paragraphs in 50 articles): the 90% intervals hold the true share about 90% of the time."""
    rng = np.random.default_rng(11)
    covered = []
    for _ in range(60):
        calibration = _calibration(rng)  # each time anew: the rates measured are themselves a sample
        resampled = calibration.rates(rng, 300)
        mix = rng.dirichlet([1, 1, 1])
        truth = rng.choice(3, size=200, p=mix)
        predicted, probabilities, articles = _paragraphs(rng, truth)
        place = ArticleTotals.of(articles, probabilities, np.full(len(truth), -1), predicted)
        found = estimate(place, calibration.rates(), "pacc", rng, 300, resampled_rates=resampled)
        covered.append((found.low <= mix) & (mix <= found.high))
    assert 0.82 <= np.mean(covered) <= 0.99


def test_labeled_paragraphs_count_as_labeled_whatever_the_estimator():
    rng = np.random.default_rng(3)
    calibration = _calibration(rng)
    labels = np.array([0, 0, 1, 2, 2, 2])
    probabilities = np.tile([0.7, 0.15, 0.15], (6, 1))  # the classifier disagrees; labels win
    place = ArticleTotals.of(np.arange(6), probabilities, labels)
    for method in ESTIMATORS:
        found = estimate(place, calibration, method, np.random.default_rng(0), samples=100)
        assert np.allclose(found.share, [2 / 6, 1 / 6, 3 / 6]), method


def test_a_place_of_two_articles_gets_no_interval():
    calibration = _calibration(np.random.default_rng(4))
    place = ArticleTotals.of(np.array([0, 0, 1]), np.tile([0.7, 0.15, 0.15], (3, 1)), np.full(3, -1))
    found = estimate(place, calibration, "pacc", np.random.default_rng(0), samples=100)
    assert found.low is None and found.high is None and np.isclose(found.share.sum(), 1)


def test_adjustment_inverts_the_rates_and_stays_on_the_simplex():
    true = np.array([0.2, 0.3, 0.5])
    assert np.allclose(adjusted(RATES @ true, RATES), true)
    impossible = adjusted(np.array([1.0, 0.0, 0.0]), RATES)  # more theme 0 than any true mix can give
    assert np.all(impossible >= 0) and np.isclose(impossible.sum(), 1) and impossible[0] == 1.0
