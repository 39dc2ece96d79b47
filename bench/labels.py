#!/usr/bin/env python3
"""The labeled set (issue 16): what it holds, how far two annotators agree, and what it says of the model.

Prints, from ``seeds/`` alone (no ``../shared`` needed):

- paragraphs per theme, source, year and province, and how the stories were chosen;
- on the paragraphs labeled twice (``seeds/double-labels.csv``): Cohen's kappa for the theme,
  agreement on the county and on the whole place, and how many disagreements a third reading settled
  (``seeds/adjudication.csv``);
- what the model is worth beyond the seed pages: the model trained on the five seed pages alone,
  scored on the new labels (per source), and grouped cross-validation (by article) of today's
  pipeline on the new labels alone.

Usage: ``python bench/labels.py``
"""
from __future__ import annotations

import csv
import json
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from threadpoolctl import threadpool_limits  # noqa: E402

from countythemes.codebook import load_themes  # noqa: E402
from countythemes.embeddings import Embeddings  # noqa: E402
from countythemes.labels import read_labels  # noqa: E402
from countythemes.pipeline import iter_paragraphs  # noqa: E402
from countythemes.training import (  # noqa: E402
    build_pipeline,
    calibration_folds,
    cross_validate,
    passages,
    training_set,
)

SOURCES = {"labels.csv": "seed pages", "labels-xwlb.csv": "TV (xwlb)", "labels-rmrb.csv": "newspaper (rmrb)"}


def rows_of(name: str) -> list[dict]:
    with open(ROOT / "seeds" / name, encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def kappa(first: list[str], second: list[str]) -> float:
    n = len(first)
    observed = sum(a == b for a, b in zip(first, second)) / n
    a, b = Counter(first), Counter(second)
    expected = sum(a[k] * b[k] for k in set(a) | set(b)) / n / n
    return (observed - expected) / (1 - expected)


def table(title: str, counts: Counter, width: int = 14) -> None:
    print(f"\n{title}")
    for key, count in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])):
        print(f"  {key or '(none)':<{width}}{count:>6}")


def main() -> None:
    keys = [t.key for t in load_themes()]
    labeled = {name: rows_of(name) for name in SOURCES}
    stories = {name: [json.loads(line) for line in open(ROOT / "seeds" / f"{name}.jsonl", encoding="utf-8")]
               for name in ("xwlb", "rmrb")}
    print("Labeled paragraphs per theme and source")
    print(f"  {'theme':<14}" + "".join(f"{s:>18}" for s in SOURCES.values()) + f"{'all':>8}")
    for key in keys:
        counts = [sum(r["theme"] == key for r in labeled[name]) for name in SOURCES]
        print(f"  {key:<14}" + "".join(f"{c:>18}" for c in counts) + f"{sum(counts):>8}")
    totals = [len(labeled[name]) for name in SOURCES]
    print(f"  {'all':<14}" + "".join(f"{c:>18}" for c in totals) + f"{sum(totals):>8}")
    print(f"\nStories: {len(stories['xwlb'])} TV, {len(stories['rmrb'])} newspaper; chosen: "
          + ", ".join(f"{k} {v}" for k, v in sorted(Counter(s['chosen'] for v in stories.values() for s in v).items())))

    paragraphs = list(iter_paragraphs([str(ROOT / "seeds")], print))
    story_of = {}
    for p in paragraphs:
        name = Path(p.source).stem
        if name in stories:
            story_of.setdefault(p.id, stories[name][p.article_index])
    new = labeled["labels-xwlb.csv"] + labeled["labels-rmrb.csv"]
    table("New labels per year", Counter(story_of[r["id"]]["date"][:4] for r in new), 8)
    provinces = Counter(r["province"] for r in new)
    table(f"New labels per province ({len([p for p in provinces if p])} provinces; none = national)", provinces)

    double = rows_of("double-labels.csv")
    settled = rows_of("adjudication.csv")
    theme_kappa = kappa([r["theme_1"] for r in double], [r["theme_2"] for r in double])
    agree = sum(r["theme_1"] == r["theme_2"] for r in double)
    county = sum(r["county_1"] == r["county_2"] for r in double)
    with_county = [r for r in double if r["county_1"] or r["county_2"]]
    county_where = sum(r["county_1"] == r["county_2"] for r in with_county)
    place = sum((r["county_1"], r["city_1"], r["province_1"]) == (r["county_2"], r["city_2"], r["province_2"])
                for r in double)
    print(f"\nDouble-labeled: {len(double)} paragraphs ({Counter(r['source'] for r in double)})")
    print(f"  theme: agreement {agree}/{len(double)} = {agree / len(double):.3f}, Cohen's kappa {theme_kappa:.3f}")
    print(f"  county: agreement {county}/{len(double)} = {county / len(double):.3f} "
          f"({county_where}/{len(with_county)} where either gave a county)")
    print(f"  whole place (county, city, province): {place}/{len(double)} = {place / len(double):.3f}")
    print(f"  disagreements settled by a third reading: {len(settled)} (seeds/adjudication.csv)")
    annotators = Counter(a for name in SOURCES for r in labeled[name] for a in r["annotator"].replace(";", "+").split("+"))
    table("Paragraphs per annotator (final labels; a double-labeled paragraph counts for both)",
          Counter({k.strip(): v for k, v in annotators.items()}), 44)

    themes = load_themes()
    names = {t.key: t.name for t in themes}
    with threadpool_limits(limits=1):
        pages = read_labels([str(ROOT / "seeds" / "labels.csv")], {p.id for p in paragraphs}, names)
        page_set = training_set(paragraphs, pages)
        embeddings = Embeddings.load(ROOT / "models")
        model = build_pipeline(20240501, themes, embeddings, calibration_folds(page_set.themes)).fit(
            passages(page_set), page_set.themes)
        print("\nThe seed-page model (126 labels) on the new labels: what its generalisation really is")
        for name in ("labels-xwlb.csv", "labels-rmrb.csv"):
            labels = read_labels([str(ROOT / "seeds" / name)], {p.id for p in paragraphs}, names)
            data = training_set(paragraphs, labels)
            predicted = model.predict(passages(data))
            from sklearn.metrics import f1_score

            print(f"  {SOURCES[name]:<18} {len(data.texts):>5} paragraphs: macro-F1 "
                  f"{f1_score(data.themes, predicted, labels=keys, average='macro', zero_division=0):.3f}, "
                  f"accuracy {sum(a == b for a, b in zip(predicted, data.themes)) / len(data.texts):.3f}")
        labels = read_labels([str(ROOT / "seeds" / n) for n in ("labels-xwlb.csv", "labels-rmrb.csv")],
                             {p.id for p in paragraphs}, names)
        data = training_set(paragraphs, labels)
        cv = cross_validate(data, themes, embeddings, 20240501)
        print(f"\nGrouped CV (5 folds by article) of today's pipeline on the new labels alone ({len(data.texts)}):")
        print(f"  macro-F1 {cv['model']['macro_f1']:.3f} (accuracy {cv['model']['accuracy']:.3f}); "
              f"majority {cv['majority']['macro_f1']:.3f}; typical words {cv['typical_words']['macro_f1']:.3f}")
        print("  per theme F1: " + ", ".join(f"{k} {cv['model']['per_theme'][k]['f1']:.3f}" for k in keys))


if __name__ == "__main__":
    main()
