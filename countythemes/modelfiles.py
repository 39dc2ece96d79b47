"""Model files: plain JSON only, checksummed, written atomically.

Nothing in ``models/`` is ever executed or unpickled: every file is JSON, and
the manifest holds each file's SHA-256, so a file changed after training is
refused before it is parsed.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from pathlib import Path

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


def write_folder(target: Path, files: dict[str, bytes]) -> None:
    """Write all files into a temporary folder beside ``target`` and swap it into place.

    An interrupted run leaves the previous ``target`` whole; a reader never
    sees a folder with some files new and some old.
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.new-", dir=target.parent))
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(staging, 0o777 & ~umask)  # an ordinary folder, not mkdtemp's private one
    try:
        for name, payload in sorted(files.items()):
            (staging / name).write_bytes(payload)
        _swap(staging, target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def write_models(target: Path, files: dict[str, object], manifest: dict) -> None:
    """The model files as JSON, with their checksums in the manifest, written atomically."""
    payloads = {name: _dump(data) for name, data in files.items()}
    checksums = {name: hashlib.sha256(payload).hexdigest() for name, payload in sorted(payloads.items())}
    payloads[MANIFEST] = _dump(dict(manifest, format_version=FORMAT_VERSION, files=checksums))
    write_folder(target, payloads)


def _swap(staging: Path, target: Path) -> None:
    if not target.exists():
        os.replace(staging, target)
        return
    retired = Path(tempfile.mkdtemp(prefix=f".{target.name}.old-", dir=target.parent))
    os.rmdir(retired)
    os.replace(target, retired)
    try:
        os.replace(staging, target)
    except BaseException:
        os.replace(retired, target)
        raise
    shutil.rmtree(retired, ignore_errors=True)


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


#: Floats may differ in their last digits between machines (BLAS, CPU); more than this is a real change.
TOLERANCE = 1e-6
#: Manifest entries that differ between identical trainings: the day, and checksums of float text.
_NOT_COMPARED = {"trained", "files"}


def compare_models(committed: Path, fresh: Path) -> list[str]:
    """Where two model folders differ: one line per difference, floats within ``TOLERANCE``."""
    differences: list[str] = []
    manifest = read_manifest(committed)
    for name in sorted(set(manifest.get("files", {})) | set(read_manifest(fresh).get("files", {}))):
        try:
            expected = read_model_file(committed, name)
        except ModelError as error:
            differences.append(str(error))
            continue
        _compare(expected, read_model_file(fresh, name), name, differences)
    _compare({k: v for k, v in manifest.items() if k not in _NOT_COMPARED},
             {k: v for k, v in read_manifest(fresh).items() if k not in _NOT_COMPARED}, MANIFEST, differences)
    return differences


def _compare(expected, found, where: str, differences: list[str]) -> None:
    if isinstance(expected, dict) and isinstance(found, dict):
        for key in sorted(set(expected) | set(found), key=str):
            if key not in found or key not in expected:
                differences.append(f"{where}.{key}: only in {'the committed' if key in expected else 'the fresh'} model")
            else:
                _compare(expected[key], found[key], f"{where}.{key}", differences)
    elif isinstance(expected, list) and isinstance(found, list):
        if len(expected) != len(found):
            differences.append(f"{where}: {len(expected)} entries committed, {len(found)} fresh")
            return
        before = len(differences)
        for i, (a, b) in enumerate(zip(expected, found)):
            _compare(a, b, f"{where}[{i}]", differences)
            if len(differences) - before >= 3:  # a changed matrix: a few entries say enough
                differences.append(f"{where}: more differences not listed")
                return
    elif isinstance(expected, (int, float)) and isinstance(found, (int, float)) \
            and not isinstance(expected, bool) and not isinstance(found, bool):
        if abs(expected - found) > TOLERANCE * (1 + abs(expected)):
            differences.append(f"{where}: committed {expected!r}, fresh {found!r}")
    elif expected != found:
        differences.append(f"{where}: committed {expected!r}, fresh {found!r}")
