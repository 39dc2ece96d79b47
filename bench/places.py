#!/usr/bin/env python3
"""Place attribution measured against gold places (issue 17): the dev set and the labeled set.

For each source it prints, over the labeled paragraphs:

- county accuracy where gold has a county (the county given equals gold's);
- exact place: (county, city, province) all equal to gold's;
- precision: of the paragraphs given a county, how many have gold's county;
- how many paragraphs got a county where gold has none (false hits), and
  how many got none where gold has one (misses).

Sources: ``../shared/dev/dev.jsonl`` (184 paragraphs of 26 TV stories; skipped
where absent) and the place columns of ``seeds/labels*.csv`` (the seed pages,
TV stories and People's Daily stories), grouped by label file. Nothing here is
tuned to: it only counts.

    python bench/places.py [--dev PATH] [--wrong]

``--wrong`` lists each disagreement (for reading, never for copying into rules or tests).
"""
from __future__ import annotations

import argparse
import csv
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from countythemes.cleaning import Article  # noqa: E402
from countythemes.pipeline import article_paragraphs, iter_paragraphs  # noqa: E402

SOURCES = {"labels.csv": "seed pages", "labels-xwlb.csv": "TV (xwlb)", "labels-rmrb.csv": "newspaper (rmrb)"}


def gold_place(row: dict) -> tuple:
    return tuple(row.get(k) or None for k in ("county", "city", "province"))


def score(name: str, pairs: list[tuple[tuple, tuple, str]], wrong: bool) -> None:
    """``pairs``: (gold, found, text) per paragraph, places as (county, city, province)."""
    n = len(pairs)
    with_county = [(g, f) for g, f, _ in pairs if g[0]]
    county_right = sum(g[0] == f[0] for g, f in with_county)
    exact = sum(g == f for g, f, _ in pairs)
    given = [(g, f) for g, f, _ in pairs if f[0]]
    precise = sum(g[0] == f[0] for g, f in given)
    false_hits = sum(1 for g, f in given if not g[0])
    misses = sum(1 for g, f in with_county if not f[0])
    print(f"{name:<18} {n:>5} paragraphs | county {county_right / max(len(with_county), 1):.3f} "
          f"({county_right}/{len(with_county)}) | exact {exact / max(n, 1):.3f} ({exact}/{n}) | "
          f"precision {precise / max(len(given), 1):.3f} ({precise}/{len(given)}); "
          f"{false_hits} county where gold has none, {misses} none where gold has one")
    if wrong:
        for g, f, text in pairs:
            if g != f:
                print(f"    gold {g} got {f}: {text[:150]}")


def dev_pairs(path: Path) -> list[tuple]:
    rows = [json.loads(line) for line in open(path, encoding="utf-8")]
    stories: dict[str, list[dict]] = {}
    for row in rows:
        stories.setdefault(row["article"], []).append(row)
    pairs = []
    for story in stories.values():
        story.sort(key=lambda r: r["para"])
        article = Article(source="dev", index=0, title=story[0]["title"], paragraphs=[r["text"] for r in story],
                          headline=story[0]["title"])
        context = story[0]["title"] + "\n" + "\n".join(r["text"] for r in story)
        for row, paragraph in zip(story, article_paragraphs(article, context)):
            pairs.append((gold_place(row), (paragraph.county, paragraph.city, paragraph.province),
                          f"[{paragraph.place_evidence}] {row['text']}"))
    return pairs


def label_pairs() -> dict[str, list[tuple]]:
    found = {p.id: p for p in iter_paragraphs([str(ROOT / "seeds")], lambda problem: None)}
    grouped = {}
    for name in SOURCES:
        with open(ROOT / "seeds" / name, encoding="utf-8") as handle:
            rows = list(csv.DictReader(handle))
        pairs = []
        for row in rows:
            p = found.get(row["id"])
            if p is not None:
                pairs.append((gold_place(row), (p.county, p.city, p.province), f"[{p.place_evidence}] {p.text}"))
        grouped[name] = pairs
    return grouped


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dev", default=str(ROOT.parent / "shared" / "dev" / "dev.jsonl"))
    parser.add_argument("--wrong", action="store_true", help="list every disagreement with gold")
    args = parser.parse_args()
    if Path(args.dev).exists():
        score("dev set", dev_pairs(Path(args.dev)), args.wrong)
    else:
        print(f"{args.dev}: not found; the dev set is left out")
    grouped = label_pairs()
    for name, pairs in grouped.items():
        score(SOURCES[name], pairs, args.wrong)
    score("labeled set, all", [pair for pairs in grouped.values() for pair in pairs], False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
