"""Hardening: bad input for every command, broken model files, interrupted runs (issue 6)."""
from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time

import pytest
from conftest import FRESH_TRAINING, ROOT, json_lines, run, train_pages, write_manifest

csv.field_size_limit(2**31 - 1)  # the 200,000-line file becomes one very long paragraph

GOOD = ("平顺县多措并举巩固脱贫成果\n\n"
        "县人社局在春风行动招聘会上组织32家企业提供就业岗位1200个，帮助脱贫劳动力外出务工。\n\n"
        "该县深入开展农村人居环境整治，完成改厕3200户，新建垃圾收集点80个。\n")


def _good(county: str) -> str:
    return GOOD.replace("平顺", county)


#: name, how to write it, what must be read from it (a paragraph start) or the message it gets
BAD_INPUTS = [
    ("empty.txt", lambda p: p.write_bytes(b""), None, "empty.txt: file is empty"),
    ("blank.txt", lambda p: p.write_text("  \n\n\t \n"), None, "blank.txt: file holds only blank space"),
    ("binary.txt", lambda p: p.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8), None,
     "binary.txt: is a binary file (image, PDF or archive), not text"),
    ("undecodable.txt", lambda p: p.write_bytes("县人社局".encode("utf-8") + b"\x81\x20" * 50), None,
     "undecodable.txt: is in no supported encoding (UTF-8, UTF-16, GB18030/GBK, Big5)"),
    ("fake bom.txt", lambda p: p.write_bytes(b"\xff\xfe\xfa" * 50 + b"\x81\x20" * 50), None,
     "fake bom.txt: starts with a UTF-16 byte-order mark but is not text in that encoding"),
    ("truncated.txt", lambda p: p.write_bytes(_good("壶关").encode("utf-8")[:-2]), "县人社局", None),
    ("gb18030.txt", lambda p: p.write_bytes(_good("黎城").encode("gb18030")), "县人社局", None),
    ("utf16.txt", lambda p: p.write_bytes(_good("武乡").encode("utf-16")), "县人社局", None),
    ("one char lines.txt", lambda p: p.write_text("字\n" * 200_000, encoding="utf-8"), "字字字", None),
    ("scripts.html", lambda p: p.write_text(
        "<html><head><style>p{color:red}</style><script>var x = '脚本里的字';</script></head><body>"
        "<div>沁县开展技能培训，帮助脱贫劳动力外出务工，人均月工资达到四千元以上。</div>"
        "<script>alert('又一段脚本')</script></body></html>", encoding="utf-8"), "沁县开展技能培训", None),
    ("front matter only.md", lambda p: p.write_text("---\ntitle: 只有前言\ndate: 2024-01-01\n---\n",
                                                     encoding="utf-8"), None,
     "front matter only.md: no body paragraphs found (only headlines, captions or bylines)"),
    ("nested.html", lambda p: p.write_text("<div>" * 100_000 + "沁源县开展农村人居环境整治，完成改厕三千户。"
                                           + "</div>" * 100_000, encoding="utf-8"), "沁源县开展农村人居环境整治", None),
]


def _reads_as_root(path) -> bool:
    return os.access(path, os.R_OK)


@pytest.fixture(scope="module")
def scraped(tmp_path_factory):
    """A folder (its name has a space and Chinese) of good and bad files, a symlink loop, an unreadable file."""
    folder = tmp_path_factory.mktemp("scraped") / "抓取 结果"
    folder.mkdir()
    (folder / "好 新闻.txt").write_text(GOOD, encoding="utf-8")
    for name, write, _, _ in BAD_INPUTS:
        write(folder / name)
    os.symlink(".", folder / "loop")
    locked = folder / "locked.txt"
    locked.write_text(_good("襄垣"), encoding="utf-8")
    locked.chmod(0)
    yield folder
    locked.chmod(0o644)


def _expected_messages(folder) -> list[str]:
    messages = [f"skipped {folder / message}" for _, _, _, message in BAD_INPUTS if message]
    messages.append(f"skipped {folder / 'loop'}: folder link loops back to a folder already read")
    if not _reads_as_root(folder / "locked.txt"):  # root reads it anyway
        messages.append(f"skipped {folder / 'locked.txt'}: permission denied")
    return messages


def _good_starts() -> list[str]:
    return ["县人社局"] + [start for _, _, start, _ in BAD_INPUTS if start]


