"""Tests run the commands a user runs, from the project folder."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"


def run(*args: str, stdin: bytes | None = None, cwd: Path = ROOT, timeout: float = 600) -> subprocess.CompletedProcess:
    """Run ``python <script> args…`` as a user would and capture what it prints."""
    return subprocess.run([sys.executable, *args], cwd=cwd, input=stdin, capture_output=True, timeout=timeout)


def json_lines(result: subprocess.CompletedProcess) -> list[dict]:
    return [json.loads(line) for line in result.stdout.decode("utf-8").splitlines() if line.strip()]


@pytest.fixture(scope="session")
def seed_paragraphs() -> list[dict]:
    result = run("analyze.py", "paragraphs", "seeds/")
    assert result.returncode == 0, result.stderr.decode()
    return json_lines(result)


@pytest.fixture(scope="session")
def fresh_training(tmp_path_factory) -> tuple[Path, str]:
    """``python train.py`` with every default, into a new folder: (that folder, what it printed)."""
    out = tmp_path_factory.mktemp("training") / "models"
    result = run("train.py", "--out", str(out))
    assert result.returncode == 0, result.stderr.decode()
    return out, result.stdout.decode("utf-8")
