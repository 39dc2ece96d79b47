"""Tests run the commands a user runs, from the project folder (in this process where that changes nothing)."""
from __future__ import annotations

import io
import json
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"


def run(*args: str, stdin: bytes | None = None, cwd: Path = ROOT, timeout: float = 600,
        env: dict | None = None) -> subprocess.CompletedProcess:
    """Run ``python <script> args…`` as a user would and capture what it prints.

    ``analyze.py`` and ``train.py`` of this project run in this process (``cli``'s
    entry points, standard streams swapped for buffers): the same code, without
    a second interpreter's start-up. Anything else, another folder or another
    environment, runs as a true subprocess.
    """
    script, *argv = args
    if env is not None or Path(cwd).resolve() != ROOT or script not in IN_PROCESS:
        return subprocess.run([sys.executable, *args], cwd=cwd, input=stdin, capture_output=True, timeout=timeout,
                              env=env)
    return in_process(IN_PROCESS[script], list(argv), stdin)


def _analyze(argv: list[str]) -> int:
    from countythemes.cli import analyze_main

    return analyze_main(argv, project=ROOT)


def _train(argv: list[str]) -> int:
    from countythemes.cli import train_main

    return train_main(argv, project=ROOT)


IN_PROCESS = {"analyze.py": _analyze, "train.py": _train}


class _Kept(io.BytesIO):
    """A buffer that outlives the text stream wrapped around it (which closes it when collected)."""

    def close(self) -> None:
        pass


def in_process(main, argv: list[str], stdin: bytes | None = None) -> subprocess.CompletedProcess:
    """``main(argv)`` with stdin, stdout and stderr as byte buffers; its exit code as a process's."""
    out, err = _Kept(), _Kept()
    streams = (sys.stdin, sys.stdout, sys.stderr)
    sys.stdin = io.TextIOWrapper(io.BytesIO(stdin or b""), encoding="utf-8")
    sys.stdout = io.TextIOWrapper(out, encoding="utf-8", newline="", write_through=True)
    sys.stderr = io.TextIOWrapper(err, encoding="utf-8", newline="", write_through=True)
    handler = signal.getsignal(signal.SIGTERM)
    try:
        code = main(argv)
    except SystemExit as exit:
        code = exit.code if isinstance(exit.code, int) else 1
    finally:
        for stream in (sys.stdout, sys.stderr):
            if not stream.closed:
                stream.flush()
        sys.stdin, sys.stdout, sys.stderr = streams
        signal.signal(signal.SIGTERM, handler)
    return subprocess.CompletedProcess(argv, code, out.getvalue(), err.getvalue())


def json_lines(result: subprocess.CompletedProcess) -> list[dict]:
    return [json.loads(line) for line in result.stdout.decode("utf-8").splitlines() if line.strip()]


@pytest.fixture(scope="session")
def seed_paragraphs() -> list[dict]:
    """The paragraphs of the five seed pages (the shapes the reader was built on)."""
    pages = sorted(str(p.relative_to(ROOT)) for p in (ROOT / "seeds").glob("*.txt"))
    result = run("analyze.py", "paragraphs", *pages)
    assert result.returncode == 0, result.stderr.decode()
    return json_lines(result)


@pytest.fixture(scope="session")
def training_paragraphs() -> list[dict]:
    """Every paragraph of ``seeds/``: the pages and the labeled TV and newspaper stories."""
    result = run("analyze.py", "paragraphs", "seeds/")
    assert result.returncode == 0, result.stderr.decode()
    return json_lines(result)


@pytest.fixture(scope="session")
def seed_pages(tmp_path_factory) -> Path:
    """The five seed pages and their labels alone: a labeled corpus that trains in seconds.

    The full ``seeds/`` (with the labeled TV and newspaper stories) takes minutes to train; that
    training is checked against the committed ``models/`` by ``train.py --check`` in CI.
    """
    folder = tmp_path_factory.mktemp("pages") / "seeds"
    folder.mkdir()
    for page in sorted((ROOT / "seeds").glob("*.txt")):
        shutil.copy(page, folder / page.name)
    shutil.copy(ROOT / "seeds" / "labels.csv", folder / "labels.csv")
    return folder


def train_pages(seed_pages: Path, out: Path, *args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    """``train.py`` on the seed pages into ``out``."""
    return run("train.py", "--seeds", str(seed_pages), "--out", str(out), *args, env=env)


#: The options of ``fresh_training``: a shorter K search than the default 4-16 keeps the suite quick.
FRESH_TRAINING = ("--k-range", "4-8")


@pytest.fixture(scope="session")
def fresh_training(tmp_path_factory, seed_pages) -> tuple[Path, str]:
    """``python train.py`` on the seed pages, K searched over 4-8: (its folder, what it printed)."""
    out = tmp_path_factory.mktemp("training") / "models"
    result = train_pages(seed_pages, out, *FRESH_TRAINING)
    assert result.returncode == 0, result.stderr.decode()
    return out, result.stdout.decode("utf-8")


def write_manifest(models: Path, manifest: dict) -> None:
    """A forged manifest with its own checksum made to agree, as a careful vandal would: what is then
    refused is the content, not the edit."""
    from countythemes.modelfiles import _own_checksum

    manifest["checksum"] = _own_checksum(manifest)
    (models / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
