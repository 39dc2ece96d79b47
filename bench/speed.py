#!/usr/bin/env python3
"""Speed and memory on the xwlb news archive: every figure issue 7 asks for, with its command.

    python bench/speed.py [--corpus ../shared/corpora/xwlb.jsonl.gz] [--skip-archive-training] [--profile-only]

``--profile-only`` prints only where a worker's time goes (each stage's share, places among them)
on the first 5,000 stories: the figure a change to one stage is judged by.

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
    """Wall seconds, peak memory (MB) of the largest process, and the result of running ``command``."""
    seconds, peak, _, result = timed_cpu(command, stdout)
    return seconds, peak, result


def timed_cpu(command: list[str], stdout=subprocess.DEVNULL) -> tuple[float, int, float, subprocess.CompletedProcess]:
    """``timed``, with the CPU seconds of the command and all its worker processes."""
    wrapper = ("import resource, subprocess, sys, time; start = time.perf_counter(); "
               "r = subprocess.run(sys.argv[1:], stdout=sys.stdout, stderr=subprocess.PIPE); "
               "u = resource.getrusage(resource.RUSAGE_CHILDREN); "
               "sys.stderr.write(f'{time.perf_counter() - start} {u.ru_maxrss} {u.ru_utime + u.ru_stime} "
               "{r.returncode}\\n' + r.stderr.decode(errors='replace'))")
    result = subprocess.run([PYTHON, "-c", wrapper, *command], cwd=ROOT, stdout=stdout, stderr=subprocess.PIPE)
    first, _, rest = result.stderr.decode().partition("\n")
    seconds, peak, cpu, code = first.split()
    skipped_only = all(line.startswith("skipped ") for line in rest.splitlines() if line.strip())
    if int(code) != 0 and not (int(code) == 2 and skipped_only):  # the archive has 2 records without a body
        sys.exit(f"failed ({code}): {' '.join(command)}\n{rest}")
    return float(seconds), int(peak) // 1024, float(cpu), result


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


def sample_paragraphs(sample_path: Path) -> list:
    sys.path.insert(0, str(ROOT))
    from countythemes.pipeline import iter_paragraphs

    return list(iter_paragraphs([str(sample_path)], lambda problem: None))


def fast_themes_of(texts: list[str], articles: list[str]) -> tuple[float, list[str]]:
    """Our path for the same job, one process: segment with rjieba, score all with the numpy scorer."""
    from countythemes.classifier import ThemeScorer
    from countythemes.tokens import segment

    scorer = ThemeScorer.load(ROOT / "models")
    segment("预热")  # load the dictionary outside the timing, as the naive side's Pipeline is fitted outside
    start = time.perf_counter()
    verdicts = scorer.classify_all(texts, [segment(text) for text in texts], articles)
    return time.perf_counter() - start, [v["theme"] for v in verdicts]


def naive_themes(texts: list[str], articles: list[str]) -> tuple[float, list[str]]:
    """The naive pipeline: jieba.lcut per paragraph and the trained scikit-learn Pipeline, one process."""
    from countythemes import training
    from countythemes.codebook import load_themes
    from countythemes.embeddings import Embeddings
    from countythemes.labels import read_labels, seed_label_files
    from countythemes.pipeline import iter_paragraphs
    from countythemes.tokens import reference_segmenter, tokenize_filter
    from countythemes.training import Passage, build_pipeline, calibration_folds, passages, training_set

    themes = load_themes()
    seeds = list(iter_paragraphs([str(ROOT / "seeds")], print))
    # every label of seeds/, as the committed models are trained: the same model on both sides
    labels = read_labels(seed_label_files(ROOT / "seeds"), {p.id for p in seeds}, {t.key: t.name for t in themes})
    data = training_set(seeds, labels)
    pipeline = build_pipeline(20240501, themes, Embeddings.load(ROOT / "models"),
                              calibration_folds(data.themes)).fit(passages(data), data.themes)
    jieba = reference_segmenter()

    def jieba_tokens(text: str) -> list[str]:
        """The Pipeline's tokenizer with jieba.lcut doing the segmenting, and no cache."""
        return tokenize_filter(jieba.lcut(text, HMM=False))

    training.paragraph_tokens = jieba_tokens  # what TF-IDF and the word-vector features tokenize with
    rows = [Passage(text, article) for text, article in zip(texts, articles)]
    start = time.perf_counter()
    probabilities = pipeline.predict_proba(rows)
    seconds = time.perf_counter() - start
    return seconds, [str(pipeline.classes_[i]) for i in probabilities.argmax(axis=1)]


