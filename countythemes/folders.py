"""Output folders (trained models, reports): written whole or not at all, and only over what the tool wrote.

A folder is written into a staging folder beside its target and swapped in by
one atomic exchange, so the target is never missing and a reader never sees
it half new. An existing folder is replaced only when the tool wrote it: it
holds the marker file ``MARKER`` naming the files written, and nothing else.
``--out mydata``, ``--out seeds``, ``--out .``, ``--out /`` or a file are
refused before any work is done, as is a report over a models folder.
"""
from __future__ import annotations

import contextlib
import ctypes
import errno
import fcntl
import json
import os
import shutil
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from .errors import CountythemesError

#: The marker in every folder the tool writes: what wrote it, its kind, and the files written.
MARKER = ".countythemes.json"
#: What each kind of folder held before folders carried the marker (such a folder is still the tool's).
_UNMARKED = {
    "models": {"manifest.json", "classifier.json", "topics.json"},
    "report": {"theme_mix_by_county.png", "theme_mix_by_county.csv", "topics.png", "topic_selection.png",
               "topic_theme.png", "classifier.png", "paragraphs.csv", "index.html"},
}
_NEW, _OLD = ".new-", ".old-"


class FolderError(CountythemesError):
    """An output folder the tool will not write: the message says why and what to do instead."""


def check_target(target: Path, kind: str) -> None:
    """Refuse ``target`` unless it is new, empty, or a ``kind`` folder this tool wrote.

    Called before any work (so a refusal costs nothing) and again under the lock just before the swap.
    """
    target = Path(target)
    hint = "give --out a new folder"
    if target.is_symlink():
        raise FolderError(f"{target}: is a link; the tool replaces only folders it wrote itself ({hint})")
    if not target.exists():
        parent = target.parent
        if parent.exists() and not parent.is_dir():
            raise FolderError(f"{target}: {parent} is a file, not a folder ({hint})")
        _writable(next((p for p in [parent, *parent.parents] if p.exists()), parent), target, hint)
        return
    if not target.is_dir():
        raise FolderError(f"{target}: is a file, not a folder; the tool never replaces a file ({hint})")
    if target.resolve() == Path(target.resolve().anchor):
        raise FolderError(f"{target}: is the root of the file system ({hint})")
    try:
        present = {entry.name for entry in os.scandir(target)}
    except OSError as error:
        raise FolderError(f"{target}: cannot be listed ({error.strerror}); {hint}") from None
    _writable(target.parent, target, hint)
    if not present:
        return
    written = _written(target, present)
    if written is None:
        raise FolderError(f"{target}: is not a folder this tool wrote (it holds {_some(present)}); "
                          f"the tool replaces only its own folders, so nothing of yours is lost ({hint})")
    found_kind, names = written
    if found_kind != kind:
        raise FolderError(f"{target}: holds {_KIND_NAMES.get(found_kind, found_kind)}, not "
                          f"{_KIND_NAMES[kind]}; refusing to replace it ({hint})")
    foreign = present - names - {MARKER}
    if foreign:
        raise FolderError(f"{target}: holds files this tool did not write ({_some(foreign)}); "
                          f"move them out first, or {hint}")


_KIND_NAMES = {"models": "trained models", "report": "a report"}


def _writable(folder: Path, target: Path, hint: str) -> None:
    """The staging folder goes beside the target: its folder must take new entries (a read-only mount
    or a folder without write permission is refused before the work, not after)."""
    if not os.access(folder, os.W_OK | os.X_OK):
        raise FolderError(f"{target}: cannot write into {folder} (read-only or no permission); {hint}")


def _some(names: set[str]) -> str:
    shown = sorted(names)[:3]
    return ", ".join(shown) + (f" and {len(names) - 3} more" if len(names) > 3 else "")


def _written(folder: Path, present: set[str]) -> tuple[str, set[str]] | None:
    """(kind, files) of a folder this tool wrote, from its marker or its unmarked file set (``present``
    is what the folder holds); else None."""
    marker = folder / MARKER
    if marker.is_file() and not marker.is_symlink():
        try:
            data = json.loads(marker.read_bytes()[:1_000_000])
            if data.get("written_by") == "countythemes" and isinstance(data.get("files"), list):
                return str(data.get("kind")), {str(name) for name in data["files"]}
        except (OSError, ValueError, AttributeError):
            return None
        return None
    for kind, names in _UNMARKED.items():
        if present == names:  # all of them: a folder of the user's that shares one name is not taken
            return kind, names
    return None


