#!/usr/bin/env python3
"""The classifier's hyperparameters, chosen by grouped cross-validation on every label of ``seeds/``.

One at a time around the committed values (C, the codebook prior's weight, the word-vector block's
weight, the prototype similarities' weight), each scored by the same grouped 5-fold CV as
``train.py`` (no article on both sides). The dev set is not looked at here.

    python bench/hyperparameters.py
"""
from __future__ import annotations

import functools
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

GRID = {"C": (3.0, 10.0, 30.0), "prior_weight": (1.0, 2.0, 4.0), "vector_weight": (0.5, 1.0, 2.0),
        "similarity_weight": (0.5, 1.0, 2.0)}


def main() -> int:
    from countythemes import training
    from countythemes.codebook import load_themes
    from countythemes.embeddings import Embeddings
    from countythemes.labels import read_labels, seed_label_files
    from countythemes.pipeline import iter_paragraphs
    from countythemes.workers import cores

    themes = load_themes(None)
    paragraphs = list(iter_paragraphs([str(ROOT / "seeds")], print))
    labels = read_labels(seed_label_files(ROOT / "seeds"), {p.id for p in paragraphs}, {t.key: t.name for t in themes})
    data = training.training_set(paragraphs, labels)
    embeddings = Embeddings.load(ROOT / "models")
    committed = {"C": training.C, "prior_weight": training.PRIOR_WEIGHT, "vector_weight": training.VECTOR_WEIGHT,
                 "similarity_weight": training.SIMILARITY_WEIGHT}
    build = training.build_pipeline
    print(f"{'setting':<24}{'macro-F1':>9}{'ECE':>7}  per source", flush=True)
    scored = set()
    for name, values in GRID.items():
        for value in values:
            setting = dict(committed, **{name: value})
            key = tuple(sorted(setting.items()))
            if key in scored:
                continue
            scored.add(key)
            training.build_pipeline = functools.partial(build, **setting)  # the folds' fits look it up
            cv = training.cross_validate(data, themes, embeddings, 0, workers=cores())
            sources = ", ".join(f"{k} {v['macro_f1']:.3f}" for k, v in cv["per_source"].items())
            label = "committed" if setting == committed else f"{name}={value:g}"
            print(f"{label:<24}{cv['model']['macro_f1']:>9.3f}{cv['calibration_error']:>7.3f}  {sources}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
