"""Model files: plain JSON only, checksummed, written atomically.

Nothing in ``models/`` is ever executed or unpickled: every file is JSON but
the word vectors, a plain ``.npy`` array read without pickle, and the manifest
holds each file's SHA-256, so a file changed after training is
refused before it is parsed; the manifest holds its own too (what it says,
the training date and scores, reaches the report). Sizes are checked before a
file is read and contents after (names, types, shapes, finite numbers), so a
damaged or forged folder is refused with one line, never run with.
"""
from __future__ import annotations

import hashlib
import json
import math
import os
import re
import stat
from pathlib import Path

import numpy as np

from .errors import CountythemesError
from .folders import write_folder

#: Bumped whenever the layout or meaning of the model files changes.
FORMAT_VERSION = 2
MANIFEST = "manifest.json"
CLASSIFIER = "classifier.json"
TOPICS = "topics.json"
EMBEDDINGS = "embeddings.json"
VECTORS = "embeddings.npy"
#: Cross-validation's out-of-fold theme probabilities, for error-adjusted shares (``shares``).
OUT_OF_FOLD = "out_of_fold.json"
REBUILD = "rebuild it with: python train.py"


class ModelError(CountythemesError):
    """A missing, damaged, tampered or incompatible model file."""


def _dump(data) -> bytes:
    return (json.dumps(data, ensure_ascii=False, indent=1, sort_keys=True) + "\n").encode("utf-8")


def write_models(target: Path, files: dict[str, object], manifest: dict) -> None:
    """The model files (JSON, or bytes written as they are), with their checksums in the manifest (and
    its own), written atomically."""
    payloads = {name: data if isinstance(data, bytes) else _dump(data) for name, data in files.items()}
    checksums = {name: hashlib.sha256(payload).hexdigest() for name, payload in sorted(payloads.items())}
    manifest = dict(manifest, format_version=FORMAT_VERSION, files=checksums)
    payloads[MANIFEST] = _dump(dict(manifest, checksum=_own_checksum(manifest)))
    write_folder(target, payloads, "models")


