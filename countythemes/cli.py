"""Command-line front ends behind ``analyze.py`` and ``train.py``.

Every failure a user can cause ends here as one line on stderr and exit code 2;
inputs that could be read are still processed and printed.
"""
from __future__ import annotations

import argparse
import contextlib
import csv
import datetime
import io
import os
import re
import shlex
import signal
import sys
import unicodedata
from pathlib import Path
from typing import Callable, Iterable

from .reading import ReadProblem, shown_name

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
    import orjson

    _write_lines(orjson.dumps(record, option=orjson.OPT_APPEND_NEWLINE) for record in records)


def _write_lines(lines: Iterable[bytes]) -> None:
    """Encoded lines straight to standard output's bytes, after anything printed as text."""
    sys.stdout.flush()
    sys.stdout.buffer.writelines(lines)


class _Stopped(KeyboardInterrupt):
    """SIGTERM, turned into an exception so that clean-up (staging folders) runs."""


def _stop(signum, frame) -> None:
    raise _Stopped()


def _run(main: Callable[[], int]) -> int:
    signal.signal(signal.SIGTERM, _stop)
    try:
        code = main()
        sys.stdout.flush()  # here, where a failure can still be reported, not at exit
        return code
    except UserError as error:
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


# ------------------------------------------------------------------------ analyze


def analyze_parser(project: Path) -> argparse.ArgumentParser:
    parser = _Parser(prog="analyze.py", description="Read, classify and report on county news articles.")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    inputs = {"nargs": "+", "metavar": "PATH",
              "help": "files, folders (read recursively), .jsonl/.jsonl.gz corpora, or - for stdin"}
    models = {"default": str(project / "models"), "metavar": "DIR",
              "help": "the trained model files (default: the project's models/)"}

    paragraphs = commands.add_parser("paragraphs", help="print each body paragraph as a JSON line")
    paragraphs.add_argument("paths", **inputs)

    classify = commands.add_parser("classify", help="give each body paragraph its theme (JSON lines or a table)")
    classify.add_argument("paths", **inputs)
    classify.add_argument("--format", choices=["json", "table"], default="json",
                          help="json: one JSON line per paragraph (default); table: a readable table")
    classify.add_argument("--no-topics", action="store_true", help="skip topic inference (faster)")
    classify.add_argument("--workers", type=_positive, default=None, metavar="N",
                          help="processes to use (default: every core for inputs over 2 MB, else one)")
    classify.add_argument("--models", **models)

    report = commands.add_parser("report", help="write the theme report: PNGs, CSVs and index.html")
    report.add_argument("--corpus", nargs="+", default=[str(project / "seeds")], metavar="PATH",
                        help="the articles to report on (default: the project's seeds/)")
    report.add_argument("--out", default="reports", metavar="DIR", help="the report folder (default: reports)")
    report.add_argument("--min-paragraphs", type=_positive, default=5, metavar="N",
                        help="counties with fewer paragraphs are folded into one bar (default: 5)")
    report.add_argument("--dpi", type=_positive, default=150, help="resolution of the PNGs (default: 150)")
    report.add_argument("--labels", action="append", default=[], metavar="FILE",
                        help="more label files; labeled paragraphs count with their label "
                             "(the seeds' label files are always read)")
    report.add_argument("--seed", type=int, default=20240501, help="seed of the bootstrap (default: 20240501)")
    report.add_argument("--by", choices=["province", "city", "county"], default=None,
                        help="theme_by_year.png: also draw the largest places of this level, one panel each")
    report.add_argument("--models", **models)
    report.set_defaults(seeds=project / "seeds", project=project)

    topics = commands.add_parser("topics", help="print the trained topics: words, size, coherence, theme mix")
    topics.add_argument("--models", **models)

    suggest = commands.add_parser("suggest", help="pick unlabeled paragraphs worth labeling next (a labels CSV)")
    suggest.add_argument("paths", **inputs)
    suggest.add_argument("--n", type=_positive, default=20, help="how many paragraphs (default: 20)")
    suggest.add_argument("--labels", action="append", default=[], metavar="FILE",
                         help="label files whose paragraphs are already done "
                              "(repeatable; the seeds' label files are always read)")
    suggest.set_defaults(seeds=project / "seeds")
    suggest.add_argument("--out", default="-", metavar="FILE",
                         help="the CSV to write (a new file; default: standard output)")
    suggest.add_argument("--models", **models)
    return parser


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {value}")
    return value


