#!/usr/bin/env python3
"""Speed and memory on the xwlb news archive: every figure issue 7 asks for, with its command.

    python bench/speed.py [--corpus ../shared/corpora/xwlb.jsonl.gz] [--skip-archive-training]

Needs ../shared/corpora/xwlb.jsonl.gz (74,504 CCTV news stories, about 110 MB
of text); stops cleanly where it is absent. Figures are wall-clock seconds on
this machine, each printed with the command that produced it.
"""
from __future__ import annotations

import argparse
import gzip
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable


def timed(command: list[str], stdout=subprocess.DEVNULL) -> tuple[float, int, subprocess.CompletedProcess]:
    """Wall seconds, peak memory (MB) of the child, and the result of running ``command``."""
    wrapper = ("import resource, subprocess, sys, time; start = time.perf_counter(); "
               "r = subprocess.run(sys.argv[1:], stdout=sys.stdout, stderr=subprocess.PIPE); "
               "sys.stderr.write(f'{time.perf_counter() - start} {resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss} "
               "{r.returncode}\\n' + r.stderr.decode(errors='replace'))")
    result = subprocess.run([PYTHON, "-c", wrapper, *command], cwd=ROOT, stdout=stdout, stderr=subprocess.PIPE)
    first, _, rest = result.stderr.decode().partition("\n")
    seconds, peak, code = first.split()
    if int(code) != 0:
        sys.exit(f"failed ({code}): {' '.join(command)}\n{rest}")
    return float(seconds), int(peak) // 1024, result


def show(label: str, figure: str, command: list[str]) -> None:
    print(f"{label:<46}{figure:>22}   $ {' '.join(command)}", flush=True)


def sample(corpus: Path, out: Path, n: int | None = None, keep=lambda record: True) -> int:
    count = 0
    with gzip.open(corpus, "rt", encoding="utf-8") as source, open(out, "w", encoding="utf-8") as target:
        for line in source:
            if n is not None and count >= n:
                break
            if keep(json.loads(line)):
                target.write(line)
                count += 1
    return count


def fast_themes_of(sample_path: Path) -> tuple[float, list[str]]:
    """Our path for the same job: the fast segmenter and the numpy scorer, one process."""
    sys.path.insert(0, str(ROOT))
    from countythemes.corpus import iter_paragraphs
    from countythemes.modelfiles import load_theme_scorer
    from countythemes.tokens import segment

    paragraphs = [p.text for p in iter_paragraphs([str(sample_path)], lambda problem: None)]
    scorer = load_theme_scorer(ROOT / "models")
    segment("预热")  # load the dictionary outside the timing, as the naive side's Pipeline is fitted outside
    start = time.perf_counter()
    themes = [scorer.classify(text)["theme"] for text in paragraphs]
    return time.perf_counter() - start, themes


