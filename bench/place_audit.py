#!/usr/bin/env python3
"""Draw the false-hit audit's sample (issue 17): counties with many paragraphs in 5,000 archive stories.

Picks 5,000 stories of the xwlb archive with a fixed seed, attributes every
paragraph, and for every county-level unit given 20 paragraphs or more draws
10 of them (fixed seed) to be read by a person against THEMES.md "Places":
is the county right for this paragraph? The judging is by reading, not by a
script; this only draws the sample and prints each paragraph with its story's
title, the paragraphs before it and the evidence that decided it.

    python bench/place_audit.py [--corpus ../shared/corpora/xwlb.jsonl.gz] [--stories 5000]
                                [--seed 17] [--min 20] [--per-unit 10] > sample.txt
"""
from __future__ import annotations

import argparse
import gzip
import random
import sys
import tempfile
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from countythemes.pipeline import iter_paragraphs  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", default=str(ROOT.parent / "shared" / "corpora" / "xwlb.jsonl.gz"))
    parser.add_argument("--stories", type=int, default=5000)
    parser.add_argument("--seed", type=int, default=17)
    parser.add_argument("--min", type=int, default=20, help="units with at least this many paragraphs")
    parser.add_argument("--per-unit", type=int, default=10)
    parser.add_argument("--random", type=int, default=40,
                        help="also draw this many paragraphs among all given a county (the long tail)")
    args = parser.parse_args()
    corpus = Path(args.corpus)
    if not corpus.exists():
        print(f"{corpus}: not found; this bench needs the xwlb archive")
        return 0
    with gzip.open(corpus, "rb") as handle:
        lines = handle.readlines()
    chosen = sorted(random.Random(args.seed).sample(range(len(lines)), args.stories))
    with tempfile.TemporaryDirectory() as scratch:
        sample = Path(scratch) / "stories.jsonl"
        sample.write_bytes(b"".join(lines[i] for i in chosen))
        paragraphs = list(iter_paragraphs([str(sample)], lambda problem: None))
    by_article = defaultdict(list)
    by_unit = defaultdict(list)
    for p in paragraphs:
        by_article[p.article_index].append(p)
        if p.county:
            by_unit[(p.province, p.city or "", p.county)].append(p)
    given = sum(len(v) for v in by_unit.values())
    print(f"{args.stories} stories (lines {', '.join(map(str, chosen[:3]))}, … of {len(lines)}; seed {args.seed}): "
          f"{len(paragraphs)} paragraphs, {given} given a county, {len(by_unit)} counties")
    big = sorted((k for k, v in by_unit.items() if len(v) >= args.min), key=lambda k: -len(by_unit[k]))
    print(f"{len(big)} counties with {args.min} paragraphs or more; {args.per_unit} of each drawn below\n")
    rng = random.Random(args.seed)

    def show(drawn: list) -> None:
        for n, p in enumerate(sorted(drawn, key=lambda p: (p.article_index, p.paragraph)), start=1):
            story = by_article[p.article_index]
            print(f"[{n}] {p.county} — story {p.article_index} «{p.article}» paragraph {p.paragraph} of {len(story)}; "
                  f"{p.place_source}: {getattr(p, 'place_evidence', None)}")
            for before in story[max(0, p.paragraph - 2): p.paragraph]:
                print(f"      before: {before.text[:90]}")
            print(f"      >>> {p.text}")
        print()

    for key in big:
        found = by_unit[key]
        print(f"=== {'/'.join(key)}: {len(found)} paragraphs in {len({p.article_index for p in found})} stories")
        show(rng.sample(found, min(args.per_unit, len(found))))
    every = [p for key in sorted(by_unit) for p in by_unit[key]]
    if args.random:
        print(f"=== {args.random} paragraphs drawn among all {len(every)} given a county")
        show(rng.sample(every, min(args.random, len(every))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