def analyze_main(argv: list[str] | None = None, project: Path = Path(".")) -> int:
    """``analyze.py``; ``project`` is the folder holding models/ and seeds/."""
    args = analyze_parser(project).parse_args(argv)

    def main() -> int:
        if args.command == "paragraphs":
            return _paragraphs(args.paths)
        if args.command == "classify":
            return _classify(args)
        if args.command == "suggest":
            return _suggest(args)
        if args.command == "topics":
            return _topics(args)
        if args.command == "report":
            return _report(args)
        raise UserError(f"unknown command {args.command}")

    return _run(main)


def _paragraphs(paths: list[str]) -> int:
    from .corpus import iter_paragraphs

    problems = _Problems()
    _json_lines(p.record() for p in iter_paragraphs(paths, problems))
    return EXIT_BAD_INPUT if problems.count else 0


def _theme_scorer(folder: str):
    from .modelfiles import load_theme_scorer

    return _model(load_theme_scorer, Path(folder))


def _topic_scorer(folder: str, model: dict | None = None):
    from .modelfiles import load_topic_scorer

    return _model(load_topic_scorer, Path(folder), model)


def _model(load: Callable, *args):
    """A model file's contents; a missing or broken file is the user's to rebuild."""
    from .modelfiles import ModelError

    try:
        return load(*args)
    except ModelError as error:
        raise UserError(str(error)) from None


def _label_files(args) -> list[str]:
    """The seeds' label files, then the --labels files."""
    from .labels import seed_label_files

    return seed_label_files(args.seeds) + args.labels


#: What a worker process applies to each batch of paragraphs; set before the pool forks, so it is inherited.
_annotator: Callable[[list], list] | None = None


def _annotate(paragraphs: list) -> list:
    return _annotator(paragraphs)


def _annotated(paths: list[str], annotate: Callable[[list], list], renumbered: Callable, problems: _Problems,
               workers: int | None = 1) -> Iterable[list]:
    """Document by document, in input order, what ``annotate`` makes of its paragraphs, on ``workers``
    processes (None: as many as the input's size calls for)."""
    global _annotator
    from .corpus import iter_annotated
    from .reading import input_size
    from .workers import mapper

    _annotator = annotate
    size = input_size(paths)
    progress = _Progress("paragraphs", size)
    with mapper(_workers(workers, size)) as mapped:
        for values in iter_annotated(paths, problems, _annotate, renumbered, mapper=mapped, on_read=progress.read):
            progress.step(len(values))
            yield values
    progress.done()


def _verdicts(scorer, topic_scorer=None) -> Callable[[list], list[dict]]:
    """Paragraph records with their theme (and topic) fields, a batch at a time."""
    from .corpus import article_key

    def annotate(paragraphs: list) -> list[dict]:
        words = [p.words for p in paragraphs]
        verdicts = scorer.classify_all([p.text for p in paragraphs], words, [article_key(p) for p in paragraphs])
        topics = topic_scorer.topics(words) if topic_scorer is not None else [{}] * len(paragraphs)
        records = []
        for paragraph, verdict, topic in zip(paragraphs, verdicts, topics):
            record = paragraph.record()
            record.update(verdict)
            record.update(topic)
            records.append(record)
        return records
    return annotate


def _renumbered_record(record: dict, articles_before: int) -> dict:
    record["article_index"] += articles_before
    return record


def _classified(paths: list[str], scorer, problems: _Problems, topic_scorer=None,
                workers: int | None = 1) -> Iterable[dict]:
    """Paragraph records with theme (and topic) fields, in input order."""
    for records in _annotated(paths, _verdicts(scorer, topic_scorer), _renumbered_record, problems, workers):
        yield from records


#: A JSON line's article number (JSON text never holds this unescaped inside a string).
_ARTICLE_INDEX = re.compile(rb'"article_index":(\d+)')


def _renumbered_line(line: bytes, articles_before: int) -> bytes:
    return _ARTICLE_INDEX.sub(lambda found: b'"article_index":%d' % (int(found[1]) + articles_before), line, 1)