def stage_profile(sample_path: Path) -> list[tuple[str, float]]:
    """Where a worker's time goes, stage by stage, on the sample in one process (best of three)."""
    import orjson

    sys.path.insert(0, str(ROOT))
    from countythemes.classifier import ThemeScorer
    from countythemes.cleaning import paragraph_id, split_articles
    from countythemes.places import attribute, gazetteer
    from countythemes.reading import read_documents
    from countythemes.records import Paragraph
    from countythemes.tokens import segment
    from countythemes.topics import TopicScorer

    segment("预热")
    gazetteer()
    scorer, topic_scorer = ThemeScorer.load(ROOT / "models"), TopicScorer.load(ROOT / "models")
    best: dict[str, float] = {}
    for _ in range(3):
        paragraph_id.cache_clear()
        clock: dict[str, float] = {}

        def timed_stage(name, work):
            start = time.perf_counter()
            result = work()
            clock[name] = clock.get(name, 0.0) + time.perf_counter() - start
            return result

        runs = timed_stage("read (gzip, runs of lines; the parent's part)",
                           lambda: list(read_documents([str(sample_path)])))
        documents = timed_stage("parse JSON records", lambda: [d for run in runs for d in run.documents()])
        articles = timed_stage("clean: articles, body paragraphs", lambda: [split_articles(d) for d in documents])
        words = timed_stage("segment (rjieba)", lambda: [[segment(t) for t in a.paragraphs]
                                                          for found in articles for a in found])
        places, k = [], 0
        for document, found in zip(documents, articles):
            context = "\n".join([document.title or ""] + [a.title + "\n" + "\n".join(a.paragraphs) for a in found])
            for article in found:
                places.append(timed_stage("places", lambda: attribute(article.paragraphs, article.headline,
                                                                       context, words[k])))
                k += 1

        def make_paragraphs():
            made, n = [], 0
            for found in articles:
                for article in found:
                    for index, (text, tokens, place) in enumerate(zip(article.paragraphs, words[n], places[n])):
                        made.append(Paragraph(article.source, article.title, article.index, index, paragraph_id(text),
                                              text, **place.fields(), date=article.date, words=tokens))
                    n += 1
            return made

        paragraphs = timed_stage("ids and paragraph records", make_paragraphs)
        texts, tokens = [p.text for p in paragraphs], [p.words for p in paragraphs]
        articles = [f"{p.source}#{p.article_index}" for p in paragraphs]
        verdicts = timed_stage("themes (numpy scorer)", lambda: scorer.classify_all(texts, tokens, articles))

        def encode():
            return [orjson.dumps(dict(p.record(), **v)) for p, v in zip(paragraphs, verdicts)]

        timed_stage("JSON lines", encode)
        timed_stage("topics (not with --no-topics)", lambda: topic_scorer.topics(tokens))
        for name, seconds in clock.items():
            best[name] = min(best.get(name, seconds), seconds)
    return list(best.items())


