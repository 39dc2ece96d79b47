#!/usr/bin/env python3
"""Which word vectors serve the classifier best: each kind trained on the archives, then the theme
classifier's grouped cross-validation on every label of ``seeds/`` with it (issue 18: the kind and its
parameters are chosen by this score, not by intuition).

    python bench/embedding_kinds.py [--kinds cbow,skipgram,fasttext] [--corpora A.jsonl.gz ...]

Each kind is trained as ``train.py --embeddings`` trains (one worker, seed 0, the project's tokens);
the archives are segmented once into a temporary file and streamed to gensim for every kind.
Prints, per kind: the training time, the vocabulary, grouped CV macro-F1 (all, per source).
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

KINDS = {
    "cbow": {"kind": "word2vec", "sg": 0},
    "skipgram": {"kind": "word2vec", "sg": 1},
    "fasttext": {"kind": "fasttext", "sg": 0},
}


def main() -> int:
    from countythemes.codebook import load_themes
    from countythemes.embeddings import PARAMETERS, Embeddings, TokenFile, train_vectors
    from countythemes.labels import read_labels, seed_label_files
    from countythemes.pipeline import iter_paragraphs
    from countythemes.training import cross_validate, training_set
    from countythemes.workers import cores

    parser = argparse.ArgumentParser()
    parser.add_argument("--kinds", default=",".join(KINDS))
    parser.add_argument("--corpora", nargs="*", default=[str(ROOT.parent / "shared" / "corpora" / name)
                                                         for name in ("xwlb.jsonl.gz", "rmrb-rural.jsonl.gz")])
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    themes = load_themes(None)
    paragraphs = list(iter_paragraphs([str(ROOT / "seeds")], print))
    labels = read_labels(seed_label_files(ROOT / "seeds"), {p.id for p in paragraphs},
                         {t.key: t.name for t in themes})
    data = training_set(paragraphs, labels)
    with tempfile.TemporaryDirectory(prefix="embedding-kinds-") as scratch:
        start = time.perf_counter()
        tokens = TokenFile.write([Path(p) for p in args.corpora], Path(scratch) / "tokens.txt")
        print(f"segmented {tokens.paragraphs} paragraphs ({tokens.tokens} tokens) in "
              f"{time.perf_counter() - start:.0f} s", flush=True)
        print(f"{'kind':<10}{'train s':>9}{'words':>8}{'CV macro-F1':>13}  per source", flush=True)
        for name in args.kinds.split(","):
            parameters = dict(PARAMETERS, **KINDS[name])
            start = time.perf_counter()
            vectors, words = train_vectors(tokens, args.seed, parameters)
            seconds = time.perf_counter() - start
            cv = cross_validate(data, themes, Embeddings(vectors, words), args.seed, workers=cores())
            sources = ", ".join(f"{k} {v['macro_f1']:.3f}" for k, v in cv["per_source"].items())
            print(f"{name:<10}{seconds:>9.0f}{len(words):>8}{cv['model']['macro_f1']:>13.3f}  {sources}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
