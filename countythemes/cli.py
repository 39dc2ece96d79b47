"""The command line: ``countythemes`` (and ``python -m countythemes``), ``analyze.py`` and ``train.py``.

Each command parses its options, calls the library (``api``, ``pipeline``)
and prints. Every failure a user can cause ends here as one line on stderr
and exit code 2; inputs that could be read are still processed and printed.
"""
from __future__ import annotations

import argparse
import os
import shlex
import signal
import sys
from pathlib import Path
from typing import Callable, Iterable

from . import api
from .errors import CountythemesError
from .progress import Progress, SkippedInputs
from .reading import shown_name, shown_path

EXIT_BAD_INPUT = 2


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line, exit 2, like every other bad input
        print(f"{self.prog}: {message} (see --help)", file=sys.stderr)
        sys.exit(EXIT_BAD_INPUT)


class _Stopped(KeyboardInterrupt):
    """SIGTERM, turned into an exception so that clean-up (staging folders) runs."""

    @classmethod
    def handler(cls, signum, frame) -> None:
        raise cls()


def _run(command: Callable[[], int]) -> int:
    signal.signal(signal.SIGTERM, _Stopped.handler)
    try:
        code = command()
        sys.stdout.flush()  # here, where a failure can still be reported, not at exit
        return code
    except CountythemesError as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except BrokenPipeError:  # output piped into head: stop quietly
        sys.stderr.close()
        return 0
    except OSError as error:
        if error.filename is not None:
            print(f"error: {shown_name(str(error.filename))}: {error.strerror}", file=sys.stderr)
            return EXIT_BAD_INPUT
        # Standard output failed (a full disk, a quota): what it still buffers must not fail again at exit.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        print(f"error: cannot write the output ({error.strerror})", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt as stop:
        terminated = isinstance(stop, _Stopped)
        print("terminated" if terminated else "interrupted", file=sys.stderr)
        return 128 + (signal.SIGTERM if terminated else signal.SIGINT)


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {value}")
    return value


def _add_analyze(commands, project: Path | None) -> None:
    from .modelfiles import packaged_models

    inputs = {"nargs": "+", "metavar": "PATH",
              "help": "files, folders (read recursively), .jsonl/.jsonl.gz corpora, or - for stdin"}
    models = {"default": str(project / "models") if project else str(packaged_models()), "metavar": "DIR",
              "help": "the trained model files (default: the committed models)"}
    labels = {"action": "append", "default": [], "metavar": "FILE",
              "help": "label files (repeatable; the project's seeds/labels*.csv are always read)"}
    paragraphs = commands.add_parser("paragraphs", help="print each body paragraph as a JSON line")
    paragraphs.add_argument("paths", **inputs)
    classify = commands.add_parser("classify", help="give each body paragraph its theme (JSON lines, CSV, table)")
    classify.add_argument("paths", **inputs)
    classify.add_argument("--format", choices=["json", "csv", "table"], default="json",
                          help="json: a JSON line per paragraph (default); csv: UTF-8 with BOM; table: readable")
    classify.add_argument("--no-topics", action="store_true", help="skip topic inference (faster)")
    classify.add_argument("--workers", type=_positive, default=None, metavar="N",
                          help="processes to use (default: every core for inputs over 2 MB, else one)")
    classify.add_argument("--models", **models)
    report = commands.add_parser("report", help="write the theme report: PNGs, CSVs and index.html")
    report.add_argument("--corpus", nargs="+", metavar="PATH", required=project is None,
                        default=[str(project / "seeds")] if project else None,
                        help="the articles to report on (default: the project's seeds/)")
    report.add_argument("--out", default="reports", metavar="DIR", help="the report folder (default: reports)")
    report.add_argument("--min-paragraphs", type=_positive, default=5, metavar="N",
                        help="counties with fewer paragraphs are folded into one bar (default: 5)")
    report.add_argument("--dpi", type=_positive, default=150, help="resolution of the PNGs (default: 150)")
    report.add_argument("--labels", **labels)
    report.add_argument("--seed", type=int, default=20240501, help="seed of the bootstrap (default: 20240501)")
    report.add_argument("--by", choices=["province", "city", "county"], default=None,
                        help="theme_by_year.png: also draw the largest places of this level, one panel each")
    report.add_argument("--models", **models)
    topics = commands.add_parser("topics", help="print the trained topics: words, size, coherence, theme mix")
    topics.add_argument("--models", **models)
    suggest = commands.add_parser("suggest", help="pick unlabeled paragraphs worth labeling next (a labels CSV)")
    suggest.add_argument("paths", **inputs)
    suggest.add_argument("--n", type=_positive, default=20, help="how many paragraphs (default: 20)")
    suggest.add_argument("--labels", **labels)
    suggest.add_argument("--out", default="-", metavar="FILE", help="the CSV to write (new; default: stdout)")
    suggest.add_argument("--models", **models)