def _own_checksum(manifest: dict) -> str:
    """The SHA-256 of the manifest's content without its checksum, in one canonical JSON form."""
    content = {key: value for key, value in manifest.items() if key != "checksum"}
    canonical = json.dumps(content, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


#: The libraries whose versions decide a training's numbers, recorded in the manifest.
TRAINING_LIBRARIES = ("numpy", "scipy", "scikit-learn", "gensim", "jieba", "rjieba", "threadpoolctl")


def library_versions() -> dict[str, str]:
    """The running Python, the training libraries and the BLAS kernel in use, for the manifest."""
    import platform
    from importlib.metadata import PackageNotFoundError, version

    from threadpoolctl import threadpool_info

    versions = {"python": platform.python_version()}
    for name in TRAINING_LIBRARIES:
        try:
            versions[name] = version(name)
        except PackageNotFoundError:
            versions[name] = "not installed"
    blas = [f"{i['internal_api']} {i['version']} ({i.get('architecture')})" for i in threadpool_info()
            if i["user_api"] == "blas"]
    versions["blas"] = "; ".join(sorted(set(blas))) or "unknown"
    return versions


#: Larger files are refused before they are read: the manifest is a few KB, and model files of an
#: archive's training a few MB (a vocabulary of tens of thousands of words times the themes and topics).
MAX_MANIFEST = 2**20
MAX_MODEL_FILE = 64 * 2**20
#: What the manifest may name: a file in the folder, never a path.
_FILE_NAME = re.compile(r"[A-Za-z0-9_-][A-Za-z0-9_.-]*")


def _read_bytes(path: Path, limit: int) -> bytes:
    """A model file's bytes: a regular file (not a link to /dev/zero, not a FIFO) of at most ``limit`` bytes."""
    try:
        descriptor = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except FileNotFoundError:
        raise
    except OSError as error:
        raise ModelError(f"{path}: cannot read ({error.strerror}); {REBUILD}") from None
    with os.fdopen(descriptor, "rb") as handle:
        info = os.fstat(descriptor)
        if not stat.S_ISREG(info.st_mode):
            raise ModelError(f"{path}: not a regular file (a folder, device or pipe); {REBUILD}")
        if info.st_size > limit:
            raise ModelError(f"{path}: {info.st_size:,} bytes, more than a model file of this tool holds "
                             f"({limit:,}); {REBUILD}")
        os.set_blocking(descriptor, True)
        payload = handle.read(limit + 1)
    if len(payload) > limit:  # it grew since
        raise ModelError(f"{path}: more than a model file of this tool holds ({limit:,} bytes); {REBUILD}")
    return payload


def packaged_models() -> Path:
    """The committed models: installed inside the package (``pip install .`` copies ``models/`` there as
    package data), or the project's ``models/`` beside the package in a source checkout."""
    package = Path(__file__).resolve().parent
    installed = package / "models"
    return installed if (installed / MANIFEST).is_file() else package.parent / "models"


def read_manifest(folder: Path) -> dict:
    path = Path(folder) / MANIFEST
    try:
        manifest = json.loads(_read_bytes(path, MAX_MANIFEST))
    except FileNotFoundError:
        raise ModelError(f"{path}: no trained model here; {REBUILD}") from None
    except (OSError, ValueError, RecursionError) as error:
        raise ModelError(f"{path}: damaged ({error}); {REBUILD}") from None
    version = manifest.get("format_version") if isinstance(manifest, dict) else None
    if version != FORMAT_VERSION:
        raise ModelError(f"{path}: written in model format {version}, this tool reads format "
                         f"{FORMAT_VERSION}; {REBUILD}")
    if manifest.get("checksum") != _own_checksum(manifest):
        raise ModelError(f"{path}: changed since training (its checksum does not match its content); "
                         f"refusing to use it; {REBUILD}")
    _checked(path, "a manifest", _check_manifest, manifest)
    return manifest


def read_model_file(folder: Path, name: str, manifest: dict | None = None) -> dict:
    """One JSON model file, after checking it against the manifest's checksum, and its contents after."""
    folder = Path(folder)
    payload = _checked_payload(folder, name, manifest)
    path = folder / name
    try:
        model = json.loads(payload)
    except (ValueError, RecursionError) as error:
        raise ModelError(f"{path}: damaged ({error}); {REBUILD}") from None
    if name in _CHECKS:
        kind, check = _CHECKS[name]
        _checked(path, kind, check, model)
    return model


def _checked_payload(folder: Path, name: str, manifest: dict | None = None) -> bytes:
    """A model file's bytes, refused unless they match the manifest's checksum."""
    manifest = read_manifest(folder) if manifest is None else manifest
    expected = manifest["files"].get(name)
    path = folder / name
    if expected is None or not _FILE_NAME.fullmatch(name):
        raise ModelError(f"{path}: not listed in {MANIFEST}; {REBUILD}")
    try:
        payload = _read_bytes(path, MAX_MODEL_FILE)
    except FileNotFoundError:
        raise ModelError(f"{path}: missing; {REBUILD}") from None
    if hashlib.sha256(payload).hexdigest() != expected:
        raise ModelError(f"{path}: changed since training (checksum does not match {MANIFEST}); "
                         f"refusing to use it; {REBUILD}")
    return payload


def read_vectors(folder: Path, manifest: dict | None = None) -> tuple[dict, np.ndarray]:
    """The word vectors' vocabulary and array (memory-mapped), checked against the manifest."""
    folder = Path(folder)
    manifest = read_manifest(folder) if manifest is None else manifest
    vocabulary = read_model_file(folder, EMBEDDINGS, manifest)
    _checked_payload(folder, VECTORS, manifest)
    try:
        return vocabulary, np.load(folder / VECTORS, mmap_mode="r", allow_pickle=False)
    except ValueError as error:
        raise ModelError(f"{folder / VECTORS}: not word vectors this tool can read ({error}); {REBUILD}") from None


def embedding_files(folder: Path) -> dict[str, object]:
    """The word-vector files of ``folder`` as ``write_models`` takes them, checked against the manifest."""
    folder = Path(folder)
    manifest = read_manifest(folder)
    return {EMBEDDINGS: read_model_file(folder, EMBEDDINGS, manifest),
            VECTORS: _checked_payload(folder, VECTORS, manifest)}


# ---------------------------------------------------------------------- contents


class _Invalid(ValueError):
    """What is wrong with a model file's contents."""


def _checked(path: Path, kind: str, check, data) -> None:
    try:
        check(data)
    except _Invalid as error:
        raise ModelError(f"{path}: not {kind} this tool can read ({error}); {REBUILD}") from None


def _need(condition: bool, what: str) -> None:
    if not condition:
        raise _Invalid(what)


def _dict(data, key: str, where: str = "") -> dict:
    value = data.get(key) if isinstance(data, dict) else None
    _need(isinstance(value, dict), f"{where}{key} must be an object")
    return value


def _strings(data: dict, key: str, empty: bool = False) -> list[str]:
    value = data.get(key)
    _need(isinstance(value, list) and all(isinstance(v, str) and (empty or v) and "\0" not in v for v in value),
          f"{key} must be a list of{'' if empty else ' non-empty'} strings")
    return value


def _number(data: dict, key: str, where: str = "") -> float:
    value = data.get(key)
    _need(isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value),
          f"{where}{key} must be a finite number")
    return value