@pytest.mark.parametrize("command", ["paragraphs", "classify", "suggest", "report"])
def test_every_command_reads_the_good_files_among_bad_ones(command, scraped, tmp_path):
    args = ["analyze.py", command, str(scraped)] if command != "report" else \
        ["analyze.py", "report", "--corpus", str(scraped), "--out", str(tmp_path / "report")]
    result = run(*args)
    stderr = result.stderr.decode()
    assert result.returncode == 2, stderr
    assert "Traceback" not in stderr
    for message in _expected_messages(scraped):
        assert stderr.count(message) == 1, (message, stderr)
    if command in ("paragraphs", "classify"):
        texts = [p["text"] for p in json_lines(result)]
    elif command == "suggest":
        texts = [r["text"] for r in csv.DictReader(io.StringIO(result.stdout.decode()))]
    else:
        with open(tmp_path / "report" / "paragraphs.csv", encoding="utf-8-sig") as handle:
            texts = [r["text"] for r in csv.DictReader(handle)]
    sources = {"paragraphs", "classify", "report"}
    for start in _good_starts():
        if command in sources:
            assert any(t.startswith(start) for t in texts), (start, command)
    if command == "suggest":
        assert len(texts) >= 5  # the good paragraphs were scored and suggested


@pytest.mark.parametrize("name,write,start,message", BAD_INPUTS, ids=[b[0] for b in BAD_INPUTS])
def test_each_input_alone(name, write, start, message, tmp_path):
    path = tmp_path / name
    write(path)
    result = run("analyze.py", "paragraphs", str(path))
    if message:
        assert result.returncode == 2
        assert result.stderr.decode().strip() == f"skipped {tmp_path / message}"
        assert result.stdout == b""
    else:
        assert result.returncode == 0, result.stderr.decode()
        assert any(p["text"].startswith(start) for p in json_lines(result))