def write_folder(target: Path, files: dict[str, bytes | Path], kind: str) -> None:
    """Write ``files`` into a staging folder beside ``target`` and swap it into place; a file given as
    a ``Path`` (one written elsewhere as it streamed) is moved in.

    Writers of the same target take turns (a lock on the parent folder); each
    first removes staging folders that an earlier, killed run left behind. An
    interrupted run leaves the previous ``target`` whole.
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    with _locked(target.parent):
        check_target(target, kind)
        _remove_stale(target)
        staging = Path(tempfile.mkdtemp(prefix=f".{target.name}{_NEW}", dir=target.parent))
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(staging, 0o777 & ~umask)  # an ordinary folder, not mkdtemp's private one
        try:
            marker = {"written_by": "countythemes", "kind": kind, "files": sorted(files)}
            (staging / MARKER).write_text(json.dumps(marker, indent=1) + "\n", encoding="utf-8")
            for name, payload in sorted(files.items()):
                if isinstance(payload, Path):
                    shutil.move(payload, staging / name)
                else:
                    (staging / name).write_bytes(payload)
            _swap(staging, target)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise


@contextmanager
def _locked(folder: Path) -> Iterator[None]:
    """An exclusive lock on ``folder`` (flock on the folder itself: no lock file is left behind)."""
    descriptor = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX)
        yield
    finally:
        os.close(descriptor)


def _remove_stale(target: Path) -> None:
    """Staging folders of ``target`` left by a run that was killed (SIGKILL, power loss) while it
    wrote; under the lock no other run is writing. Only folders holding the tool's marker (or nothing) go."""
    for prefix in (_NEW, _OLD):
        for leftover in target.parent.glob(f".{target.name}{prefix}*"):
            if leftover.is_dir() and not leftover.is_symlink() and (
                    (leftover / MARKER).is_file() or not any(leftover.iterdir())):
                shutil.rmtree(leftover, ignore_errors=True)


_RENAME_EXCHANGE = 2
_AT_FDCWD = -100


def _exchange(first: Path, second: Path) -> bool:
    """Atomically swap two paths (Linux ``renameat2(RENAME_EXCHANGE)``); False where unsupported."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    result = renameat2(_AT_FDCWD, os.fsencode(first), _AT_FDCWD, os.fsencode(second), _RENAME_EXCHANGE)
    if result == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP):
        return False
    raise OSError(code, os.strerror(code), str(second))


def _swap(staging: Path, target: Path) -> None:
    if not target.exists():
        os.replace(staging, target)
        return
    if _exchange(staging, target):  # the old folder is now at ``staging``: the target was never missing
        shutil.rmtree(staging, ignore_errors=True)
        return
    retired = Path(tempfile.mkdtemp(prefix=f".{target.name}{_OLD}", dir=target.parent))
    os.rmdir(retired)
    os.replace(target, retired)
    try:
        os.replace(staging, target)
    except BaseException:
        os.replace(retired, target)
        raise
    shutil.rmtree(retired, ignore_errors=True)


def already_exists(path: Path) -> FolderError:
    """Checked before the work and again when the file is created: one message for both."""
    return FolderError(f"{path}: already exists; suggest writes a new file, so labels filled in there "
                       "are never overwritten (choose another name)")


def write_new_file(path: Path, text: str) -> None:
    """Create ``path`` for the first time, whole, or not at all.

    The name is taken first with O_EXCL (which fails on anything already
    there, a link included), so a file that appeared since the check before
    classifying is never overwritten; the text goes into a temporary file of
    an unpredictable name beside it (``mkstemp``: created new, never through a
    link) and is renamed over the empty placeholder, so no reader sees half a file.
    """
    try:
        placeholder = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o666)
    except FileExistsError:
        raise already_exists(path) from None
    except OSError as error:
        raise FolderError(f"{path}: cannot write ({error.strerror})") from None
    mode = os.fstat(placeholder).st_mode & 0o777  # as the umask allows, not mkstemp's 0600
    os.close(placeholder)
    temporary = None
    try:
        descriptor, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
        with os.fdopen(descriptor, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
            os.fchmod(handle.fileno(), mode)
        os.replace(temporary, path)
    except OSError as error:
        for leftover in (temporary, path):  # clean up what can be; a read-only disk keeps what it has
            if leftover is not None:
                with contextlib.suppress(OSError):
                    os.unlink(leftover)
        raise FolderError(f"{path}: cannot write ({error.strerror})") from None