def naive_themes(sample_path: Path) -> tuple[float, list[str], int]:
    """The naive pipeline: jieba.lcut per paragraph and the trained scikit-learn Pipeline, one process."""
    sys.path.insert(0, str(ROOT))
    from countythemes.classifier import load_themes
    from countythemes.corpus import iter_paragraphs
    from countythemes.tokens import reference_segmenter, tokenize_filter
    from countythemes.training import build_pipeline, calibration_folds, read_labels, training_set

    themes = load_themes()
    seeds = list(iter_paragraphs([str(ROOT / "seeds")], print))
    labels = read_labels([str(ROOT / "seeds" / "labels.csv")], {p.id for p in seeds}, [t.key for t in themes])
    data = training_set(seeds, labels)
    pipeline = build_pipeline(20240501, themes, calibration_folds(data.themes)).fit(data.texts, data.themes)
    paragraphs = [p.text for p in iter_paragraphs([str(sample_path)], lambda problem: None)]
    jieba = reference_segmenter()

    def jieba_tokens(text: str) -> list[str]:
        """The Pipeline's tokenizer with jieba.lcut doing the segmenting, and no cache."""
        return tokenize_filter(jieba.lcut(text, HMM=False))

    pipeline.named_steps["features"].transformer_list[0][1].tokenizer = jieba_tokens
    start = time.perf_counter()
    probabilities = pipeline.predict_proba(paragraphs)
    seconds = time.perf_counter() - start
    return seconds, [str(pipeline.classes_[i]) for i in probabilities.argmax(axis=1)], len(paragraphs)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", default=str(ROOT.parent / "shared" / "corpora" / "xwlb.jsonl.gz"))
    parser.add_argument("--skip-archive-training", action="store_true",
                        help="skip training on the ~4,200 poverty-related stories (minutes)")
    args = parser.parse_args()
    corpus = Path(args.corpus)
    if not corpus.exists():
        print(f"{corpus}: not found; this bench needs the xwlb corpus (74,504 stories). Nothing measured.")
        return 0
    print(f"corpus: {corpus} (74,504 CCTV news stories, ~110 MB of text); {os.cpu_count()} cores\n")
    scratch = Path(tempfile.mkdtemp(prefix="countythemes-bench-"))

    # 1. batch: the whole archive, themes and places, JSON lines out
    command = [PYTHON, "analyze.py", "classify", str(corpus), "--no-topics"]
    with open(scratch / "all.jsonl", "wb") as out:
        seconds, peak, _ = timed(command, stdout=out)
    lines = sum(1 for _ in open(scratch / "all.jsonl", "rb"))
    show("batch: classify the archive (no topics)", f"{seconds:.1f} s, {peak} MB peak", command)
    print(f"{'':<46}{lines:>22,} paragraphs, {lines / seconds:,.0f}/s")

    # 2. topic inference throughput, on a 5,000-story sample
    five = scratch / "sample5000.jsonl"
    sample(corpus, five, 5000)
    without, _, _ = timed([PYTHON, "analyze.py", "classify", str(five), "--no-topics"])
    command = [PYTHON, "analyze.py", "classify", str(five)]
    with_topics, _, result = timed(command, stdout=subprocess.PIPE)
    paragraphs = len(result.stdout.splitlines())
    show("topic inference (5,000 stories)", f"{paragraphs / max(with_topics - without, 1e-9):,.0f} paragraphs/s",
         command + ["(minus --no-topics)"])

    # 3. against the naive pipeline on the same sample, one process each
    themed, fast_themes = fast_themes_of(five)
    command = [PYTHON, "analyze.py", "classify", str(five), "--no-topics", "--workers", "1"]
    ours, _, result = timed(command, stdout=subprocess.PIPE)
    our_themes = [json.loads(line)["theme"] for line in result.stdout.splitlines()]
    naive, naive_labels, count = naive_themes(five)
    same = sum(a == b for a, b in zip(our_themes, naive_labels))
    show("naive: jieba.lcut + Pipeline.predict_proba", f"{naive:.1f} s (themes only)", ["bench/speed.py:naive_themes"])
    show("ours: rjieba + numpy ThemeScorer", f"{themed:.1f} s, {naive / themed:.1f}x faster",
         ["bench/speed.py:fast_themes_of"])
    show("ours, whole command, one process", f"{ours:.1f} s (reading, places too)", command)
    print(f"{'':<46}{same:>10,} of {count:,} paragraphs get the same theme from the command,")
    print(f"{'':<46}{sum(a == b for a, b in zip(fast_themes, naive_labels)):>10,} from the scorer")

    # 4. cold start: one short article from the shell, median of 5
    article = scratch / "short.txt"
    article.write_text("平顺县人社局举办春风行动招聘会，帮助脱贫劳动力外出务工，人均月工资四千元。\n", encoding="utf-8")
    command = [PYTHON, "analyze.py", "classify", str(article)]
    runs = [timed(command)[0] for _ in range(5)]
    show("cold start: classify one short article", f"{statistics.median(runs):.2f} s median of 5", command)

    # 5. training
    command = [PYTHON, "train.py", "--out", str(scratch / "models")]
    seconds, peak, _ = timed(command)
    show("train on seeds/ with the K search", f"{seconds:.1f} s, {peak} MB peak", command)
    if not args.skip_archive_training:
        poverty = scratch / "poverty"
        poverty.mkdir()
        n = sample(corpus, poverty / "stories.jsonl",
                   keep=lambda r: any(w in r["text"] for w in ("脱贫", "扶贫", "乡村振兴")))
        command = [PYTHON, "train.py", "--corpus", str(poverty), "--out", str(scratch / "archive-models")]
        seconds, peak, _ = timed(command)
        show(f"train with {n:,} poverty-related stories", f"{seconds:.0f} s, {peak} MB peak", command)
        topics = subprocess.run([PYTHON, "analyze.py", "topics", "--models", str(scratch / "archive-models")],
                                cwd=ROOT, capture_output=True, text=True)
        print(topics.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