def _classified_lines(paths: list[str], scorer, problems: _Problems, topic_scorer=None,
                      workers: int | None = 1) -> Iterable[bytes]:
    """``_classified`` as UTF-8 JSON lines, encoded by the workers: bytes cross between
    processes and go to the output as they are."""
    import orjson

    verdicts = _verdicts(scorer, topic_scorer)

    def encoded(paragraphs: list) -> list[bytes]:
        return [orjson.dumps(record, option=orjson.OPT_APPEND_NEWLINE) for record in verdicts(paragraphs)]

    for lines in _annotated(paths, encoded, _renumbered_line, problems, workers):
        yield from lines


class _Progress:
    """A bar on stderr, redrawn in place, with the paragraphs done, their rate and the time left; only on
    a terminal, so piped output stays clean. The bar follows the input bytes read out of ``total``
    (without a total, as when reading standard input, it is a count and a rate)."""

    WIDTH = 24

    def __init__(self, unit: str, total: int = 0, stream=None, clock: Callable[[], float] | None = None):
        import time

        self.unit, self.total, self.count, self.taken = unit, total, 0, 0
        self.stream = stream or sys.stderr
        self.clock = clock or time.monotonic
        self.start = self.last = self.clock()
        self.shown = self.stream.isatty()

    def read(self, size: int) -> None:
        self.taken += size

    def step(self, done: int = 1) -> None:
        self.count += done
        if self.shown and self.clock() - self.last >= 0.5:
            self.last = self.clock()
            elapsed = self.last - self.start
            counted = f"{self.count:,} {self.unit} ({self.count / elapsed:,.0f}/s)"
            if self.total:
                share = min(self.taken / self.total, 1.0)
                filled = round(share * self.WIDTH)
                left = f", about {elapsed * (1 - share) / share:.0f} s left" if share > 0 else ""
                counted = f"[{'#' * filled}{'.' * (self.WIDTH - filled)}] {share:4.0%}  {counted}{left}"
            self.stream.write(f"\r{counted}\x1b[K")
            self.stream.flush()

    def done(self) -> None:
        if self.shown and self.count and self.last > self.start:
            self.stream.write(f"\r{self.count:,} {self.unit} in {self.clock() - self.start:.1f} s\x1b[K\n")


def _workers(requested: int | None, input_bytes: int) -> int:
    """Every core for a large input (over 2 MB), one process for a small one (starting more costs more)."""
    from .workers import cores

    if requested is not None:
        return requested
    return cores() if input_bytes > 2 * 2**20 else 1


def _classify(args) -> int:
    scorer = _theme_scorer(args.models)
    if scorer.zero_shot:
        print(f"note: {args.models}/ holds a zero-shot classifier (trained without labels, from the codebook "
              "alone): its themes are rough and its confidences uncalibrated", file=sys.stderr)
    topic_scorer = None if args.no_topics else _topic_scorer(args.models)
    problems = _Problems()
    if args.format == "table":
        _print_table(_classified(args.paths, scorer, problems, topic_scorer, args.workers), scorer.names)
    else:
        _write_lines(_classified_lines(args.paths, scorer, problems, topic_scorer, args.workers))
    return EXIT_BAD_INPUT if problems.count else 0


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _fit(text: str, width: int) -> str:
    """Cut or pad to a display width (Chinese characters take two columns)."""
    out, used = [], 0
    for ch in text:
        w = _width(ch)
        if used + w > width - (1 if len(text) > len(out) + 1 else 0):
            out.append("…")
            used += 1
            break
        out.append(ch)
        used += w
    return "".join(out) + " " * max(0, width - used)


def _print_table(records: Iterable[dict], names: dict[str, str]) -> None:
    columns = [("段落", 36), ("地点", 14), ("主题", 20), ("置信度", 8)]
    print("  ".join(_fit(name, width) for name, width in columns).rstrip())
    for r in records:
        place = r["county"] or r["city"] or r["province"] or "–"
        theme = f"{names.get(r['theme'], r['theme'])}"
        confidence = f"{r['confidence']:.2f}" + (" ?" if r["uncertain"] else "")
        cells = [" ".join(r["text"].split()), place, theme, confidence]
        print("  ".join(_fit(cell, width) for cell, (_, width) in zip(cells, columns)).rstrip())
    print("? = uncertain: below the confidence threshold chosen in cross-validation; worth a human look")