def _array(data: dict, key: str, shape: tuple[int, ...]) -> np.ndarray:
    """A list (of lists) of finite numbers of the given shape, as an array."""
    value = data.get(key)
    _need(isinstance(value, list), f"{key} must be a list of numbers")
    try:
        array = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise _Invalid(f"{key} must be a list of numbers of shape {shape}") from None
    _need(array.shape == shape, f"{key} has shape {array.shape}, not {shape}")
    _need(bool(np.isfinite(array).all()), f"{key} holds a number that is not finite (NaN or infinity)")
    return array


def _check_manifest(manifest: dict) -> None:
    files = _dict(manifest, "files")
    for name, checksum in files.items():
        _need(bool(_FILE_NAME.fullmatch(name)), f"files names {name!r}: only file names inside the folder are allowed")
        _need(isinstance(checksum, str) and bool(re.fullmatch(r"[0-9a-f]{64}", checksum)),
              f"files: the checksum of {name} is not a SHA-256")
    _need(all(name in files for name in (CLASSIFIER, TOPICS, EMBEDDINGS, VECTORS)),
          f"files must list {CLASSIFIER}, {TOPICS}, {EMBEDDINGS} and {VECTORS}")
    order = _strings(manifest, "theme_order")
    _need(len(order) >= 2 and len(set(order)) == len(order), "theme_order must hold two or more distinct themes")
    themes = _dict(manifest, "themes")
    _need(all(isinstance(themes.get(key), str) for key in order), "themes must name every theme of theme_order")
    _number(_dict(manifest, "training"), "labeled", "training.")
    _need(isinstance(manifest.get("zero_shot", False), bool), "zero_shot must be true or false")
    if manifest.get("zero_shot"):  # a codebook without labels: nothing was cross-validated
        _need("cross_validation" not in manifest, "a zero-shot manifest cannot hold cross-validation")
    else:
        _check_cross_validation(manifest, order)
    topics = _dict(manifest, "topics")
    _need(isinstance(topics.get("rule"), str), "topics.rule must be a string")


def _check_cross_validation(manifest: dict, order: list[str]) -> None:
    cross_validation = _dict(manifest, "cross_validation")
    _number(cross_validation, "folds", "cross_validation.")
    model = _dict(cross_validation, "model", "cross_validation.")
    _array(model, "confusion", (len(order), len(order)))
    for part in ("model", "majority", "typical_words"):
        _number(_dict(cross_validation, part, "cross_validation."), "macro_f1", f"cross_validation.{part}.")


def _check_classifier(model: dict) -> None:
    _need(isinstance(model, dict), "not a JSON object")
    classes = _strings(model, "classes")
    _need(len(classes) >= 2 and len(set(classes)) == len(classes), "classes must hold two or more distinct themes")
    names = _dict(model, "names")
    _need(all(isinstance(names.get(key), str) for key in classes), "names must name every class")
    vocabulary = _strings(model, "vocabulary")
    _need(len(set(vocabulary)) == len(vocabulary), "vocabulary holds a word twice")
    typical = model.get("typical_words")
    _need(isinstance(typical, list) and all(isinstance(group, list) for group in typical),
          "typical_words must be a list of lists of words")
    for group in typical:
        _strings({"typical_words": group}, "typical_words")
    _array(model, "idf", (len(vocabulary),))
    embedding = _dict(model, "embedding")
    prototypes = embedding.get("prototypes")
    _need(isinstance(prototypes, list) and len(prototypes) > 0 and isinstance(prototypes[0], list),
          "embedding.prototypes must be a list of vectors")
    shape = (len(prototypes), len(prototypes[0]))
    _array(embedding, "prototypes", shape)
    _number(embedding, "vector_weight", "embedding.")
    _number(embedding, "similarity_weight", "embedding.")
    dense = 2 * (shape[1] + shape[0])
    _array(model, "coef", (len(classes), len(vocabulary) + dense + len(typical)))
    _array(model, "intercept", (len(classes),))
    _need(_number(model, "inverse_temperature") > 0, "inverse_temperature must be positive")
    _need(0 <= _number(model, "threshold") <= 1, "threshold must be between 0 and 1")


