"""Word vectors (issue 18): plain arrays in models/, reproducible, and the zero-shot classifier."""
from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys

import numpy as np
from conftest import ROOT, json_lines, run, train_pages

from countythemes.codebook import load_themes
from countythemes.embeddings import Embeddings, unit_rows
from countythemes.modelfiles import VECTORS


def test_the_committed_vectors_are_a_plain_checksummed_array_under_30_mb_from_recorded_corpora():
    manifest = json.loads((ROOT / "models" / "manifest.json").read_text(encoding="utf-8"))
    assert {"embeddings.npy", "embeddings.json"} <= set(manifest["files"])
    assert (ROOT / "models" / VECTORS).stat().st_size <= 30 * 2 ** 20
    vectors = np.load(ROOT / "models" / VECTORS, allow_pickle=False)
    assert vectors.dtype == np.float16 and vectors.ndim == 2
    vocabulary = json.loads((ROOT / "models" / "embeddings.json").read_text(encoding="utf-8"))
    assert len(vocabulary["words"]) == len(vectors)
    assert [c["file"] for c in vocabulary["corpora"]] == ["xwlb.jsonl.gz", "rmrb-rural.jsonl.gz"]
    assert all(len(c["sha256"]) == 64 for c in vocabulary["corpora"])
    embeddings = Embeddings.load(ROOT / "models")
    assert isinstance(embeddings.vectors, np.memmap)
    # the vectors know what no typical word says: forest rangers are ecology, granting credit is finance,
    # and the 拉面 skills-training programme is about jobs
    themes = sorted(load_themes(), key=lambda t: t.key)
    prototypes = embeddings.theme_prototypes(themes)
    words = ["护林员", "授信", "拉面"]
    nearest = (unit_rows(embeddings.mean_vectors([[w] for w in words])) @ prototypes.T).argmax(axis=1)
    assert [themes[i].key for i in nearest] == ["environment", "finance", "employment"]


def test_a_changed_vector_file_is_refused(tmp_path):
    import shutil

    shutil.copytree(ROOT / "models", tmp_path / "models")
    data = bytearray((tmp_path / "models" / VECTORS).read_bytes())
    data[-1] ^= 1
    (tmp_path / "models" / VECTORS).write_bytes(bytes(data))
    result = run("analyze.py", "classify", "seeds/000_9e47b3ad6944e131.txt", "--models", str(tmp_path / "models"))
    assert result.returncode == 2
    lines = result.stderr.decode().strip().splitlines()
    assert len(lines) == 1 and "embeddings.npy: changed since training" in lines[0]


def _tiny_corpus(path):
    stories = [{"id": str(i), "title": "t", "text": text} for i, text in enumerate([
        "村里发展特色种植产业，合作社带动农户增收。\n县里组织技能培训，帮助群众外出务工就业。",
        "驻村工作队和第一书记帮助村党支部抓党建。\n农村人居环境整治，改厕和垃圾治理。",
        "农商行发放小额信贷，授信资金支持产业。\n县里召开会议部署防返贫监测。"] * 20)]
    with gzip.open(path, "wt", encoding="utf-8") as handle:
        handle.writelines(json.dumps(s, ensure_ascii=False) + "\n" for s in stories)


def test_the_vectors_do_not_depend_on_pythonhashseed(tmp_path):
    corpus = tmp_path / "tiny.jsonl.gz"
    _tiny_corpus(corpus)
    program = ("import sys, hashlib; from pathlib import Path; from countythemes.embeddings import rebuild_vectors; "
               "from countythemes.embeddings import PARAMETERS; "
               "v, payload, _ = rebuild_vectors([Path(sys.argv[1])], 7, dict(PARAMETERS, min_count=1, epochs=2)); "
               "print(hashlib.sha256(payload).hexdigest(), len(v['words']))")
    digests = {subprocess.run([sys.executable, "-c", program, str(corpus)], cwd=ROOT, capture_output=True,
                              env=dict(os.environ, PYTHONHASHSEED=seed), check=True).stdout
               for seed in ("1", "2")}
    assert len(digests) == 1, digests


def test_train_embeddings_rebuilds_the_vectors_from_the_corpora_given(tmp_path, seed_pages):
    corpus = tmp_path / "tiny.jsonl.gz"
    _tiny_corpus(corpus)
    out = tmp_path / "models"
    # the committed parameters keep words seen 10 times; the tiny corpus has them 20 times
    result = train_pages(seed_pages, out, "--embeddings", str(corpus), "--k-range", "4-5")
    assert result.returncode == 0, result.stderr.decode()
    vocabulary = json.loads((out / "embeddings.json").read_text(encoding="utf-8"))
    assert vocabulary["corpora"][0]["file"] == "tiny.jsonl.gz"
    assert "合作社" in vocabulary["words"]
    missing = train_pages(seed_pages, tmp_path / "other", "--embeddings", str(tmp_path / "none.jsonl.gz"))
    assert missing.returncode == 2
    assert missing.stderr.decode().strip().splitlines()[-1].endswith(
        "none.jsonl.gz: no such corpus file (--embeddings needs the unlabeled JSONL corpora)")


def test_without_labels_the_tool_classifies_zero_shot_and_says_so(tmp_path, seed_pages):
    import shutil

    seeds = tmp_path / "seeds"
    shutil.copytree(seed_pages, seeds)
    (seeds / "labels.csv").unlink()
    out = tmp_path / "models"
    result = train_pages(seeds, out, "--k-range", "4-5")
    assert result.returncode == 0, result.stderr.decode()
    assert "zero-shot" in result.stderr.decode()
    assert json.loads((out / "classifier.json").read_text(encoding="utf-8"))["zero_shot"] is True
    text = tmp_path / "a.txt"
    text.write_text("某县农商行为脱贫户发放小额信贷，授信资金2亿元。\n\n该县选聘护林员，开展植树造林和荒山绿化。\n",
                    encoding="utf-8")
    classified = run("analyze.py", "classify", str(text), "--models", str(out), "--no-topics")
    assert classified.returncode == 0, classified.stderr.decode()
    assert [p["theme"] for p in json_lines(classified)] == ["finance", "environment"]
    assert "zero-shot" in classified.stderr.decode()
    report = run("analyze.py", "report", "--corpus", str(text), "--models", str(out), "--out", str(tmp_path / "report"))
    assert report.returncode == 2  # its shares would be corrected for errors nobody measured
    assert "zero-shot classifier (no labels) has no measured errors" in report.stderr.decode()
    assert not (tmp_path / "report").exists()
