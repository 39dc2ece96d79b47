#!/usr/bin/env python3
"""Choose the stories to label (issue 16) from the two shared corpora and write them, whole, to seeds/.

The choice is reproducible (fixed seed) and stated here so that a reader of the labels knows what
population they describe:

- rural-policy stories: the title or text mentions 脱贫, 扶贫, 乡村振兴, 驻村 or 农村;
- never a story of the dev set (``../shared/dev/dev.jsonl``);
- TV archive (xwlb): stories of 2 to 6 paragraphs (the archive's blank-line paragraphs), so that
  300 whole stories fit the labeling budget; stratified by year, ``PER_YEAR`` drawn at random from
  each year 2012-2026; then, on purpose, ``PER_RARE_THEME`` stories for each rare theme among the
  remaining rural stories whose *title* has one of that theme's words (a choice of what to read, not a
  label: each paragraph is still labeled by reading it);
- newspaper (rmrb-rural): random rural stories of at most 30 paragraphs until 420 paragraphs are reached;
- then a supplement, drawn after the first reading showed employment far below 60 paragraphs:
  ``SUPPLEMENT`` more TV stories chosen on purpose among those whose title has an employment word.

Usage: ``python bench/label_sample.py [--shared ../shared] [--out seeds/]`` prints the counts.
"""
from __future__ import annotations

import argparse
import gzip
import json
import random
from collections import Counter
from pathlib import Path

SEED = 20261202
RURAL = ("脱贫", "扶贫", "乡村振兴", "驻村", "农村")
PER_YEAR = 14
PER_RARE_THEME = 24
RARE_TITLE_WORDS = {
    "cadres": ("第一书记", "驻村", "工作队", "党建", "干部", "党支部"),
    "environment": ("人居环境", "改厕", "垃圾", "生态", "造林", "绿化", "护林", "污水"),
    "finance": ("金融", "贷款", "信贷", "保险", "资金", "授信", "分红"),
}
RMRB_PARAGRAPHS = 420
SUPPLEMENT = {"employment": (16, ("就业", "务工", "技能培训", "劳务", "招聘", "用工", "岗位", "返乡创业"))}


def stories(path: Path):
    with gzip.open(path, "rt", encoding="utf-8") as lines:
        for line in lines:
            yield json.loads(line)


def paragraph_count(story: dict) -> int:
    return sum(1 for block in story["text"].split("\n\n") if block.strip())


def rural(story: dict) -> bool:
    return any(word in story["title"] or word in story["text"] for word in RURAL)


def choose(shared: Path) -> tuple[list[dict], list[dict]]:
    dev = {json.loads(line)["story_id"] for line in open(shared / "dev" / "dev.jsonl", encoding="utf-8")}
    rng = random.Random(SEED)
    pool = [s for s in stories(shared / "corpora" / "xwlb.jsonl.gz")
            if s["id"] not in dev and rural(s) and 2 <= paragraph_count(s) <= 6]
    by_year: dict[str, list[dict]] = {}
    for story in pool:
        by_year.setdefault(story["date"][:4], []).append(story)
    chosen = []
    for year in sorted(by_year):
        chosen += [dict(s, chosen="random") for s in rng.sample(by_year[year], min(PER_YEAR, len(by_year[year])))]
    taken = {s["id"] for s in chosen}
    for theme, words in RARE_TITLE_WORDS.items():
        candidates = [s for s in pool if s["id"] not in taken and any(w in s["title"] for w in words)]
        for story in rng.sample(candidates, min(PER_RARE_THEME, len(candidates))):
            chosen.append(dict(story, chosen=f"purposive:{theme}"))
            taken.add(story["id"])
    paper = [s for s in stories(shared / "corpora" / "rmrb-rural.jsonl.gz")
             if s["id"] not in dev and rural(s) and paragraph_count(s) <= 30]
    rng.shuffle(paper)
    newspaper, total = [], 0
    for story in paper:
        if total >= RMRB_PARAGRAPHS:
            break
        newspaper.append(dict(story, chosen="random"))
        total += paragraph_count(story)
    for theme, (count, words) in SUPPLEMENT.items():
        candidates = [s for s in pool if s["id"] not in taken and any(w in s["title"] for w in words)]
        for story in rng.sample(candidates, min(count, len(candidates))):
            chosen.append(dict(story, chosen=f"purposive:{theme}"))
            taken.add(story["id"])
    return chosen, newspaper


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared", type=Path, default=Path(__file__).resolve().parents[1].parent / "shared")
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parents[1] / "seeds")
    args = parser.parse_args()
    tv, paper = choose(args.shared)
    for name, chosen in (("xwlb", tv), ("rmrb", paper)):
        path = args.out / f"{name}.jsonl"
        with open(path, "x", encoding="utf-8") as out:
            for story in sorted(chosen, key=lambda s: (s["date"], s["id"])):
                out.write(json.dumps(story, ensure_ascii=False) + "\n")
        print(f"{path}: {len(chosen)} stories, {sum(map(paragraph_count, chosen))} archive paragraphs, "
              f"years {dict(sorted(Counter(s['date'][:4] for s in chosen).items()))}, "
              f"chosen {dict(Counter(s['chosen'] for s in chosen))}")


if __name__ == "__main__":
    main()