def _add_train(parser: argparse.ArgumentParser, project: Path | None) -> None:
    where = {"required": True} if project is None else {}
    parser.add_argument("--seeds", default=str(project / "seeds") if project else None, **where,
                        help="the labeled corpus folder, with labels.csv (default: the project's seeds/)")
    parser.add_argument("--corpus", action="append", default=[], metavar="PATH",
                        help="more articles whose paragraphs extra label files name (repeatable)")
    parser.add_argument("--labels", action="append", default=[], metavar="FILE",
                        help="extra label files (repeatable); SEEDS/labels*.csv are always read")
    parser.add_argument("--themes", default=None, metavar="FILE", help="a themes JSON file (default: the codebook)")
    parser.add_argument("--out", default=str(project / "models") if project else None, **where,
                        help="where the model files go (default: the project's models/)")
    parser.add_argument("--seed", type=int, default=20240501, help="random seed (default: 20240501)")
    parser.add_argument("--topics", type=_positive, default=None, metavar="K",
                        help="fit K topics instead of choosing K by coherence")
    parser.add_argument("--k-range", default="4-10", metavar="LOW-HIGH",
                        help="the numbers of topics to try (default: 4-10)")
    parser.add_argument("--check", action="store_true",
                        help="retrain into a temporary folder and compare with --out instead of replacing it: "
                             "exit 0 when they match, 1 with what differs")
    corpora = (project or Path(".")).resolve().parent / "shared" / "corpora"
    parser.add_argument("--embeddings", nargs="*", default=None, metavar="CORPUS",
                        help=f"first rebuild the word vectors from these unlabeled JSONL corpora (default: "
                             f"{corpora}/xwlb.jsonl.gz and rmrb-rural.jsonl.gz); without it, training uses "
                             "the committed vectors")
    parser.add_argument("--seeded", action="store_true",
                        help="keep the topics anchored to the themes' typical words (default: unseeded)")
    parser.set_defaults(command="train", corpora=[corpora / "xwlb.jsonl.gz", corpora / "rmrb-rural.jsonl.gz"])


def _project() -> Path | None:
    """The source checkout the package runs from (its seeds/ and models/), if it runs from one."""
    from .modelfiles import packaged_models

    folder = packaged_models().parent
    return folder if (folder / "seeds").is_dir() else None


def main(argv: list[str] | None = None, project: Path | None = None) -> int:
    """``countythemes``: every command; ``project`` is the folder holding seeds/ and models/."""
    project = _project() if project is None else project
    parser = _Parser(prog="countythemes", description="Read, classify, report on and train on county news.")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    _add_analyze(commands, project)
    _add_train(commands.add_parser("train", help="train the theme classifier and topics"), project)
    return _dispatch(parser.parse_args(argv), project)


def analyze_main(argv: list[str] | None = None, project: Path = Path(".")) -> int:
    """``analyze.py``: the reading, classifying and reporting commands."""
    parser = _Parser(prog="analyze.py", description="Read, classify and report on county news articles.")
    _add_analyze(parser.add_subparsers(dest="command", required=True, parser_class=_Parser), project)
    return _dispatch(parser.parse_args(argv), project)


def train_main(argv: list[str] | None = None, project: Path = Path(".")) -> int:
    """``train.py``: train the theme classifier on the labeled corpus."""
    parser = _Parser(prog="train.py", description="Train the theme classifier on the labeled corpus.")
    _add_train(parser, project)
    return _dispatch(parser.parse_args(argv), project)


def _dispatch(args, project: Path | None) -> int:
    from .progress import ConsoleLog

    args.project = project
    ConsoleLog.install().to_stdout = args.command in ("train", "topics")
    return _run(lambda: COMMANDS[args.command](args))


def _label_files(args) -> list[str]:
    from .labels import seed_label_files

    return (seed_label_files(args.project / "seeds") if args.project else []) + args.labels


def _paragraphs(args) -> int:
    import orjson

    problems = SkippedInputs()
    _write_lines(orjson.dumps(p.record(), option=orjson.OPT_APPEND_NEWLINE)
                 for p in api.iter_paragraphs(args.paths, problems, texts=False))
    return problems.exit_code()