def print_profile(stages: list[tuple[str, float]]) -> None:
    """Each stage's seconds and its share of the batch work (topics aside: not with --no-topics)."""
    total = sum(seconds for name, seconds in stages if not name.startswith("topics"))
    for name, seconds in stages:
        share = "" if name.startswith("topics") else f"{seconds / total:6.1%}"
        print(f"  {name:<40}{seconds:7.2f} s {share}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", default=str(ROOT.parent / "shared" / "corpora" / "xwlb.jsonl.gz"))
    parser.add_argument("--skip-archive-training", action="store_true",
                        help="skip training on the ~4,200 poverty-related stories (minutes)")
    parser.add_argument("--profile-only", action="store_true",
                        help="only the stage profile on the first 5,000 stories (each stage's share of the time)")
    args = parser.parse_args()
    corpus = Path(args.corpus)
    if not corpus.exists():
        print(f"{corpus}: not found; this bench needs the xwlb corpus (74,504 stories). Nothing measured.")
        return 0
    print(f"corpus: {corpus} (74,504 CCTV news stories, ~110 MB of text); {os.cpu_count()} cores\n")
    scratch = Path(tempfile.mkdtemp(prefix="countythemes-bench-"))
    if args.profile_only:
        five = scratch / "sample5000.jsonl"
        sample(corpus, five, 5000)
        print_profile(stage_profile(five))
        return 0

    # 1. batch: the whole archive, themes and places, JSON lines out
    command = [PYTHON, "analyze.py", "classify", str(corpus), "--no-topics"]
    with open(scratch / "all.jsonl", "wb") as out:
        seconds, peak, cpu, _ = timed_cpu(command, stdout=out)
    lines = sum(1 for _ in open(scratch / "all.jsonl", "rb"))
    show("batch: classify the archive (no topics)", f"{seconds:.1f} s, {peak} MB peak", command)
    print(f"{'':<46}{lines:>22,} paragraphs, {lines / seconds:,.0f}/s; {cpu:.0f} CPU seconds on "
          f"{os.cpu_count()} cores (reader + workers)")
    (scratch / "all.jsonl").unlink()

    # 2. where the time goes, and topic inference throughput, on a 5,000-story sample
    five = scratch / "sample5000.jsonl"
    sample(corpus, five, 5000)
    stages = stage_profile(five)
    paragraphs = sample_paragraphs(five)
    texts = [p.text for p in paragraphs]
    mb = sum(len(t.encode()) for t in texts) / 1e6
    print(f"\nprofile: one process, first 5,000 stories ({len(texts):,} paragraphs, {mb:.1f} MB of body text), "
          "best of 3; from bench/speed.py:stage_profile")
    print_profile(stages)
    segmenting = dict(stages)["segment (rjieba)"]
    print(f"  rjieba here: {mb / segmenting:.1f} MB/s (the developers' guide measured 25 MB/s on a quieter machine)")
    topic_seconds = dict(stages)["topics (not with --no-topics)"]
    show("topic inference (numpy E-step, batched)", f"{len(texts) / topic_seconds:,.0f} paragraphs/s",
         ["bench/speed.py:stage_profile"])
    command = [PYTHON, "analyze.py", "classify", str(five)]
    with_topics, _, _ = timed(command)
    without, _, _ = timed(command + ["--no-topics"])
    show("  the same, whole command with and without", f"{with_topics:.1f} s vs {without:.1f} s", command)
    print()

    # 3. against the naive pipeline on the same sample, one process each
    articles = [f"{p.source}#{p.article_index}" for p in paragraphs]
    ours, our_themes = fast_themes_of(texts, articles)
    naive, naive_labels = naive_themes(texts, articles)
    command = [PYTHON, "analyze.py", "classify", str(five), "--no-topics", "--workers", "1"]
    whole, _, result = timed(command, stdout=subprocess.PIPE)
    command_themes = [json.loads(line)["theme"] for line in result.stdout.splitlines()]
    show("naive: jieba.lcut + Pipeline.predict_proba", f"{naive:.1f} s (themes only)", ["bench/speed.py:naive_themes"])
    show("ours: rjieba + numpy ThemeScorer", f"{ours:.2f} s, {naive / ours:.1f}x faster",
         ["bench/speed.py:fast_themes_of"])
    show("ours, whole command, one process", f"{whole:.1f} s (reading, places too)", command)
    print(f"{'':<46}{sum(a == b for a, b in zip(our_themes, naive_labels)):>10,} of {len(texts):,} paragraphs "
          "get the same theme from our scorer,")
    print(f"{'':<46}{sum(a == b for a, b in zip(command_themes, naive_labels)):>10,} from the command")

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
