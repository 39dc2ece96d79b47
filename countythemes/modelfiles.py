"""Model files: plain JSON only, checksummed, written atomically.

Nothing in ``models/`` is ever executed or unpickled: every file is JSON, and
the manifest holds each file's SHA-256, so a file changed after training is
refused before it is parsed.
"""
from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

from .folders import write_folder

#: Bumped whenever the layout or meaning of the model files changes.
FORMAT_VERSION = 2
MANIFEST = "manifest.json"
CLASSIFIER = "classifier.json"
TOPICS = "topics.json"
REBUILD = "rebuild it with: python train.py"


class ModelError(Exception):
    """A missing, damaged, tampered or incompatible model file."""


def _dump(data) -> bytes:
    return (json.dumps(data, ensure_ascii=False, indent=1, sort_keys=True) + "\n").encode("utf-8")


def write_models(target: Path, files: dict[str, object], manifest: dict) -> None:
    """The model files as JSON, with their checksums in the manifest, written atomically."""
    payloads = {name: _dump(data) for name, data in files.items()}
    checksums = {name: hashlib.sha256(payload).hexdigest() for name, payload in sorted(payloads.items())}
    payloads[MANIFEST] = _dump(dict(manifest, format_version=FORMAT_VERSION, files=checksums))
    write_folder(target, payloads, "models")


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


def read_manifest(folder: Path) -> dict:
    path = Path(folder) / MANIFEST
    try:
        manifest = json.loads(path.read_bytes())
    except FileNotFoundError:
        raise ModelError(f"{path}: no trained model here; {REBUILD}") from None
    except (OSError, ValueError) as error:
        raise ModelError(f"{path}: damaged ({error}); {REBUILD}") from None
    version = manifest.get("format_version") if isinstance(manifest, dict) else None
    if version != FORMAT_VERSION:
        raise ModelError(f"{path}: written in model format {version}, this tool reads format "
                         f"{FORMAT_VERSION}; {REBUILD}")
    return manifest


def read_model_file(folder: Path, name: str) -> dict:
    """One model file, after checking it against the manifest's checksum."""
    folder = Path(folder)
    manifest = read_manifest(folder)
    expected = manifest.get("files", {}).get(name)
    path = folder / name
    if expected is None:
        raise ModelError(f"{path}: not listed in {MANIFEST}; {REBUILD}")
    try:
        payload = path.read_bytes()
    except FileNotFoundError:
        raise ModelError(f"{path}: missing; {REBUILD}") from None
    except OSError as error:
        raise ModelError(f"{path}: cannot read ({error.strerror}); {REBUILD}") from None
    if hashlib.sha256(payload).hexdigest() != expected:
        raise ModelError(f"{path}: changed since training (checksum does not match {MANIFEST}); "
                         f"refusing to use it; {REBUILD}")
    try:
        return json.loads(payload)
    except ValueError as error:
        raise ModelError(f"{path}: damaged ({error}); {REBUILD}") from None


def load_theme_scorer(folder: Path):
    """The stored classifier, checked against the manifest, ready to score paragraphs."""
    from .classifier import ThemeScorer

    return _ready(Path(folder) / CLASSIFIER, "a classifier", ThemeScorer, read_model_file(folder, CLASSIFIER))


def load_topic_scorer(folder: Path, model: dict | None = None):
    """The stored topic model, ready to infer topics; ``model`` where topics.json was already read."""
    from .topics import TopicScorer

    model = read_model_file(folder, TOPICS) if model is None else model
    return _ready(Path(folder) / TOPICS, "a topic model", TopicScorer, model)


def _ready(path: Path, kind: str, make, model: dict):
    try:
        return make(model)
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
#: Manifest entries that legitimately differ between identical trainings: the day, the checksums of
#: float text, and the versions of the libraries that trained (printed beside the running ones instead).
_NOT_COMPARED = {"trained", "files", "versions"}


def read_model_files(folder: Path) -> dict[str, object]:
    """The manifest and every model file it lists, each checked against its checksum."""
    manifest = read_manifest(folder)
    files = {name: read_model_file(folder, name) for name in sorted(manifest.get("files", {}))}
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