def _check_topics(model: dict) -> None:
    _need(isinstance(model, dict), "not a JSON object")
    k = model.get("k")
    _need(isinstance(k, int) and not isinstance(k, bool) and k >= 1, "k must be a whole number of topics")
    vocabulary = _strings(model, "vocabulary")
    _need(len(set(vocabulary)) == len(vocabulary), "vocabulary holds a word twice")
    _need(bool((_array(model, "alpha", (k,)) > 0).all()), "alpha must be positive")
    _need(bool((_array(model, "exp_elog_beta", (k, len(vocabulary))) >= 0).all()), "exp_elog_beta must not be negative")
    _array(model, "topic_word", (k, len(vocabulary)))
    anchors = model.get("anchors", {})
    _need(isinstance(anchors, dict) and all(isinstance(v, str) and key.isdigit() for key, v in anchors.items()),
          "anchors must map topic numbers to themes")
    _need(isinstance(model.get("seeded"), bool), "seeded must be true or false")
    coherence = _dict(model, "coherence")
    for measure in ("c_npmi", "u_mass"):
        _number(coherence, measure, "coherence.")
    topics = model.get("topics")
    _need(isinstance(topics, list) and len(topics) == k and all(isinstance(t, dict) for t in topics),
          "topics must describe every topic")
    for topic in topics:
        _strings(topic, "words")
        _number(topic, "size", "topics[].")
        _number(topic, "c_npmi", "topics[].")
        mix = _dict(topic, "theme_mix", "topics[].")
        _need(all(isinstance(share, (int, float)) for share in mix.values()), "topics[].theme_mix must hold shares")
    _need(isinstance(model.get("curve"), list), "curve must be a list")


def _check_out_of_fold(model: dict) -> None:
    _need(isinstance(model, dict), "not a JSON object")
    order = _strings(model, "theme_order")
    _need(len(order) >= 2 and len(set(order)) == len(order), "theme_order must hold two or more distinct themes")
    ids = _strings(model, "ids")
    labels = _strings(model, "labels")
    _need(len(labels) == len(ids) and set(labels) <= set(order), "labels must give one theme of theme_order per id")
    articles = model.get("articles")
    _need(isinstance(articles, list) and len(articles) == len(ids)
          and all(isinstance(a, int) and not isinstance(a, bool) and a >= 0 for a in articles),
          "articles must number each id's article")
    probabilities = _array(model, "probabilities", (len(ids), len(order)))
    _need(bool((probabilities >= 0).all()) and bool(np.allclose(probabilities.sum(axis=1), 1, atol=1e-6)),
          "probabilities must be rows of probabilities adding up to 1")


_CHECKS = {CLASSIFIER: ("a classifier", _check_classifier), TOPICS: ("a topic model", _check_topics),
           OUT_OF_FOLD: ("out-of-fold predictions", _check_out_of_fold)}


def read_out_of_fold(folder: Path) -> dict:
    """Cross-validation's out-of-fold predictions; models trained before they were stored have none."""
    manifest = read_manifest(folder)
    if manifest.get("zero_shot"):
        raise ModelError(f"{folder}: a zero-shot classifier (no labels) has no measured errors, and the report's "
                         "shares are corrected for them; label some paragraphs and train, or use classify")
    if OUT_OF_FOLD not in manifest["files"]:
        raise ModelError(f"{Path(folder) / OUT_OF_FOLD}: these models were trained before the error-adjusted "
                         f"shares (no out-of-fold predictions); {REBUILD}")
    return read_model_file(folder, OUT_OF_FOLD, manifest)


def built(path: Path, kind: str, make, data):
    """``make(data)``: a model object from a model file's plain data; where the data do not fit it (a
    field missing, an array of the wrong shape), a ``ModelError`` naming the file."""
    try:
        return make(data)
    except (KeyError, TypeError, ValueError) as error:
        raise ModelError(f"{path}: not {kind} this tool can read ({error}); {REBUILD}") from None