def _topics(args) -> int:
    from .modelfiles import read_model_file

    scorer = _theme_scorer(args.models)  # for the themes' names
    model = _model(read_model_file, Path(args.models), "topics.json")
    anchors = len(model.get("anchors", {}))
    kind = f"seeded: topics 1–{anchors} anchored to the themes' typical words" if model["seeded"] else "unseeded"
    print(f"{model['k']} topics ({kind}); mean c_npmi {model['coherence']['c_npmi']:.3f}, "
          f"u_mass {model['coherence']['u_mass']:.3f}")
    for topic in model["topics"]:
        anchor = f" [{scorer.names.get(topic['anchor'], topic['anchor'])}]" if topic.get("anchor") else ""
        mix = ", ".join(f"{scorer.names.get(k, k)} {share:.0%}"
                        for k, share in sorted(topic["theme_mix"].items(), key=lambda kv: -kv[1]) if share > 0)
        print(f"\ntopic {topic['topic']}{anchor}: {topic['size']} paragraphs, c_npmi {topic['c_npmi']:.3f}")
        print(f"  words: {' '.join(topic['words'])}")
        print(f"  themes: {mix or '–'}")
    return 0


def _report(args) -> int:
    import tempfile

    from .folders import FolderError, check_target, write_folder
    from .labels import LabelError, label_themes
    from .modelfiles import read_manifest, read_model_file, read_out_of_fold
    from .report import ReportError, Tally, build_report, paragraph_rows, renumbered_row

    out = Path(args.out)
    try:
        check_target(out, "report")  # before the work, so a refusal costs nothing
    except FolderError as error:
        raise UserError(str(error)) from None
    scorer = _theme_scorer(args.models)
    manifest = _model(read_manifest, Path(args.models))
    topics = _model(read_model_file, Path(args.models), "topics.json")
    out_of_fold = _model(read_out_of_fold, Path(args.models))
    topic_scorer = _topic_scorer(args.models, topics)
    try:
        labels = label_themes(_label_files(args), {k: scorer.names.get(k, k) for k in manifest["theme_order"]})
    except LabelError as error:
        raise UserError(str(error)) from None
    problems = _Problems()
    print(f"reading and classifying {' '.join(map(shown_name, args.corpus))} …", file=sys.stderr)
    classified = _annotated(args.corpus, lambda paragraphs: paragraph_rows(paragraphs, scorer, topic_scorer),
                            renumbered_row, problems, workers=None)
    with tempfile.TemporaryDirectory(prefix="countythemes-report-") as scratch:
        rows = Path(scratch) / "paragraphs.csv"
        with open(rows, "wb") as handle:  # streamed: the report keeps only numbers per paragraph
            tally = Tally(handle, manifest["theme_order"], labels)
            for batch in classified:
                tally.add_all(batch)
            tally.close()
        if not tally.rows:
            raise UserError("no paragraphs to report on")
        try:
            files = build_report(tally, [_shown(path, args.project) for path in args.corpus], manifest, topics,
                                 scorer.names, out_of_fold, args.min_paragraphs, args.dpi, args.seed, args.by)
        except ReportError as error:
            raise UserError(str(error)) from None
        files["paragraphs.csv"] = rows
        try:
            write_folder(out, files, "report")
        except FolderError as error:
            raise UserError(str(error)) from None
        except OSError as error:
            raise UserError(f"{out}: cannot write the report ({error.strerror})") from None
    print(f"report written to {out}/ (open {out / 'index.html'})", file=sys.stderr)
    return EXIT_BAD_INPUT if problems.count else 0


def _shown(path: str, project: Path) -> str:
    """A path as a reader of the report should see it: relative to the project where it is inside,
    bytes of its name that are not UTF-8 as escapes (see ``shown_name``)."""
    try:
        return shown_name(str(Path(path).resolve().relative_to(project.resolve())) or ".")
    except ValueError:
        return shown_name(path)