def test_a_50_mb_file_is_read_in_bounded_memory(tmp_path):
    """A scraped 50 MB page dump is read as a stream: memory stays far below the file's size in text."""
    article = ("平顺县多措并举巩固脱贫成果\n\n本报讯 今年以来，平顺县围绕巩固拓展脱贫攻坚成果，推动各项工作落地见效。\n\n"
               "县人社局在春风行动招聘会上组织32家企业提供就业岗位1200个，帮助脱贫劳动力外出务工。\n\n").encode("utf-8")
    big = tmp_path / "big.txt"
    with open(big, "wb") as handle:
        for _ in range(50 * 2**20 // len(article) + 1):
            handle.write(article)
    measure = ("import resource, subprocess, sys; r = subprocess.run(sys.argv[1:], stdout=subprocess.PIPE); "
               "print(len(r.stdout.splitlines()), r.returncode, "
               "resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)")
    result = subprocess.run([sys.executable, "-c", measure, sys.executable, "analyze.py", "paragraphs", str(big)],
                            cwd=ROOT, capture_output=True, timeout=600)
    lines, code, peak_kb = map(int, result.stdout.split())
    assert code == 0, result.stderr.decode()
    assert lines >= 2
    assert peak_kb < 250 * 1024, f"peak memory {peak_kb // 1024} MB"


# ---------------------------------------------------------------------------- model files


def _models_copy(tmp_path):
    models = tmp_path / "models"
    shutil.copytree(ROOT / "models", models)
    return models


def _forge(models, name, payload: bytes):
    """Replace a model file and make the manifest's checksum agree, as a careful vandal would."""
    (models / name).write_bytes(payload)
    manifest = json.loads((models / "manifest.json").read_text(encoding="utf-8"))
    manifest["files"][name] = hashlib.sha256(payload).hexdigest()
    write_manifest(models, manifest)


@pytest.mark.parametrize("damage,message", [
    ("truncated", "classifier.json: damaged"),
    ("missing topics", "topics.json: missing; rebuild it with: python train.py"),
    ("old format", "manifest.json: written in model format 1, this tool reads format 2; "
                   "rebuild it with: python train.py"),
    ("truncated manifest", "manifest.json: damaged"),
    ("wrong shape", "classifier.json: not a classifier this tool can read"),
])
def test_broken_model_files_are_refused_with_the_file_and_how_to_rebuild(damage, message, tmp_path):
    models = _models_copy(tmp_path)
    if damage == "truncated":
        _forge(models, "classifier.json", (models / "classifier.json").read_bytes()[:5000])
    elif damage == "missing topics":
        (models / "topics.json").unlink()
    elif damage == "old format":
        manifest = json.loads((models / "manifest.json").read_text(encoding="utf-8"))
        manifest["format_version"] = 1
        (models / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    elif damage == "truncated manifest":
        (models / "manifest.json").write_bytes((models / "manifest.json").read_bytes()[:100])
    else:
        model = json.loads((models / "classifier.json").read_text(encoding="utf-8"))
        model["idf"] = model["idf"][:-1]
        _forge(models, "classifier.json", json.dumps(model).encode("utf-8"))
    for command in (["classify", "seeds/"], ["topics"]):
        result = run("analyze.py", *command, "--models", str(models))
        stderr = result.stderr.decode()
        if damage in ("truncated", "wrong shape") and command == ["topics"]:
            continue  # the topics command reads the classifier only for theme names after the topics
        assert result.returncode == 2, stderr
        assert message in stderr and "Traceback" not in stderr, stderr
        assert len(stderr.strip().splitlines()) == 1


# ------------------------------------------------------------------------- interruptions


@pytest.mark.parametrize("stop,code,word", [(signal.SIGINT, 130, "interrupted"), (signal.SIGTERM, 143, "terminated")])
def test_interrupted_training_leaves_the_previous_models_whole(stop, code, word, tmp_path):
    models = _models_copy(tmp_path)
    before = {p.name: p.read_bytes() for p in models.iterdir()}
    training = subprocess.Popen([sys.executable, "train.py", "--out", str(models)], cwd=ROOT,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                env=dict(os.environ, PYTHONUNBUFFERED="1"),
                                # Ctrl-C as at a terminal: a suite started in the background (``cmd &``)
                                # inherits SIGINT ignored, and Python then never raises KeyboardInterrupt
                                preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    for line in training.stderr:  # wait until it is at work: the corpus is read, cross-validation runs
        if b"labeled, in" in line:
            break
    time.sleep(1.0)
    training.send_signal(stop)
    stderr = training.communicate(timeout=120)[1].decode()
    assert training.returncode == code, stderr
    assert stderr.strip().splitlines()[-1] == word
    assert "Traceback" not in stderr
    assert {p.name: p.read_bytes() for p in models.iterdir()} == before
    assert [p.name for p in tmp_path.iterdir()] == ["models"]  # no staging folder left behind
    assert run("analyze.py", "classify", "seeds/", "--models", str(models), "--no-topics").returncode == 0


# --------------------------------------------------------------------------------- labels


def test_label_files_with_a_bom_and_crlf_are_read(tmp_path, seed_paragraphs):
    from countythemes.labels import LabelError, read_labels

    first, second = seed_paragraphs[0]["id"], seed_paragraphs[1]["id"]
    path = tmp_path / "labels.csv"
    path.write_bytes("\ufeffid,theme,secondary,note,excerpt\r\n".encode("utf-8")
                     + f"{first},cadres,,,\r\n{second},other,industry,\"a note, with a comma\",\r\n".encode("utf-8"))
    labels = read_labels([str(path)], {first, second}, {"industry": "产业发展", "cadres": "驻村帮扶与基层党建", "other": "其他"})
    assert {k: (v.theme, v.secondary) for k, v in labels.items()} == {first: ("cadres", ""), second: ("other", "industry")}
    path.write_bytes(b"\xef\xbb\xbfid,theme\r\n" + f"{first},cadres\r\n{second},Cadres\r\n".encode("utf-8"))
    with pytest.raises(LabelError, match=r"labels.csv:3: unknown theme 'Cadres'"):
        read_labels([str(path)], {first, second}, {"industry": "产业发展", "cadres": "驻村帮扶与基层党建", "other": "其他"})


# ------------------------------------------------------------------------------ --check


def test_check_names_what_differs_and_the_library_versions(tmp_path, fresh_training, seed_pages):
    models = tmp_path / "models"
    shutil.copytree(fresh_training[0], models)
    model = json.loads((models / "classifier.json").read_text(encoding="utf-8"))
    model["coef"][0][3] += 1e-4  # a real change, however small, is beyond the tolerance
    _forge(models, "classifier.json", (json.dumps(model, ensure_ascii=False) + "\n").encode("utf-8"))
    manifest = json.loads((models / "manifest.json").read_text(encoding="utf-8"))
    manifest["versions"]["scikit-learn"] = "0.1"
    write_manifest(models, manifest)
    before = {p.name: p.read_bytes() for p in models.iterdir()}
    result = train_pages(seed_pages, models, "--check", *FRESH_TRAINING)
    stderr = result.stderr.decode()
    assert result.returncode == 1, stderr
    assert "does not match a fresh training" in stderr and "classifier.json.coef[0][3]: committed" in stderr
    assert re.search(r"scikit-learn\s+0\.1\s+\S+\s+<- differs", stderr), stderr
    assert {p.name: p.read_bytes() for p in models.iterdir()} == before  # --check never writes
    assert [p.name for p in tmp_path.iterdir()] == ["models"]


class _TwoPartError(Exception):
    """An exception pickle cannot rebuild (its __init__ wants two arguments, its args hold one)."""

    def __init__(self, item, reason):
        super().__init__(f"{item}: {reason}")


def _failing(item):
    raise _TwoPartError(item, "broken")


def test_an_error_in_a_worker_process_reaches_the_parent_instead_of_hanging_the_pool():
    from countythemes.workers import WorkerError, mapper

    with mapper(2) as mapped, pytest.raises(WorkerError, match="_TwoPartError: 1: broken"):
        list(mapped(_failing, [1, 2, 3]))
