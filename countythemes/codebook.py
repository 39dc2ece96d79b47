"""The codebook's themes: the one definition of what each theme covers (THEMES.md, mirrored in data/themes.json).

At the ground floor: the classifier, training, topics and reports read the
themes from here, and a user's own codebook (``--themes``) is read the same way.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from .errors import CountythemesError

__all__ = ["Theme", "ThemesError", "load_themes"]


@dataclass(frozen=True)
class Theme:
    """One theme of the codebook: its key (as in label files), Chinese name and typical words."""

    key: str
    name: str
    words: tuple[str, ...]
    #: The codebook's description of what the theme covers, as short Chinese terms (optional):
    #: with the name and typical words, what the theme's prototype vector is made of.
    covers: tuple[str, ...] = ()


class ThemesError(CountythemesError, ValueError):
    """A themes file that cannot be read or is not a codebook."""


def load_themes(path: str | None = None) -> list[Theme]:
    """The codebook's themes from a JSON file (the packaged mirror of THEMES.md by default)."""
    try:
        if path is None:
            text = resources.files("countythemes.data").joinpath("themes.json").read_text(encoding="utf-8")
        else:
            text = Path(path).read_text(encoding="utf-8-sig")
        data = json.loads(text)
        themes = [Theme(str(t["key"]), str(t["name"]), tuple(str(w) for w in t["words"]),
                        tuple(str(w) for w in t.get("covers", ()))) for t in data["themes"]]
    except OSError as error:
        raise ThemesError(f"{path}: cannot read themes file ({error.strerror})") from None
    except (ValueError, KeyError, TypeError) as error:
        raise ThemesError(f"{path}: not a themes file: needs {{\"themes\": [{{\"key\", \"name\", \"words\"}}]}} "
                          f"({error})") from None
    if any(not word or "\0" in word for theme in themes for word in theme.words):
        raise ThemesError(f"{path}: a typical word is empty or holds a NUL character")
    keys = [t.key for t in themes]
    if len(themes) < 2 or len(set(keys)) != len(keys):
        raise ThemesError(f"{path}: needs at least two themes with distinct keys")
    return themes
