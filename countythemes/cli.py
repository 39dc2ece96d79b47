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
