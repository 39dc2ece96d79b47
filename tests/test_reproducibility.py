"""The same model on any machine (issue 13): one definition, used by ``train.py --check`` and these tests."""
from __future__ import annotations

import copy
import json
import os

import pytest
from conftest import ROOT, train_pages

from countythemes.modelfiles import TOLERANCE, compare_models, discrete_differences, embedding_files, read_model_files
from countythemes.workers import openblas_core_types


def _files(folder):
    return read_model_files(folder)


def test_trainings_under_two_blas_kernels_are_the_same_model(tmp_path, seed_pages):
    """Two OpenBLAS kernels round differently; in float64 and on one thread the trainings agree, and
    ``--check`` under one kernel accepts the models trained under the other."""
    cores = openblas_core_types()
    if len(cores) < 2:
        pytest.skip(f"this CPU runs fewer than two OpenBLAS core types ({cores})")
    first, second = cores[0], cores[1]  # the newest this CPU has, and the one before it
    trained = {}
    for core in (first, second):
        result = train_pages(seed_pages, tmp_path / core, "--k-range", "5-7",
                             env=dict(os.environ, OPENBLAS_CORETYPE=core))
        assert result.returncode == 0, result.stderr.decode()
        trained[core] = tmp_path / core
    assert json.loads((trained[first] / "manifest.json").read_text())["versions"]["blas"].endswith(f"({first})")
    assert compare_models(trained[first], trained[second]) == []
    check = train_pages(seed_pages, trained[first], "--k-range", "5-7", "--check",
                        env=dict(os.environ, OPENBLAS_CORETYPE=second))
    assert check.returncode == 0, check.stderr.decode()
    assert "matches a fresh training" in check.stderr.decode()


def test_the_same_model_means_discrete_results_exactly_and_floats_within_the_tolerance():
    committed = _files(ROOT / "models")
    same = copy.deepcopy(committed)
    same["classifier.json"]["coef"][0][0] *= 1 + TOLERANCE / 10
    same["topics.json"]["alpha"][0] *= 1 - TOLERANCE / 10
    assert discrete_differences(committed, same) == []

    changes = {
        "a top word": lambda m: m["topics.json"]["topics"][0]["words"].reverse(),
        "the chosen K": lambda m: m["manifest.json"]["topics"].update(k=m["manifest.json"]["topics"]["k"] + 1),
        "a word of the vocabulary": lambda m: m["classifier.json"]["vocabulary"].__setitem__(0, "某某"),
        "the label set": lambda m: m["classifier.json"]["classes"].pop(),
        "a training paragraph's predicted theme": lambda m: m["manifest.json"]["training"]["predicted"].update(
            {next(iter(m["manifest.json"]["training"]["predicted"])): "nonsense"}),
    }
    for what, change in changes.items():
        changed = copy.deepcopy(committed)
        change(changed)
        assert discrete_differences(committed, changed), what


def test_check_accepts_float_noise_and_refuses_a_real_change(tmp_path):
    """``compare_models`` on folders: within the tolerance is the same model, beyond it is not."""
    import shutil

    from countythemes.modelfiles import write_models

    files = _files(ROOT / "models")
    manifest = json.loads((ROOT / "models" / "manifest.json").read_text(encoding="utf-8"))
    names = sorted(manifest.pop("files"))  # every model file, out_of_fold.json too
    manifest.pop("format_version")
    noisy = copy.deepcopy(files)
    noisy["classifier.json"]["intercept"][0] *= 1 + TOLERANCE / 10
    vectors = embedding_files(ROOT / "models")  # the word vectors as they are (files holds their checksum)
    json_names = [n for n in names if n not in vectors]
    write_models(tmp_path / "noisy", {**vectors, **{n: noisy[n] for n in json_names}}, manifest)
    assert compare_models(ROOT / "models", tmp_path / "noisy") == []
    changed = copy.deepcopy(files)
    changed["classifier.json"]["intercept"][0] += 10 * TOLERANCE * max(1.0, abs(changed["classifier.json"]["intercept"][0]))
    write_models(tmp_path / "changed", {**vectors, **{n: changed[n] for n in json_names}}, manifest)
    assert [line.split(":")[0] for line in compare_models(ROOT / "models", tmp_path / "changed")] == [
        "classifier.json.intercept[0]"]
    shutil.rmtree(tmp_path / "changed")


def test_the_manifest_records_the_training_libraries_and_a_constraints_file_pins_them():
    manifest = json.loads((ROOT / "models" / "manifest.json").read_text(encoding="utf-8"))
    versions = manifest["versions"]
    assert {"python", "numpy", "scipy", "scikit-learn", "gensim", "jieba", "rjieba", "blas"} <= set(versions)
    pinned = dict(line.split("==") for line in (ROOT / "constraints.txt").read_text().splitlines()
                  if "==" in line and not line.startswith("#"))
    for name in ("numpy", "scipy", "scikit-learn", "gensim", "jieba", "rjieba", "threadpoolctl"):
        assert pinned[name] == versions[name], name


def test_the_cpu_flags_decide_which_openblas_kernels_can_run(tmp_path):
    info = tmp_path / "cpuinfo"
    info.write_text("processor\t: 0\nflags\t\t: fpu sse4_2 pni avx avx2 fma\n")
    assert openblas_core_types(str(info)) == ["Haswell", "Sandybridge", "Nehalem", "Prescott"]
    info.write_text("flags\t\t: avx512f avx512cd avx512bw avx512dq avx512vl avx2 fma avx sse4_2 pni\n")
    assert openblas_core_types(str(info))[0] == "SkylakeX"
    assert openblas_core_types(str(tmp_path / "missing")) == []