def _suggest(args) -> int:
    from .classifier import pick_for_labeling
    from .labels import LABEL_COLUMNS, LabelError, label_themes, spreadsheet_safe

    out = None if args.out == "-" else Path(args.out)
    if out is not None and out.exists():
        raise _already_exists(out)
    scorer = _theme_scorer(args.models)
    try:
        done = set(label_themes(_label_files(args), scorer.names))
    except LabelError as error:
        raise UserError(str(error)) from None
    problems = _Problems()
    candidates = [dict(r, article_key=f"{r['source']}#{r['article_index']}")
                  for r in _classified(args.paths, scorer, problems) if r["id"] not in done]
    picked = pick_for_labeling(candidates, args.n)
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(LABEL_COLUMNS + ["text", "source", "article"])
    for r in picked:
        writer.writerow([spreadsheet_safe(cell) for cell in
                         (r["id"], "", "", "", r["text"][:30], r["text"], r["source"], r["article"])])
    if out is None:
        sys.stdout.write(buffer.getvalue())
    else:
        _write_new_file(out, buffer.getvalue())
    corpus = " ".join(shlex.quote(path) for path in args.paths)
    print(f"{len(picked)} paragraphs to label (of {len({c['id'] for c in candidates})} unlabeled); fill in "
          f"'theme', then: python train.py --corpus {corpus} --labels {shlex.quote(args.out) if out else 'FILE'} "
          f"--out models-new", file=sys.stderr)
    return EXIT_BAD_INPUT if problems.count else 0


def _already_exists(path: Path) -> UserError:
    """Checked before classifying and again when the file is created: one message for both."""
    return UserError(f"{path}: already exists; suggest writes a new file, so labels filled in there "
                     "are never overwritten (choose another name)")