#: What "the same model" means, used by ``train.py --check`` and the tests alike: every discrete
#: result exactly (label set, vocabularies, chosen K, top words, topic sizes, cross-validation counts,
#: the predicted theme of every training paragraph), and every float x within TOLERANCE * max(1, |x|)
#: (absolute below 1, relative above). Measured by ``bench/reproducibility.py`` on the full seeds/:
#: trainings under two OpenBLAS kernels (Haswell, Nehalem) differ by at most 5e-10 (LDA's topic-word
#: numbers, where per-paragraph E-step iterations stop at a threshold), everything else by 2e-13 or
#: less; 1e-6 leaves a margin of 2,000 above that noise, and a real change (a label, a word, a
#: setting) changes discrete results, which are compared exactly.
TOLERANCE = 1e-6
#: Manifest entries that legitimately differ between identical trainings: the day, the checksums (of
#: float text, of the day), and the versions of the libraries that trained (printed beside the running
#: ones instead).
_NOT_COMPARED = {"trained", "files", "checksum", "versions"}


def read_model_files(folder: Path) -> dict[str, object]:
    """The manifest and every model file it lists, each checked against its checksum."""
    manifest = read_manifest(folder)
    files: dict[str, object] = {}
    for name in sorted(manifest.get("files", {})):  # the vectors by their checksum: copied, never retrained
        files[name] = (hashlib.sha256(_checked_payload(Path(folder), name, manifest)).hexdigest()
                       if name == VECTORS else read_model_file(folder, name, manifest))
    files[MANIFEST] = {k: v for k, v in manifest.items() if k not in _NOT_COMPARED}
    return files


def compare_models(committed: Path, fresh: Path) -> list[str]:
    """Where two model folders differ, one line each: discrete results exactly, floats within ``TOLERANCE``."""
    expected, found = read_model_files(committed), read_model_files(fresh)
    return discrete_differences(expected, found) + [
        f"{where}: committed {a!r}, fresh {b!r}" for where, a, b in _float_pairs(expected, found)
        if abs(a - b) > TOLERANCE * max(1.0, abs(a))][:20]


def discrete_differences(expected, found, where: str = "") -> list[str]:
    """Every difference that is not a float's: keys, lengths, strings, integers, booleans, nulls."""
    differences: list[str] = []
    _walk(expected, found, where, differences, lambda *pair: None)
    return differences


def float_differences(expected, found) -> dict[str, tuple[float, float]]:
    """The largest absolute and relative difference of the floats at each path (list positions dropped)."""
    largest: dict[str, tuple[float, float]] = {}
    for where, a, b in _float_pairs(expected, found):
        path = re.sub(r"\[\d+\]", "[]", where)
        absolute = abs(a - b)
        old = largest.get(path, (0.0, 0.0))
        largest[path] = (max(old[0], absolute), max(old[1], absolute / max(abs(a), abs(b), 1e-300)))
    return largest


def _float_pairs(expected, found) -> list[tuple[str, float, float]]:
    pairs: list[tuple[str, float, float]] = []
    _walk(expected, found, "", [], lambda where, a, b: pairs.append((where, a, b)))
    return pairs


def _is_float(value) -> bool:
    return isinstance(value, float)


def _walk(expected, found, where: str, differences: list[str], on_floats) -> None:
    if isinstance(expected, dict) and isinstance(found, dict):
        for key in sorted(set(expected) | set(found), key=str):
            here = f"{where}.{key}" if where else str(key)
            if key not in found or key not in expected:
                differences.append(f"{here}: only in the {'committed' if key in expected else 'fresh'} model")
            else:
                _walk(expected[key], found[key], here, differences, on_floats)
    elif isinstance(expected, list) and isinstance(found, list):
        if len(expected) != len(found):
            differences.append(f"{where}: {len(expected)} entries committed, {len(found)} fresh")
            return
        before = len(differences)
        for i, (a, b) in enumerate(zip(expected, found)):
            _walk(a, b, f"{where}[{i}]", differences, on_floats)
            if len(differences) - before >= 3:  # a changed list: a few entries say enough
                differences.append(f"{where}: more differences not listed")
                return
    elif _is_float(expected) and _is_float(found):
        on_floats(where, expected, found)
    elif type(expected) is not type(found) or expected != found:
        differences.append(f"{where}: committed {expected!r}, fresh {found!r}")
