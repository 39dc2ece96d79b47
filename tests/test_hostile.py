"""Hostile inputs, broken model folders, failing output and signals (issue 14).

Each case was tried against the code before it and failed there (a traceback,
a hang, unbounded memory or a silent loss); each bomb is generated in a few MB.
"""
from __future__ import annotations

import gzip
import hashlib
import json
import os
import select
import shutil
import signal
import subprocess
import sys
import time

import pytest
from conftest import ROOT, json_lines, run, write_manifest

GOOD = ("平顺县多措并举巩固脱贫成果\n\n"
        "县人社局在春风行动招聘会上组织32家企业提供就业岗位1200个，帮助脱贫劳动力外出务工。\n")
BODY = "县人社局在春风行动招聘会上组织32家企业提供就业岗位1200个，帮助脱贫劳动力外出务工。"
REBUILD = "rebuild it with: python train.py"


def _record(text: str, title: str = "标题") -> str:
    return json.dumps({"title": title, "text": text}, ensure_ascii=False) + "\n"


def _stderr_lines(result) -> list[str]:
    stderr = result.stderr.decode()
    assert "Traceback" not in stderr, stderr
    return stderr.strip().splitlines()


def _peak_kb(*args: str, stdin=None) -> tuple[subprocess.CompletedProcess, int]:
    """Run a command in a child and return it with the child's peak memory (ru_maxrss, KB)."""
    measure = ("import resource, subprocess, sys; r = subprocess.run(sys.argv[1:], capture_output=True); "
               "sys.stdout.buffer.write(r.stdout); sys.stderr.buffer.write(r.stderr); "
               "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, r.returncode, file=sys.stderr); "
               "sys.exit(r.returncode)")
    result = subprocess.run([sys.executable, "-c", measure, sys.executable, *args], cwd=ROOT, stdin=stdin,
                            capture_output=True, timeout=300)
    *lines, last = result.stderr.decode().strip().splitlines()
    result.stderr = "\n".join(lines).encode()
    return result, int(last.split()[0])


# ------------------------------------------------------------------------------ inputs


def test_fifos_and_devices_are_refused_and_the_good_file_is_read(tmp_path):
    fifo = tmp_path / "pipe.txt"
    os.mkfifo(fifo)
    (tmp_path / "good.txt").write_text(GOOD, encoding="utf-8")
    result = run("analyze.py", "paragraphs", str(fifo), "/dev/zero", "/dev/urandom", str(tmp_path / "good.txt"),
                 timeout=60)
    assert result.returncode == 2
    reason = "is not a regular file (a pipe, device or socket); give it as - on standard input"
    assert _stderr_lines(result) == [f"skipped {fifo}: {reason}", f"skipped /dev/zero: {reason}",
                                     f"skipped /dev/urandom: {reason}"]
    assert [p["text"] for p in json_lines(result)] == [BODY]


@pytest.mark.parametrize("command", ["paragraphs", "classify"])
def test_a_lone_surrogate_or_deep_nesting_is_a_problem_of_its_line(command, tmp_path):
    corpus = tmp_path / "bad lines.jsonl"
    corpus.write_text(_record(BODY) + '{"title": "a", "text": "\\ud800' + BODY + '"}\n'
                      + '{"text": "x", "a": ' + "[" * 100_000 + "]" * 100_000 + "}\n"
                      + _record(BODY.replace("县人社局", "市人社局")), encoding="utf-8")
    result = run("analyze.py", command, str(corpus))
    assert result.returncode == 2
    assert _stderr_lines(result) == [
        f"skipped {corpus}: line 2: holds a lone surrogate escape (such as \\ud800), which is half a character, "
        "not text",
        f"skipped {corpus}: line 3: nested too deeply to be a record"]
    assert [(p["article_index"], p["text"][:4]) for p in json_lines(result)] == [(0, "县人社局"), (3, "市人社局")]


@pytest.mark.parametrize("command", ["paragraphs", "classify"])
def test_a_file_name_that_is_not_utf8_is_shown_with_escapes_and_nothing_is_lost(command, tmp_path):
    folder = tmp_path / "names"
    folder.mkdir()
    with open(os.path.join(os.fsencode(folder), b"bad\xff name.txt"), "w", encoding="utf-8") as handle:
        handle.write(GOOD)
    (folder / "good.txt").write_text(GOOD.replace("县人社局", "市人社局"), encoding="utf-8")
    result = run("analyze.py", command, str(folder))
    assert result.returncode == 0, result.stderr.decode()
    assert {(p["source"], p["text"][:4]) for p in json_lines(result)} == {
        (f"{folder}/bad\\xff name.txt", "县人社局"), (f"{folder}/good.txt", "市人社局")}