def _write_new_file(path: Path, text: str) -> None:
    """Create ``path`` for the first time, whole, or not at all.

    The name is taken first with O_EXCL (which fails on anything already
    there, a link included), so a file that appeared since the check before
    classifying is never overwritten; the text goes into a temporary file of
    an unpredictable name beside it (``mkstemp``: created new, never through a
    link) and is renamed over the empty placeholder, so no reader sees half a file.
    """
    import tempfile

    try:
        placeholder = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o666)
    except FileExistsError:
        raise _already_exists(path) from None
    except OSError as error:
        raise UserError(f"{path}: cannot write ({error.strerror})") from None
    mode = os.fstat(placeholder).st_mode & 0o777  # as the umask allows, not mkstemp's 0600
    os.close(placeholder)
    temporary = None
    try:
        descriptor, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
        with os.fdopen(descriptor, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
            os.fchmod(handle.fileno(), mode)
        os.replace(temporary, path)
    except OSError as error:
        for leftover in (temporary, path):  # clean up what can be; a read-only disk keeps what it has
            if leftover is not None:
                with contextlib.suppress(OSError):
                    os.unlink(leftover)
        raise UserError(f"{path}: cannot write ({error.strerror})") from None


# -------------------------------------------------------------------------- train


def _train_topics(paragraphs, themes, scorer, args, ks: list[int]) -> tuple[dict, dict]:
    """The K search, the kept topic model, and what the manifest records of it."""
    from .corpus import article_key
    from .topics import K_RULE, TopicScorer, describe_topics, export_topics, search, topic_words
    from .workers import cores

    unique = list({p.text: p for p in paragraphs}.values())  # each paragraph once
    texts, words = [p.text for p in unique], [p.words for p in unique]
    articles = [article_key(p) for p in unique]
    try:
        found = search([topic_words(w) for w in words], themes, args.seed, ks, seeded=args.seeded,
                       forced_k=args.topics, progress=sys.stdout, workers=cores())
    except ValueError as error:
        raise UserError(f"cannot fit topics: {error}") from None
    model = export_topics(found, themes)
    predicted = [v["theme"] for v in scorer.classify_all(texts, words, articles)]
    model["topics"] = describe_topics(TopicScorer(model), found.coherence["c_npmi_per_topic"], words, predicted,
                                      [t.key for t in themes])
    chosen = next(row for row in found.curve if row["k"] == found.k)
    print(f"chosen: K = {found.k}, {'seeded' if found.seeded else 'unseeded'} "
          f"({'set by --topics' if args.topics else K_RULE})")
    summary = {"k": found.k, "seeded": found.seeded, "rule": "--topics" if args.topics else K_RULE,
               "k_range": [ks[0], ks[-1]], "at_chosen_k": chosen, "curve": found.curve}
    return model, summary


def train_parser(project: Path) -> argparse.ArgumentParser:
    parser = _Parser(prog="train.py", description="Train the theme classifier on the labeled corpus.")
    parser.add_argument("--seeds", default=str(project / "seeds"),
                        help="the labeled corpus folder, with labels.csv (default: the project's seeds/)")
    parser.add_argument("--corpus", action="append", default=[], metavar="PATH",
                        help="more articles whose paragraphs extra label files name (repeatable)")
    parser.add_argument("--labels", action="append", default=[], metavar="FILE",
                        help="extra label files (repeatable); SEEDS/labels*.csv are always read")
    parser.add_argument("--themes", default=None, metavar="FILE", help="a themes JSON file (default: the codebook)")
    parser.add_argument("--out", default=str(project / "models"),
                        help="where the model files go (default: the project's models/)")
    parser.add_argument("--seed", type=int, default=20240501, help="random seed (default: 20240501)")
    parser.add_argument("--topics", type=_positive, default=None, metavar="K",
                        help="fit K topics instead of choosing K by coherence")
    parser.add_argument("--k-range", default="4-10", metavar="LOW-HIGH",
                        help="the numbers of topics to try (default: 4-10)")
    parser.add_argument("--check", action="store_true",
                        help="retrain into a temporary folder and compare with --out instead of replacing it: "
                             "exit 0 when they match, 1 with what differs")
    parser.add_argument("--embeddings", nargs="*", default=None, metavar="CORPUS",
                        help="first rebuild the word vectors from these unlabeled JSONL corpora (default: "
                             "../shared/corpora/xwlb.jsonl.gz and rmrb-rural.jsonl.gz); without it, training uses "
                             "the committed vectors in models/")
    parser.add_argument("--seeded", action="store_true",
                        help="keep the topics anchored to the themes' typical words (default: unseeded, "
                             "which read better on the seeds; see the README)")
    return parser


def _k_range(text: str) -> list[int]:
    low, _, high = text.partition("-")
    try:
        ks = list(range(int(low), int(high or low) + 1))
    except ValueError:
        raise UserError(f"--k-range: expected LOW-HIGH such as 4-16, not {text!r}") from None
    if not ks or ks[0] < 2:
        raise UserError(f"--k-range: expected LOW-HIGH with 2 <= LOW <= HIGH, not {text!r}")
    return ks


def train_main(argv: list[str] | None = None, project: Path = Path(".")) -> int:
    """``train.py``; ``project`` is the folder holding seeds/ and models/."""
    args = train_parser(project).parse_args(argv)
    args.project = project
    return _run(lambda: _one_blas_thread(_train, args))


def _one_blas_thread(work: Callable, *args):
    """Training's linear algebra on one BLAS thread, as in the workers: small matrices gain nothing from
    threads, and threads fighting over two cores made ``train.py --check`` 4 times slower (78 s vs 18 s)."""
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1):
        return work(*args)


