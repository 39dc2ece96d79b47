"""Tests run the commands a user runs, from the project folder."""
from __future__ import annotations

import json
import shutil
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
    return subprocess.run([sys.executable, "train.py", "--seeds", str(seed_pages), "--out", str(out), *args],
                          cwd=ROOT, capture_output=True, timeout=600, env=env)


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