def _write_lines(lines: Iterable[bytes]) -> None:
    """Encoded lines straight to standard output's bytes, after anything printed as text."""
    sys.stdout.flush()
    sys.stdout.buffer.writelines(lines)


def _classify(args) -> int:
    from .formats import csv_lines, table_lines
    from .pipeline import classified_lines

    models = api.load_models(args.models)
    if models.themes.zero_shot:
        print(f"note: {args.models}/ holds a zero-shot classifier (trained without labels, from the codebook "
              "alone): its themes are rough and its confidences uncalibrated", file=sys.stderr)
    problems, progress = SkippedInputs(), Progress("paragraphs")
    if args.format == "json":
        _write_lines(classified_lines(args.paths, models.themes, problems, None if args.no_topics else models.topics,
                                      args.workers, progress))
        return problems.exit_code()
    found = api.iter_classified(args.paths, not args.no_topics, args.workers, models, problems, progress, texts=False)
    if args.format == "csv":
        _write_lines(line.encode("utf-8") for line in csv_lines(found, models.theme_keys, not args.no_topics))
    else:
        _write_lines(f"{line}\n".encode() for line in table_lines(found, models.names))
    return problems.exit_code()


def _topics(args) -> int:
    from .formats import topic_lines

    models = api.load_models(args.models)
    print("\n".join(topic_lines(models.topic_model, models.names)))
    return 0


def _report(args) -> int:
    problems = SkippedInputs()
    out = api.report(args.corpus, args.out, _label_files(args), args.min_paragraphs, args.dpi, args.seed, args.by,
                     args.models, None, problems, Progress("paragraphs"),
                     [shown_path(path, args.project) for path in args.corpus], texts=False)
    print(f"report written to {out}/ (open {out / 'index.html'})", file=sys.stderr)
    return problems.exit_code()


def _suggest(args) -> int:
    from .classifier import pick_for_labeling
    from .folders import already_exists, write_new_file
    from .formats import suggestion_csv

    out = None if args.out == "-" else Path(args.out)
    if out is not None and out.exists():
        raise already_exists(out)
    problems = SkippedInputs()
    candidates = list(api.unlabeled(args.paths, _label_files(args), args.models, problems, texts=False))
    picked, unlabeled = pick_for_labeling(candidates, args.n), len({c.id for c in candidates})
    if out is None:
        sys.stdout.write(suggestion_csv(picked))
    else:
        write_new_file(out, suggestion_csv(picked))
    corpus = " ".join(shlex.quote(path) for path in args.paths)
    print(f"{len(picked)} paragraphs to label (of {unlabeled} unlabeled); fill in 'theme', then: python train.py "
          f"--corpus {corpus} --labels {shlex.quote(args.out) if out else 'FILE'} --out models-new", file=sys.stderr)
    return problems.exit_code()


def _train(args) -> int:
    from .formats import differences_lines
    from .modelfiles import library_versions, read_manifest

    options = dict(seeds=args.seeds, corpus=args.corpus, labels=args.labels, themes=args.themes, seed=args.seed,
                   topics=args.topics, k_range=args.k_range, seeded=args.seeded,
                   vector_corpora=None if args.embeddings is None else (args.embeddings or args.corpora),
                   vectors_from=args.project / "models" if args.project else None, on_problem=SkippedInputs())
    if not args.check:
        trained = api.train(out=args.out, **options).manifest["training"]
        what = (f"trained on {trained['labeled']} labeled paragraphs of {trained['articles']} articles"
                if trained["labeled"] else "zero-shot: no labels")
        print(f"models written to {args.out}/ ({what}; {trained['paragraphs']} paragraphs for topics, from "
              f"{' '.join([str(args.seeds)] + args.corpus)})", file=sys.stderr)
        return 0
    differences = api.check_training(committed=args.out, **options)
    if not differences:
        print(f"{args.out}/ matches a fresh training: classifier weights, topics and cross-validation agree",
              file=sys.stderr)
        return 0
    print(f"{args.out}/ does not match a fresh training ({len(differences)} differences); retrain with: "
          "python train.py", file=sys.stderr)
    for line in differences_lines(differences, read_manifest(Path(args.out)).get("versions", {}), library_versions()):
        print(line, file=sys.stderr)
    return 1


COMMANDS = {"paragraphs": _paragraphs, "classify": _classify, "topics": _topics, "report": _report,
            "suggest": _suggest, "train": _train}