def _train(args) -> int:
    from .classifier import ThemeScorer, ThemesError, load_themes
    from .corpus import iter_paragraphs
    from .labels import LabelError, read_labels, seed_label_files
    from .modelfiles import library_versions
    from .workers import cores
    from .training import (cross_validate, fingerprint, fit_final, learning_curve, out_of_fold_model, print_evaluation,
                           print_learning_curve, training_set)

    seeds = Path(args.seeds)
    if not seeds.is_dir():
        raise UserError(f"{seeds}: no such corpus folder")
    ks = _k_range(args.k_range)
    out = Path(args.out)
    if args.check:
        from .modelfiles import read_manifest

        _model(read_manifest, out)  # something to compare with, before the work
    else:
        _check_out(args, out)
    try:
        themes = load_themes(args.themes)
    except ThemesError as error:
        raise UserError(str(error)) from None
    keys = [t.key for t in themes]
    problems = _Problems()
    print(f"reading {' '.join([str(seeds)] + args.corpus)} …", file=sys.stderr)
    paragraphs = list(iter_paragraphs([str(seeds)] + args.corpus, problems))
    if problems.count:
        raise UserError(f"{problems.count} corpus file(s) could not be read; fix or remove them first")
    label_files = seed_label_files(seeds) + list(args.labels)
    try:
        labels = read_labels(label_files, {p.id for p in paragraphs}, {t.key: t.name for t in themes})
    except LabelError as error:
        raise UserError(str(error)) from None
    data = training_set(paragraphs, labels)
    articles = {k: {g for g, t in zip(data.groups, data.themes) if t == k} for k in keys}
    thin = [f"{k} ({len(articles[k])})" for k in keys if len(articles[k]) < 2]
    if thin and data.texts:
        raise UserError("every theme needs labeled paragraphs in at least 2 articles, so that cross-validation "
                        f"can hold one out; too few articles for: {', '.join(thin)}")
    embedding_files, embeddings = _word_vectors(args)
    if not data.texts:
        return _train_zero_shot(args, paragraphs, themes, embeddings, embedding_files, out, ks)
    print(f"{len(paragraphs)} paragraphs, {len(data.texts)} labeled, in {len(set(data.groups))} articles",
          file=sys.stderr)
    cv = cross_validate(data, themes, embeddings, args.seed, workers=cores())
    out_of_fold = out_of_fold_model(data, keys, cv.pop("out_of_fold"))
    print_evaluation(cv, keys)
    for baseline in ("majority", "typical_words"):
        if cv["model"]["macro_f1"] <= cv[baseline]["macro_f1"]:
            print(f"warning: the model does not beat the {baseline} baseline", file=sys.stderr)
    curve = learning_curve(data, themes, embeddings, args.seed, cv, workers=cores())
    print_learning_curve(curve)
    classifier = fit_final(data, themes, embeddings, args.seed, cv["threshold"])
    topic_model, topic_summary = _train_topics(paragraphs, themes, ThemeScorer(classifier, embeddings), args, ks)
    predicted = [v["theme"] for v in ThemeScorer(classifier, embeddings).classify_all(data.texts, data.words, data.groups)]
    manifest = {
        "trained": datetime.date.today().isoformat(),
        "versions": library_versions(),
        "seed": args.seed,
        "themes": {t.key: t.name for t in themes},
        "theme_order": keys,
        "training": {"paragraphs": len(paragraphs), "labeled": len(data.texts),
                     "articles": len(set(data.groups)),
                     "label_counts": {k: data.themes.count(k) for k in keys},
                     "data": fingerprint(*(p.text for p in paragraphs), *sorted(
                         f"{i}:{labels[i].theme}" for i in data.ids)),
                     "predicted": dict(zip(data.ids, predicted))},
        "cross_validation": cv,
        "learning_curve": curve,
        "topics": topic_summary,
    }
    files = {"classifier.json": classifier, "topics.json": topic_model, "out_of_fold.json": out_of_fold,
             **embedding_files}
    if args.check:
        return _check(out, files, manifest)
    _write(out, files, manifest)
    print(f"models written to {out}/ (trained on {len(data.texts)} labeled paragraphs of "
          f"{len(set(data.groups))} articles; {len(paragraphs)} paragraphs for topics, from "
          f"{' '.join([str(seeds)] + args.corpus)})", file=sys.stderr)
    return 0


def _train_zero_shot(args, paragraphs: list, themes: list, embeddings, embedding_files: dict, out: Path,
                     ks: list[int]) -> int:
    """No labeled paragraph at all (say, a codebook of one's own with ``--themes``): a classifier from
    the codebook alone, the themes' prototypes in the word vectors and their typical words."""
    from .classifier import ThemeScorer
    from .modelfiles import library_versions
    from .training import fingerprint, zero_shot_classifier

    print("no labeled paragraphs: training a zero-shot classifier from the codebook alone (each theme's "
          "prototype in the word vectors and its typical words); it is not cross-validated and its "
          "confidences are not calibrated: label some paragraphs to do better", file=sys.stderr)
    classifier = zero_shot_classifier(themes, embeddings)
    topic_model, topic_summary = _train_topics(paragraphs, themes, ThemeScorer(classifier, embeddings), args, ks)
    manifest = {
        "trained": datetime.date.today().isoformat(),
        "versions": library_versions(),
        "seed": args.seed,
        "themes": {t.key: t.name for t in themes},
        "theme_order": [t.key for t in themes],
        "zero_shot": True,
        "training": {"paragraphs": len(paragraphs), "labeled": 0, "articles": 0,
                     "data": fingerprint(*(p.text for p in paragraphs))},
        "topics": topic_summary,
    }
    files = {"classifier.json": classifier, "topics.json": topic_model, **embedding_files}
    if args.check:
        return _check(out, files, manifest)
    _write(out, files, manifest)
    print(f"models written to {out}/ (zero-shot: no labels; {len(paragraphs)} paragraphs for topics)",
          file=sys.stderr)
    return 0


