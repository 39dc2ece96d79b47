#!/usr/bin/env python3
"""The report's share estimates on articles unlike the training set: the dev set's true theme mix against
each estimator's (issue 19), as a check outside the simulation of ``bench/shares.py``.

The dev set (``../shared/dev/dev.jsonl``: 184 paragraphs of 26 TV stories, gold themes by two
annotators) was never trained on. Its paragraphs are classified as ``classify`` reads them (each
story as an article), and the estimators of ``countythemes.shares`` give the set's theme shares with
their 90% intervals (articles resampled, the training articles too), beside the gold shares. One
corpus is one draw: a covered or missed interval here is an anecdote, an error of several points is
a warning. Nothing is tuned to it.

    python bench/shares_dev.py [--dev PATH]
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from countythemes.classifier import ThemeScorer  # noqa: E402
from countythemes.modelfiles import read_model_file  # noqa: E402
from countythemes.shares import ESTIMATORS, ArticleTotals, Calibration, estimate  # noqa: E402
from countythemes.tokens import segment  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dev", default=str(ROOT.parent / "shared" / "dev" / "dev.jsonl"))
    args = parser.parse_args()
    if not Path(args.dev).exists():
        print(f"{args.dev}: not found; this bench needs the shared dev set. Nothing measured.")
        return 0
    rows = [json.loads(line) for line in open(args.dev, encoding="utf-8")]
    scorer = ThemeScorer.load(ROOT / "models")
    out_of_fold = read_model_file(ROOT / "models", "out_of_fold.json")
    keys = out_of_fold["theme_order"]
    calibration = Calibration.from_model(out_of_fold, keys)
    stories: dict[str, list[dict]] = {}
    for row in rows:
        stories.setdefault(row["article"], []).append(row)
    probabilities, articles, truth = [], [], []
    for number, story in enumerate(stories.values()):
        story.sort(key=lambda r: r["para"])
        texts = [r["text"] for r in story]
        scores = scorer.probabilities(texts, [segment(t) for t in texts], ["story"] * len(texts))
        order = [scorer.classes.index(k) for k in keys]
        probabilities.append(scores[:, order])
        articles += [number] * len(story)
        truth += [keys.index(r["theme"]) for r in story]
    probabilities = np.vstack(probabilities)
    gold = np.bincount(truth, minlength=len(keys)) / len(truth)
    place = ArticleTotals.of(np.asarray(articles), probabilities, np.full(len(truth), -1))
    print(f"dev set: {len(truth)} paragraphs of {len(stories)} stories; shares in points, 90% interval in brackets")
    print(f"{'theme':<12}{'gold':>7}" + "".join(f"{m:>22}" for m in ESTIMATORS))
    found = {m: estimate(place, calibration, m, np.random.default_rng(0)) for m in ESTIMATORS}
    for i, key in enumerate(keys):
        cells = []
        for m in ESTIMATORS:
            e = found[m]
            inside = "" if e.low is None else (" " if e.low[i] <= gold[i] <= e.high[i] else "*")
            interval = "" if e.low is None else f" [{100 * e.low[i]:4.1f},{100 * e.high[i]:5.1f}]"
            cells.append(f"{100 * e.share[i]:6.1f}{interval}{inside}")
        print(f"{key:<12}{100 * gold[i]:7.1f}" + "".join(f"{c:>22}" for c in cells))
    for m in ESTIMATORS:
        e = found[m]
        error = np.abs(e.share - gold).mean() * 100
        covered = sum(e.low[i] <= gold[i] <= e.high[i] for i in range(len(keys))) if e.low is not None else 0
        print(f"{m:<5} mean absolute error {error:4.1f} points; gold inside the 90% interval for {covered} of "
              f"{len(keys)} themes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