def test_a_report_on_a_file_whose_name_is_not_utf8_is_written(tmp_path):
    bad = os.path.join(os.fsencode(tmp_path), b"bad\xff name.txt")
    with open(bad, "w", encoding="utf-8") as handle:
        handle.write(GOOD)
    result = run("analyze.py", "report", "--corpus", os.fsdecode(bad), "seeds/", "--out", str(tmp_path / "report"))
    assert result.returncode == 0, result.stderr.decode()
    assert "bad\\xff name.txt" in (tmp_path / "report" / "index.html").read_text(encoding="utf-8")


def test_big5_is_detected(tmp_path):
    traditional = "縣人社局在春風行動招聘會上組織32家企業提供就業崗位1200個，幫助脫貧勞動力外出務工。"
    (tmp_path / "big5.txt").write_bytes(f"平順縣多措並舉鞏固脫貧成果\n\n{traditional}\n".encode("big5"))
    result = run("analyze.py", "paragraphs", str(tmp_path / "big5.txt"))
    assert result.returncode == 0, result.stderr.decode()
    assert [p["text"] for p in json_lines(result)] == [traditional]


def test_gb18030_is_still_read_as_gb18030():
    from countythemes.reading import decode

    texts = [json.loads(line)["text"] for line in run("analyze.py", "paragraphs", "seeds/").stdout.splitlines()]
    assert all(decode(text.encode("gb18030"), "x") == text for text in texts)