def _write(out: Path, files: dict, manifest: dict) -> None:
    from .folders import FolderError
    from .modelfiles import write_models

    try:
        write_models(out, files, manifest)
    except FolderError as error:
        raise UserError(str(error)) from None
    except OSError as error:
        raise UserError(f"{out}: cannot write the models ({error.strerror})") from None


def _word_vectors(args) -> tuple[dict[str, object], object]:
    """The word vectors to train with, as model files and loaded: rebuilt from the corpora with
    ``--embeddings``, else the committed ones in the project's ``models/``, copied as they are."""
    from .embeddings import Embeddings, rebuild_vectors
    from .modelfiles import EMBEDDINGS, VECTORS, embedding_files, load_embeddings

    if args.embeddings is None:
        committed = Path(args.project) / "models"
        return _model(embedding_files, committed), _model(load_embeddings, committed)
    default = Path(args.project).resolve().parent / "shared" / "corpora"
    corpora = [Path(p) for p in args.embeddings] or [default / "xwlb.jsonl.gz", default / "rmrb-rural.jsonl.gz"]
    missing = [str(p) for p in corpora if not p.is_file()]
    if missing:
        raise UserError(f"{missing[0]}: no such corpus file (--embeddings needs the unlabeled JSONL corpora)")
    print(f"training word vectors on {' '.join(map(str, corpora))} …", file=sys.stderr)
    vocabulary, payload, vectors = rebuild_vectors(corpora, args.seed)
    print(f"word vectors: {len(vocabulary['words'])} words × {vectors.shape[1]} dimensions, "
          f"from {vocabulary['corpora_tokens']} tokens", file=sys.stderr)
    return {EMBEDDINGS: vocabulary, VECTORS: payload}, Embeddings(vectors, vocabulary["words"])


def _check_out(args, out: Path) -> None:
    """Before any work: ``--out`` must be a folder the tool may write, and training on anything but the
    project's own seeds and labels must not silently replace the committed models."""
    from .folders import FolderError, check_target

    default = train_parser(args.project)
    committed = out.resolve() == Path(default.get_default("out")).resolve()
    other_data = (args.corpus or args.labels or args.themes
                  or Path(args.seeds).resolve() != Path(default.get_default("seeds")).resolve())
    if committed and other_data:
        raise UserError(f"training on other data (--corpus, --labels, --seeds or --themes) would replace the "
                        f"committed models in {out}/; give --out a new folder, e.g. --out models-mine")
    try:
        check_target(out, "models")
    except FolderError as error:
        raise UserError(str(error)) from None


def _check(committed: Path, files: dict, manifest: dict) -> int:
    """Compare a fresh training with the model files in ``committed``, without touching them."""
    import tempfile

    from .modelfiles import compare_models, read_manifest, write_models

    with tempfile.TemporaryDirectory(prefix="countythemes-check-") as scratch:
        fresh = Path(scratch) / "models"
        write_models(fresh, files, manifest)
        differences = _model(compare_models, committed, fresh)
    if differences:
        print(f"{committed}/ does not match a fresh training ({len(differences)} differences); "
              "retrain with: python train.py", file=sys.stderr)
        for line in differences[:20]:
            print(f"  {line}", file=sys.stderr)
        trained_with = _model(read_manifest, committed).get("versions", {})
        running = manifest["versions"]
        print("library versions (committed models | this training):", file=sys.stderr)
        for name in sorted(set(trained_with) | set(running)):
            mark = "" if trained_with.get(name) == running.get(name) else "   <- differs"
            print(f"  {name:<14}{trained_with.get(name, '–'):<28}{running.get(name, '–')}{mark}", file=sys.stderr)
        return 1
    print(f"{committed}/ matches a fresh training: classifier weights, topics and cross-validation agree",
          file=sys.stderr)
    return 0
