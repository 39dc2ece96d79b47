"""The ``countythemes`` command: its subcommands, ``python -m countythemes``, CSV output, and the package
installed (not editable) classifying from another folder with the models it ships."""
from __future__ import annotations

import csv
import io
import os
import shutil
import subprocess
import sys

from conftest import ROOT, in_process, json_lines

from countythemes.cli import main

ARTICLE = ("平顺县举办春风行动招聘会\n\n"
           "山西省长治市平顺县人社局举办春风行动招聘会，32家企业提供就业岗位1200个，帮助脱贫劳动力外出务工。\n\n"
           "平顺县合作社带动脱贫户种植中药材，建设加工车间，户均增收3000元。\n")


def test_every_command_is_a_subcommand_of_countythemes(tmp_path):
    (tmp_path / "a.txt").write_text(ARTICLE, encoding="utf-8")
    listed = in_process(main, ["--help"])
    assert listed.returncode == 0
    for command in ("paragraphs", "classify", "suggest", "report", "topics", "train"):
        assert command in listed.stdout.decode()
    paragraphs = json_lines(in_process(main, ["paragraphs", str(tmp_path / "a.txt")]))
    classified = json_lines(in_process(main, ["classify", str(tmp_path / "a.txt")]))
    assert [p["id"] for p in paragraphs] == [c["id"] for c in classified]
    assert [c["theme"] for c in classified] == ["employment", "industry"]
    assert in_process(main, ["topics"]).stdout.decode().count("\ntopic ") >= 4
    wrong = in_process(main, ["classify", "--format", "xml", "a.txt"])
    assert wrong.returncode == 2 and wrong.stderr.decode().count("\n") == 1


def test_classify_as_csv_is_utf8_with_a_bom_and_the_dataframe_columns(tmp_path):
    (tmp_path / "a.txt").write_text(ARTICLE, encoding="utf-8")
    result = in_process(main, ["classify", "--format", "csv", str(tmp_path / "a.txt")])
    assert result.returncode == 0 and result.stdout.startswith("\ufeff".encode())
    rows = list(csv.DictReader(io.StringIO(result.stdout.decode("utf-8-sig"))))
    as_json = json_lines(in_process(main, ["classify", str(tmp_path / "a.txt")]))
    assert [r["theme"] for r in rows] == [r["theme"] for r in as_json]
    assert [float(r["p_employment"]) for r in rows] == [r["scores"]["employment"] for r in as_json]
    assert list(rows[0])[:3] == ["source", "article", "article_index"] and list(rows[0])[-2:] == ["topic", "topic_words"]
    assert rows[0]["county"] == "平顺县" and rows[0]["uncertain"] == "False"


def test_python_dash_m_countythemes_is_the_command(tmp_path):
    (tmp_path / "a.txt").write_text(ARTICLE, encoding="utf-8")
    result = subprocess.run([sys.executable, "-m", "countythemes", "classify", "--no-topics", "a.txt"],
                            cwd=tmp_path, capture_output=True, timeout=120)
    assert result.returncode == 0, result.stderr.decode()
    assert [r["theme"] for r in json_lines(result)] == ["employment", "industry"]


def test_the_installed_package_classifies_from_another_folder(tmp_path):
    """``pip install .`` (not editable): the command finds the models it ships, not the project's."""
    source, target = tmp_path / "source", tmp_path / "site"  # pip builds in the source folder: a copy
    shutil.copytree(ROOT, source, ignore=shutil.ignore_patterns(".venv", "build", "*.egg-info", ".git", "reports",
                                                                 "__pycache__", ".pytest_cache", ".hypothesis"))
    install = subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps",
                              "--target", str(target), str(source)], capture_output=True, timeout=300)
    assert install.returncode == 0, install.stderr.decode()
    assert (target / "countythemes" / "models" / "manifest.json").is_file()
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "a.txt").write_text(ARTICLE, encoding="utf-8")
    environment = dict(os.environ, PYTHONPATH=str(target))
    where = subprocess.run([sys.executable, "-c", "import countythemes.modelfiles as m; print(m.packaged_models())"],
                           cwd=elsewhere, env=environment, capture_output=True, text=True, timeout=60)
    assert where.stdout.strip() == str(target / "countythemes" / "models")
    result = subprocess.run([str(target / "bin" / "countythemes"), "classify", "a.txt"], cwd=elsewhere,
                            env=environment, capture_output=True, timeout=120)
    assert result.returncode == 0, result.stderr.decode()
    committed = json_lines(in_process(main, ["classify", str(elsewhere / "a.txt")]))
    assert [{k: v for k, v in r.items() if k != "source"} for r in json_lines(result)] == \
        [{k: v for k, v in r.items() if k != "source"} for r in committed]