def test_standard_input_is_streamed_not_read_whole():
    """Output comes while standard input is still open; before, nothing came until it ended."""
    reader = subprocess.Popen([sys.executable, "analyze.py", "paragraphs", "-"], cwd=ROOT, stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    article = ("第{}号村的新变化\n\n本报讯 该村今年新建蔬菜大棚，带动农户增收，合作社统一收购，户均增收三千元。\n\n")
    try:
        written = 0
        while written < 12 * 2**20:  # more than is read before streaming starts (8 MB)
            block = "".join(article.format(i) for i in range(written, written + 2000)).encode("utf-8")
            reader.stdin.write(block)
            written += len(block)
        reader.stdin.flush()
        assert select.select([reader.stdout], [], [], 60)[0], "no output while standard input is open"
        first = reader.stdout.readline()
        assert json.loads(first)["source"] == "-"
    finally:
        reader.kill()
        reader.communicate()


def test_json_lines_on_standard_input_are_read_as_records(tmp_path):
    records = "".join(_record(f"第{i}条：{BODY}", f"第{i}条") for i in range(300)).encode("utf-8")
    result = run("analyze.py", "paragraphs", "-", stdin=records)
    assert result.returncode == 0, result.stderr.decode()
    assert [(p["article_index"], p["article"]) for p in json_lines(result)] == [(i, f"第{i}条") for i in range(300)]


def test_links_that_leave_a_folder_are_not_followed_but_a_link_named_on_the_command_line_is(tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text(GOOD.replace("县人社局", "外人社局"), encoding="utf-8")
    folder = tmp_path / "scraped"
    (folder / "sub").mkdir(parents=True)
    (folder / "sub" / "good.txt").write_text(GOOD, encoding="utf-8")
    os.symlink(outside / "secret.txt", folder / "passwd.txt")
    os.symlink(outside, folder / "doc")
    os.symlink("sub", folder / "inside")  # stays inside: followed, and said to lead to a folder already read
    result = run("analyze.py", "paragraphs", str(folder))
    assert result.returncode == 2
    not_followed = "link leads outside the folder; not followed (name it on the command line to read it)"
    assert _stderr_lines(result) == [f"skipped {folder / 'doc'}: {not_followed}",
                                     f"skipped {folder / 'passwd.txt'}: {not_followed}",
                                     f"skipped {folder / 'sub'}: folder link leads to a folder already read"]
    assert [p["text"][:4] for p in json_lines(result)] == ["县人社局"]
    named = run("analyze.py", "paragraphs", str(folder / "passwd.txt"))
    assert named.returncode == 0 and [p["text"][:4] for p in json_lines(named)] == ["外人社局"]


def test_a_record_without_a_body_paragraph_is_named(tmp_path):
    corpus = tmp_path / "c.jsonl"
    corpus.write_text(_record(BODY) + _record("新闻联播", "只有标题") + _record(BODY.replace("县", "市")), encoding="utf-8")
    result = run("analyze.py", "paragraphs", str(corpus))
    assert result.returncode == 2
    assert _stderr_lines(result) == [
        f"skipped {corpus}: line 2: no body paragraphs found (only headlines, captions or bylines)"]
    assert [p["article_index"] for p in json_lines(result)] == [0, 2]


def test_a_markdown_table_of_many_rows_keeps_the_paragraph_after_it(tmp_path):
    table = "\n".join(["| 项目 | 数量 |", "| --- | --- |"] + [f"| 第{i}项 | {i} |" for i in range(12)])
    (tmp_path / "table.md").write_text(f"# 标题\n\n{table}\n平顺{BODY}\n", encoding="utf-8")
    result = run("analyze.py", "paragraphs", str(tmp_path / "table.md"))
    assert result.returncode == 0, result.stderr.decode()
    assert [p["text"] for p in json_lines(result)] == ["平顺" + BODY]


def test_a_gzip_corpus_with_a_flipped_byte_is_refused_whole(tmp_path):
    data = "".join(_record(f"第{i}条：{BODY}该县深入开展农村人居环境整治，完成改厕3200户。") for i in range(3000))
    damaged = bytearray(gzip.compress(data.encode("utf-8"), mtime=0))
    damaged[len(damaged) // 2] ^= 0x10
    (tmp_path / "flipped.jsonl.gz").write_bytes(bytes(damaged))
    result = run("analyze.py", "paragraphs", str(tmp_path / "flipped.jsonl.gz"))
    assert result.returncode == 2
    [line] = _stderr_lines(result)
    assert line.startswith(f"skipped {tmp_path / 'flipped.jsonl.gz'}: is a damaged gzip file (")
    assert line.endswith("); nothing was read from it")
    assert result.stdout == b""


def test_a_gzip_bomb_of_one_huge_line_is_passed_over_in_bounded_memory(tmp_path):
    bomb = tmp_path / "bomb.jsonl.gz"
    with gzip.open(bomb, "wb", compresslevel=9) as handle:  # a line of 48 MB, written 1 MB at a time
        handle.write(_record(BODY).encode("utf-8") + b'{"title": "x", "text": "')
        chunk = b"x" * 2**20
        for _ in range(48):
            handle.write(chunk)
        handle.write(b'"}\n' + _record(BODY.replace("县", "市")).encode("utf-8"))
    assert bomb.stat().st_size < 2**20
    result, peak_kb = _peak_kb("analyze.py", "paragraphs", str(bomb))
    assert result.returncode == 2
    assert _stderr_lines(result) == [f"skipped {bomb}: line 2: a record of {48 * 2**20 + 26:,} bytes is over the "
                                     f"limit of {16 * 2**20:,}; left out"]
    assert [p["article_index"] for p in json_lines(result)] == [0, 2]
    assert peak_kb < 200 * 1024, f"peak memory {peak_kb // 1024} MB"


def test_a_paragraph_over_the_limit_is_left_out_with_a_line(tmp_path):
    (tmp_path / "long.txt").write_text(f"标题\n\n{'县人社局组织企业提供岗位，' * 90_000}。\n\n{BODY}\n", encoding="utf-8")
    result = run("analyze.py", "paragraphs", str(tmp_path / "long.txt"))
    assert result.returncode == 2
    assert _stderr_lines(result) == [f"skipped {tmp_path / 'long.txt'}: article 0: a paragraph of 1,170,001 "
                                     "characters is over the limit of 1,000,000; left out"]
    assert [p["text"] for p in json_lines(result)] == [BODY]


def test_a_long_paragraph_takes_linear_time(tmp_path):
    """Place offsets were summed from the start for every name found: quadratic in the paragraph."""
    from countythemes.pipeline import iter_paragraphs

    seeds = "".join(json.loads(line)["text"] for line in run("analyze.py", "paragraphs", "seeds/").stdout.splitlines())
    took = []
    for size in (100_000, 400_000):
        path = tmp_path / f"{size}.txt"
        path.write_text("标题\n\n" + (seeds * (size // len(seeds) + 1))[:size] + "。\n", encoding="utf-8")
        start = time.perf_counter()
        assert len(list(iter_paragraphs([str(path)], print))) == 1
        took.append(time.perf_counter() - start)
    assert took[1] < 8 * took[0] + 0.5, took  # four times the text: about four times the time, not sixteen


# ---------------------------------------------------------------------------- output


@pytest.mark.parametrize("command", [["paragraphs", "seeds/"], ["classify", "seeds/", "--no-topics"],
                                     ["classify", "seeds/", "--format", "table"], ["topics"]])
def test_a_full_disk_on_standard_output_is_one_line(command):
    with open("/dev/full", "wb") as full:
        result = subprocess.run([sys.executable, "analyze.py", *command], cwd=ROOT, stdout=full,
                                stderr=subprocess.PIPE, timeout=120)
    assert result.returncode == 2
    assert _stderr_lines(result) == ["error: cannot write the output (No space left on device)"]


def test_sigterm_to_the_process_group_while_output_waits_ends_every_process(tmp_path):
    corpus = tmp_path / "c.jsonl"
    corpus.write_text("".join(_record(f"{BODY}\n第{i}段：该县深入开展农村人居环境整治。") for i in range(3000)),
                      encoding="utf-8")
    read_end, write_end = os.pipe()
    classify = subprocess.Popen([sys.executable, "analyze.py", "classify", "--workers", "2", str(corpus)], cwd=ROOT,
                                stdout=write_end, stderr=subprocess.PIPE, start_new_session=True)
    os.close(write_end)
    try:
        os.read(read_end, 100)  # it writes; nobody reads on: the workers' results wait
        time.sleep(2)
        os.killpg(classify.pid, signal.SIGTERM)
        stderr = classify.communicate(timeout=30)[1].decode()  # before: stuck in Pool.terminate for ever
    finally:
        if classify.poll() is None:
            os.killpg(classify.pid, signal.SIGKILL)
        os.close(read_end)
    assert classify.returncode == 143, stderr
    assert stderr.strip() == "terminated"
    time.sleep(0.5)
    with pytest.raises(ProcessLookupError):
        os.killpg(classify.pid, 0)  # no worker left behind


def test_suggest_never_overwrites_a_file_that_appears_while_it_works(tmp_path):
    from countythemes.folders import FolderError, write_new_file

    out = tmp_path / "more.csv"
    out.write_text("labels filled in meanwhile\n", encoding="utf-8")
    with pytest.raises(FolderError, match="already exists"):
        write_new_file(out, "id,theme\n")
    assert out.read_text(encoding="utf-8") == "labels filled in meanwhile\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["more.csv"]


def test_suggest_does_not_follow_a_link_at_a_predictable_temporary_name(tmp_path):
    victim = tmp_path / "victim.txt"
    victim.write_text("not to be overwritten\n", encoding="utf-8")
    os.symlink(victim, tmp_path / ".more.csv.part")
    result = run("analyze.py", "suggest", "seeds/", "--n", "3", "--out", str(tmp_path / "more.csv"))
    assert result.returncode == 0, result.stderr.decode()
    assert victim.read_text(encoding="utf-8") == "not to be overwritten\n"
    assert not (tmp_path / "more.csv").is_symlink()
    assert (tmp_path / "more.csv").read_text(encoding="utf-8").startswith("id,theme")
    assert oct((tmp_path / "more.csv").stat().st_mode & 0o777) != oct(0o600)  # an ordinary file


def test_suggest_on_a_read_only_mount_is_one_line(tmp_path):
    if shutil.which("unshare") is None or subprocess.run(["unshare", "-rm", "true"]).returncode != 0:
        pytest.skip("needs unshare to mount a read-only file system")
    mount = tmp_path / "ro"
    mount.mkdir()
    script = (f"mount -t tmpfs -o ro tmpfs '{mount}' && exec '{sys.executable}' analyze.py suggest seeds/ "
              f"--n 3 --out '{mount}/more.csv'")
    result = subprocess.run(["unshare", "-rm", "sh", "-c", script], cwd=ROOT, capture_output=True, timeout=120)
    assert result.returncode == 2
    assert _stderr_lines(result) == [f"error: {mount}/more.csv: cannot write (Read-only file system)"]


# ----------------------------------------------------------------------- model folders


def _models_copy(tmp_path):
    models = tmp_path / "models"
    shutil.copytree(ROOT / "models", models)
    return models


def _forge(models, name: str, change) -> None:
    """Change a model file and make the manifest's checksum agree, as a careful vandal would."""
    path = models / name
    data = json.loads(path.read_text(encoding="utf-8"))
    change(data)
    payload = json.dumps(data, ensure_ascii=False).encode("utf-8")  # NaN and Infinity as Python writes them
    path.write_bytes(payload)
    manifest = json.loads((models / "manifest.json").read_text(encoding="utf-8"))
    manifest["files"][name] = hashlib.sha256(payload).hexdigest()
    write_manifest(models, manifest)


def _edit_manifest(models, change) -> None:
    manifest = json.loads((models / "manifest.json").read_text(encoding="utf-8"))
    change(manifest)
    write_manifest(models, manifest)


def _set(data, path: tuple, value) -> None:
    for key in path[:-1]:
        data = data[key]
    data[path[-1]] = value


MALFORMED = [
    ("files as a list", lambda m: _edit_manifest(m, lambda d: d.update(files=list(d["files"].items()))),
     "manifest.json: not a manifest this tool can read (files must be an object)"),
    ("a path in files", lambda m: _edit_manifest(m, lambda d: d["files"].update({"../../../../etc/passwd": "0" * 64})),
     "manifest.json: not a manifest this tool can read (files names '../../../../etc/passwd': only file names "
     "inside the folder are allowed)"),
    ("no theme_order", lambda m: _edit_manifest(m, lambda d: d.pop("theme_order")),
     "manifest.json: not a manifest this tool can read (theme_order must be a list of non-empty strings)"),
    ("an empty typical word", lambda m: _forge(m, "classifier.json", lambda d: _set(d, ("typical_words", 0), [""])),
     "classifier.json: not a classifier this tool can read (typical_words must be a list of non-empty strings)"),
    ("NaN weights", lambda m: _forge(m, "classifier.json", lambda d: _set(d, ("coef", 0, 0), float("nan"))),
     "classifier.json: not a classifier this tool can read (coef holds a number that is not finite (NaN or "
     "infinity))"),
    ("infinite intercept", lambda m: _forge(m, "classifier.json", lambda d: _set(d, ("intercept", 1), float("inf"))),
     "classifier.json: not a classifier this tool can read (intercept holds a number that is not finite"),
    ("negative alpha", lambda m: _forge(m, "topics.json", lambda d: _set(d, ("alpha", 0), -1.0)),
     "topics.json: not a topic model this tool can read (alpha must be positive)"),
    ("-inf alpha", lambda m: _forge(m, "topics.json", lambda d: _set(d, ("alpha", 0), float("-inf"))),
     "topics.json: not a topic model this tool can read (alpha holds a number that is not finite"),
    ("a 65 MB model file", lambda m: os.truncate(m / "classifier.json", 65 * 2**20),  # sparse: no memory, no disk
     f"classifier.json: {65 * 2**20:,} bytes, more than a model file of this tool holds ({64 * 2**20:,})"),
    ("manifest linked to /dev/zero", lambda m: ((m / "manifest.json").unlink(), os.symlink("/dev/zero", m / "manifest.json")),
     "manifest.json: not a regular file (a folder, device or pipe)"),
]


@pytest.mark.parametrize("damage,message", [(m[0], m[2]) for m in MALFORMED], ids=[m[0] for m in MALFORMED])
def test_a_malformed_but_consistent_model_folder_is_refused_in_one_line(damage, message, tmp_path):
    models = _models_copy(tmp_path)
    dict((m[0], m[1]) for m in MALFORMED)[damage](models)
    command = (["report", "--corpus", "seeds/", "--out", str(tmp_path / "report")] if damage == "no theme_order"
               else ["classify", "seeds/"])
    result = run("analyze.py", *command, "--models", str(models), timeout=60)
    assert result.returncode == 2
    [line] = _stderr_lines(result)
    assert line.startswith(f"error: {models}/{message}") and line.endswith(REBUILD), line
    assert result.stdout == b""


def test_check_never_opens_a_path_the_manifest_names_outside_the_folder(tmp_path):
    from countythemes.modelfiles import ModelError, compare_models

    models = _models_copy(tmp_path)
    _edit_manifest(models, lambda d: d["files"].update({"../outside.json": "0" * 64}))
    (tmp_path / "outside.json").write_text("{}", encoding="utf-8")
    with pytest.raises(ModelError, match="only file names inside the folder"):
        compare_models(models, ROOT / "models")


def test_the_manifest_is_covered_by_its_own_checksum(fresh_training, tmp_path):
    folder, _ = fresh_training
    models = tmp_path / "models"
    shutil.copytree(folder, models)
    assert run("analyze.py", "classify", "seeds/", "--no-topics", "--models", str(models)).returncode == 0
    manifest = (models / "manifest.json").read_text(encoding="utf-8")
    assert '"checksum":' in manifest
    (models / "manifest.json").write_text(manifest.replace('"labeled": ', '"labeled": 1'), encoding="utf-8")
    result = run("analyze.py", "classify", "seeds/", "--models", str(models))
    assert result.returncode == 2
    assert _stderr_lines(result) == [f"error: {models}/manifest.json: changed since training (its checksum does "
                                     f"not match its content); refusing to use it; {REBUILD}"]
