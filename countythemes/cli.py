"""Command-line front ends behind ``analyze.py`` and ``train.py``.

Every failure a user can cause ends here as one line on stderr and exit code 2;
inputs that could be read are still processed and printed.
"""
from __future__ import annotations

import argparse
import json
import sys
from typing import Callable, Iterable

from .reading import ReadProblem

EXIT_BAD_INPUT = 2


class UserError(Exception):
    """A problem the user can fix; printed as one line, never as a traceback."""


class _Problems:
    """Collects skipped inputs: each is reported at once, the exit code at the end."""

    def __init__(self) -> None:
        self.count = 0

    def __call__(self, problem: ReadProblem) -> None:
        self.count += 1
        print(f"skipped {problem}", file=sys.stderr, flush=True)


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line, exit 2, like every other bad input
        print(f"{self.prog}: {message} (see --help)", file=sys.stderr)
        sys.exit(EXIT_BAD_INPUT)


def _json_lines(records: Iterable[dict]) -> None:
    out = sys.stdout
    for record in records:
        out.write(json.dumps(record, ensure_ascii=False) + "\n")


def _run(main: Callable[[], int]) -> int:
    try:
        return main()
    except UserError as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except BrokenPipeError:  # output piped into head: stop quietly
        sys.stderr.close()
        return 0
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


# ------------------------------------------------------------------------ analyze


def analyze_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="analyze.py", description="Read, classify and report on county news articles.")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    paragraphs = commands.add_parser("paragraphs", help="print each body paragraph as a JSON line")
    paragraphs.add_argument("paths", nargs="+", metavar="PATH",
                            help="files, folders (read recursively), .jsonl/.jsonl.gz corpora, or - for stdin")
    return parser


def analyze_main(argv: list[str] | None = None) -> int:
    args = analyze_parser().parse_args(argv)

    def main() -> int:
        if args.command == "paragraphs":
            return _paragraphs(args.paths)
        raise UserError(f"unknown command {args.command}")

    return _run(main)


def _paragraphs(paths: list[str]) -> int:
    from .corpus import iter_paragraphs

    problems = _Problems()
    _json_lines(p.record() for p in iter_paragraphs(paths, problems))
    return EXIT_BAD_INPUT if problems.count else 0


# -------------------------------------------------------------------------- train


def train_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="train.py", description="Train the theme classifier on the labeled corpus.")
    parser.add_argument("--seeds", default="seeds", help="the corpus folder (default: seeds)")
    parser.add_argument("--labels", action="append", default=[], metavar="FILE",
                        help="extra label files (repeatable); SEEDS/labels.csv is always read")
    parser.add_argument("--themes", default=None, metavar="FILE", help="a themes JSON file (default: the codebook)")
    parser.add_argument("--out", default="models", help="where the model files go (default: models)")
    parser.add_argument("--seed", type=int, default=20240501, help="random seed (default: 20240501)")
    return parser


def train_main(argv: list[str] | None = None) -> int:
    args = train_parser().parse_args(argv)
    return _run(lambda: _train(args))


def _train(args) -> int:
    from pathlib import Path

    from .classifier import ThemesError, load_themes
    from .corpus import iter_paragraphs
    from .modelfiles import write_models
    from .training import (LabelError, cross_validate, fingerprint, fit_final, print_evaluation,
                           read_labels, training_set)

    seeds = Path(args.seeds)
    if not seeds.is_dir():
        raise UserError(f"{seeds}: no such corpus folder")
    try:
        themes = load_themes(args.themes)
    except ThemesError as error:
        raise UserError(str(error)) from None
    keys = [t.key for t in themes]
    problems = _Problems()
    print(f"reading {seeds}/ …", file=sys.stderr)
    paragraphs = list(iter_paragraphs([str(seeds)], problems))
    if problems.count:
        raise UserError(f"{problems.count} corpus file(s) could not be read; fix or remove them first")
    label_files = [str(seeds / "labels.csv")] + list(args.labels)
    try:
        labels = read_labels(label_files, {p.id for p in paragraphs}, keys)
    except LabelError as error:
        raise UserError(str(error)) from None
    data = training_set(paragraphs, labels)
    missing = [k for k in keys if data.themes.count(k) < 2]
    if missing:
        raise UserError(f"every theme needs at least 2 labeled paragraphs; too few for: {', '.join(missing)}")
    print(f"{len(paragraphs)} paragraphs, {len(data.texts)} labeled, in {len(set(data.groups))} articles",
          file=sys.stderr)
    cv = cross_validate(data, themes, args.seed)
    print_evaluation(cv, keys)
    for baseline in ("majority", "typical_words"):
        if cv["model"]["macro_f1"] <= cv[baseline]["macro_f1"]:
            print(f"warning: the model does not beat the {baseline} baseline", file=sys.stderr)
    classifier = fit_final(data, themes, args.seed, cv["threshold"])
    manifest = {
        "seed": args.seed,
        "themes": {t.key: t.name for t in themes},
        "training": {"paragraphs": len(paragraphs), "labeled": len(data.texts),
                     "articles": len(set(data.groups)),
                     "label_counts": {k: data.themes.count(k) for k in keys},
                     "data": fingerprint(*(p.text for p in paragraphs), *sorted(
                         f"{i}:{labels[i].theme}" for i in data.ids))},
        "cross_validation": cv,
    }
    write_models(Path(args.out), {"classifier.json": classifier}, manifest)
    print(f"models written to {args.out}/", file=sys.stderr)
    return 0
