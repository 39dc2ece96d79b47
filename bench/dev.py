#!/usr/bin/env python3
"""Score the committed classifier and the place attribution on ../shared/dev/dev.jsonl.

The dev set is 184 paragraphs of 26 TV news stories unlike the seeds, with
gold themes and places from two annotators. Seed cross-validation flatters
the model (same newspapers, same style); this says how it does on new text.

    python bench/dev.py [--dev PATH] [--models DIR] [--zero-shot]

``--zero-shot`` scores the classifier ``train.py`` makes without labels (the
codebook's prototypes in the committed word vectors, and its typical words).
"""
from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from countythemes.classifier import ThemeScorer, typical_word_counts  # noqa: E402
from countythemes.cleaning import Article  # noqa: E402
from countythemes.codebook import load_themes  # noqa: E402
from countythemes.embeddings import Embeddings  # noqa: E402
from countythemes.pipeline import article_paragraphs  # noqa: E402
from countythemes.tokens import segment  # noqa: E402


def macro_f1(truth: list[str], predicted: list[str], keys: list[str]) -> tuple[float, dict[str, float]]:
    scores = {}
    for key in keys:
        tp = sum(t == key and p == key for t, p in zip(truth, predicted))
        fp = sum(t != key and p == key for t, p in zip(truth, predicted))
        fn = sum(t == key and p != key for t, p in zip(truth, predicted))
        scores[key] = 2 * tp / (2 * tp + fp + fn) if tp else 0.0
    return sum(scores.values()) / len(keys), scores


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dev", default=str(ROOT.parent / "shared" / "dev" / "dev.jsonl"))
    parser.add_argument("--models", default=str(ROOT / "models"))
    parser.add_argument("--zero-shot", action="store_true", help="score the zero-shot classifier (no labels)")
    args = parser.parse_args()
    if not Path(args.dev).exists():
        print(f"{args.dev}: not found; this bench needs the shared dev set", file=sys.stderr)
        return 0
    rows = [json.loads(line) for line in open(args.dev, encoding="utf-8")]
    themes = load_themes()
    keys = [t.key for t in themes]
    if args.zero_shot:
        from countythemes.training import zero_shot_classifier

        embeddings = Embeddings.load(Path(args.models))
        scorer = ThemeScorer(zero_shot_classifier(themes, embeddings), embeddings)
    else:
        scorer = ThemeScorer.load(Path(args.models))

    stories: dict[str, list[dict]] = {}
    for row in rows:
        stories.setdefault(row["article"], []).append(row)
    predicted, places, baseline = [], [], []
    for story in stories.values():
        story.sort(key=lambda r: r["para"])
        article = Article(source="dev", index=0, title=story[0]["title"], paragraphs=[r["text"] for r in story],
                          headline=story[0]["title"])
        context = story[0]["title"] + "\n" + "\n".join(r["text"] for r in story)
        texts = [r["text"] for r in story]  # the story's paragraphs together, as classify reads an article
        predicted += scorer.classify_all(texts, [segment(t) for t in texts], ["story"] * len(texts))
        for row, paragraph in zip(story, article_paragraphs(article, context)):
            places.append(paragraph)
            counts = typical_word_counts(row["text"], tuple(t.words for t in themes))
            best = max(range(len(counts)), key=counts.__getitem__)
            baseline.append(themes[best].key if counts[best] else "other")
    rows = [r for story in stories.values() for r in story]
    truth = [r["theme"] for r in rows]

    model_f1, per_theme = macro_f1(truth, [p["theme"] for p in predicted], keys)
    base_f1, _ = macro_f1(truth, baseline, keys)
    print(f"dev set: {len(rows)} paragraphs, {len(stories)} stories; gold themes {dict(Counter(truth))}")
    print(f"themes  macro-F1: {'zero-shot ' if args.zero_shot else ''}model {model_f1:.3f} | typical words {base_f1:.3f}")
    print("        per theme: " + ", ".join(f"{k} {v:.2f}" for k, v in per_theme.items()))
    right = sum(p["theme"] == t for p, t in zip(predicted, truth))
    alt = sum(p["theme"] != r["theme"] and p["theme"] in r.get("alt", []) for p, r in zip(predicted, rows))
    print(f"        accuracy {right / len(rows):.3f} ({right}/{len(rows)}); "
          f"{alt} more answers match an annotator's alternative")
    flagged = [p["uncertain"] for p in predicted]
    ok = [p["theme"] == t for p, t in zip(predicted, truth)]
    n_flag = sum(flagged)
    print(f"        uncertain: {n_flag} flagged, accuracy {sum(o for o, f in zip(ok, flagged) if f) / max(n_flag, 1):.3f}"
          f" flagged vs {sum(o for o, f in zip(ok, flagged) if not f) / max(len(ok) - n_flag, 1):.3f} confident")

    def place(r):
        return (r.get("county"), r.get("city"), r.get("province"))

    exact = sum(place(r) == (p.county, p.city, p.province) for r, p in zip(rows, places))
    county = [(r, p) for r, p in zip(rows, places) if r.get("county")]
    county_right = sum(r["county"] == p.county for r, p in county)
    print(f"places  exact (county, city, province) {exact / len(rows):.3f} ({exact}/{len(rows)}); "
          f"county right where gold has one {county_right}/{len(county)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
