"""Output folders: the tool replaces only what it wrote, and a swap never loses the target (issues 13, 14)."""
from __future__ import annotations

import json
import signal
import subprocess
import sys
import threading

import pytest
from conftest import ROOT, run

from countythemes.folders import MARKER, FolderError, check_target, write_folder

TINY = ("平顺县推进乡村振兴\n\n平顺县合作社带动脱贫户种植中药材，户均增收3000元。\n\n"
        "县人社局举办春风行动招聘会，帮助200名脱贫劳动力外出务工。\n")


@pytest.fixture()
def tiny(tmp_path):
    path = tmp_path / "tiny.txt"
    path.write_text(TINY, encoding="utf-8")
    return path


def _snapshot(folder):
    return {p.relative_to(folder): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


@pytest.mark.parametrize("target,what", [
    ("mydata", "is not a folder this tool wrote"),
    ("README.md", "is a file, not a folder"),
    ("seeds", "is not a folder this tool wrote"),
    (".", "is not a folder this tool wrote"),
    ("/", "is the root of the file system"),
    ("models", "holds trained models, not a report"),
])
def test_report_refuses_an_out_it_did_not_write_before_any_work(target, what, tmp_path, tiny):
    project = tmp_path / "project"
    project.mkdir()
    (project / "mydata").mkdir()
    (project / "mydata" / "notes.txt").write_text("mine", encoding="utf-8")
    (project / "README.md").write_text("mine", encoding="utf-8")
    for folder in ("seeds", "models"):
        subprocess.run(["cp", "-r", str(ROOT / folder), str(project / folder)], check=True)
    before = _snapshot(project)
    result = run(str(ROOT / "analyze.py"), "report", "--corpus", str(tiny), "--out", target, cwd=project)
    stderr = result.stderr.decode()
    assert result.returncode == 2, stderr
    assert len(stderr.strip().splitlines()) == 1 and what in stderr and "--out a new folder" in stderr
    assert "reading and classifying" not in stderr  # refused before the work
    assert _snapshot(project) == before


def test_a_second_report_into_the_folder_it_wrote_replaces_it(tmp_path, tiny):
    out = tmp_path / "report"
    for _ in range(2):
        result = run("analyze.py", "report", "--corpus", str(tiny), "--out", str(out))
        assert result.returncode == 0, result.stderr.decode()
    marker = json.loads((out / MARKER).read_text(encoding="utf-8"))
    assert marker["kind"] == "report" and "index.html" in marker["files"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report", "tiny.txt"]  # no staging left behind
    (out / "my notes.txt").write_text("mine", encoding="utf-8")  # a file of the user's inside it
    third = run("analyze.py", "report", "--corpus", str(tiny), "--out", str(out))
    assert third.returncode == 2 and "holds files this tool did not write (my notes.txt)" in third.stderr.decode()
    assert (out / "my notes.txt").read_text(encoding="utf-8") == "mine"


def test_train_refuses_an_out_it_did_not_write_and_other_data_over_the_committed_models(tmp_path, tiny):
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "data.csv").write_text("1,2\n", encoding="utf-8")
    refused = run("train.py", "--out", str(tmp_path / "mine"))
    assert refused.returncode == 2 and "is not a folder this tool wrote" in refused.stderr.decode()
    assert "reading" not in refused.stderr.decode()
    before = _snapshot(ROOT / "models")
    for extra in (["--corpus", str(tiny)], ["--labels", str(ROOT / "seeds" / "labels.csv")]):
        result = run("train.py", *extra)
        stderr = result.stderr.decode()
        assert result.returncode == 2, stderr
        assert "would replace the committed models" in stderr and "--out" in stderr
    assert _snapshot(ROOT / "models") == before


def test_arguments_are_checked_before_any_work():
    result = run("train.py", "--k-range", "x", "--out", "/nonexistent/never")
    assert result.returncode == 2
    assert result.stderr.decode().strip().splitlines() == [
        "error: --k-range: expected LOW-HIGH such as 4-16, not 'x'"]
    assert result.stdout == b""  # no cross-validation ran first


def test_stale_staging_of_a_killed_run_is_cleaned_and_the_target_never_goes_missing(tmp_path):
    target = tmp_path / "report"
    write_folder(target, {"index.html": b"one"}, "report")
    # what SIGKILL leaves: a staging folder with the marker, half written
    stale = tmp_path / ".report.new-dead"
    stale.mkdir()
    (stale / MARKER).write_text("{}", encoding="utf-8")
    (stale / "index.html").write_bytes(b"half")
    foreign = tmp_path / ".report.new-not-ours"  # not the tool's (no marker): left alone
    foreign.mkdir()
    (foreign / "keep.txt").write_text("mine", encoding="utf-8")
    seen_missing = []
    stop = threading.Event()

    def watch():
        while not stop.is_set():
            if not (target / "index.html").exists():
                seen_missing.append(True)

    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        for i in range(50):
            write_folder(target, {"index.html": f"{i}".encode()}, "report")
    finally:
        stop.set()
        watcher.join()
    assert not seen_missing  # the swap is one atomic exchange
    assert (target / "index.html").read_bytes() == b"49"
    assert sorted(p.name for p in tmp_path.iterdir()) == [".report.new-not-ours", "report"]


def _write_many(target: str, name: str) -> None:
    from pathlib import Path

    for i in range(20):
        write_folder(Path(target), {"index.html": f"{name}{i}".encode()}, "report")


def test_concurrent_writers_take_turns(tmp_path):
    target = tmp_path / "report"
    code = ("import sys; sys.path.insert(0, sys.argv[1]); sys.path.insert(0, sys.argv[1] + '/tests'); "
            "from test_outputs import _write_many; _write_many(sys.argv[2], sys.argv[3])")
    writers = [subprocess.Popen([sys.executable, "-c", code, str(ROOT), str(target), name]) for name in "abc"]
    assert [w.wait(timeout=120) for w in writers] == [0, 0, 0]
    assert (target / "index.html").read_bytes() in {b"a19", b"b19", b"c19"}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report"]


def test_check_target_rules(tmp_path):
    check_target(tmp_path / "new", "report")  # new: fine
    (tmp_path / "empty").mkdir()
    check_target(tmp_path / "empty", "report")  # empty: nothing to lose
    (tmp_path / "link").symlink_to(tmp_path / "empty")
    with pytest.raises(FolderError, match="is a link"):
        check_target(tmp_path / "link", "report")
    unmarked = tmp_path / "old-models"  # written by a version before the marker
    unmarked.mkdir()
    for name in ("manifest.json", "classifier.json", "topics.json"):
        (unmarked / name).write_text("{}", encoding="utf-8")
    check_target(unmarked, "models")
    (unmarked / "classifier.json").unlink()  # not the whole set: could be anyone's
    with pytest.raises(FolderError, match="is not a folder this tool wrote"):
        check_target(unmarked, "models")


def test_an_interrupted_report_leaves_the_previous_one_whole(tmp_path, tiny):
    out = tmp_path / "report"
    assert run("analyze.py", "report", "--corpus", str(tiny), "--out", str(out)).returncode == 0
    before = _snapshot(out)
    report = subprocess.Popen([sys.executable, "analyze.py", "report", "--corpus", str(ROOT / "seeds"),
                               "--out", str(out)], cwd=ROOT, stderr=subprocess.PIPE)
    for line in report.stderr:
        if b"reading and classifying" in line:
            break
    report.send_signal(signal.SIGTERM)
    report.communicate(timeout=120)
    assert report.returncode == 143
    assert _snapshot(out) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report", "tiny.txt"]


def test_a_read_only_target_is_refused_before_the_training(tmp_path):
    import shutil

    if shutil.which("unshare") is None or subprocess.run(["unshare", "-rm", "true"]).returncode != 0:
        pytest.skip("needs unshare to mount a read-only file system")
    mount = tmp_path / "ro"
    mount.mkdir()
    script = (f"mount -t tmpfs -o ro tmpfs '{mount}' && exec '{sys.executable}' train.py --out '{mount}/models'")
    result = subprocess.run(["unshare", "-rm", "sh", "-c", script], cwd=ROOT, capture_output=True, timeout=120)
    assert result.returncode == 2
    assert result.stderr.decode().strip().splitlines() == [
        f"error: {mount}/models: cannot write into {mount} (read-only or no permission); give --out a new folder"]
