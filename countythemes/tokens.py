"""Word segmentation with jieba's algorithm, a domain dictionary and a stopword list.

Segmentation runs with the HMM off: new-word guessing makes tokens depend on
neighbouring text, while dictionary-only segmentation is reproducible and is
what jieba-rs, the Rust port of the same algorithm and dictionary, reproduces
exactly (tested on the seeds and 1,000 corpus stories) at about twenty times
the speed. jieba itself stays the reference.
"""
from __future__ import annotations

import logging
import re
from functools import lru_cache
from importlib import resources
from itertools import chain, repeat
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np

_WORD = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fffA-Za-z]")
_NUMBERLIKE = re.compile(r"^[\d０-９.,%％]+[\u4e00-\u9fff]?$|^第?[\d一二三四五六七八九十百千万亿]+[个名户人元亩次]?$")


def _data_lines(name: str) -> list[str]:
    text = resources.files("countythemes.data").joinpath(name).read_text(encoding="utf-8")
    return [line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#")]


@lru_cache(maxsize=1)
def stopwords() -> frozenset[str]:
    return frozenset(_data_lines("stopwords.txt"))


def user_words() -> list[tuple[str, int]]:
    """The domain dictionary and every full place name of the gazetteer."""
    from .gazetteer import gazetteer

    words = []
    for line in _data_lines("userdict.txt"):
        word, _, freq = line.partition(" ")
        words.append((word, int(freq or 1000)))
    for name in gazetteer().full_names():
        words.append((name, 1000))
    return words


@lru_cache(maxsize=1)
def segmenter():
    """jieba-rs (through rjieba) with the domain words: the same algorithm and dictionary as
    jieba with its HMM off, about twenty times faster (tests check the tokens are identical).

    rjieba loads its dictionary into a default tokenizer when imported; that one is used
    (through the module's ``add_word`` and ``cut``) rather than loading it a second time.
    """
    import rjieba

    for word, freq in user_words():
        rjieba.add_word(word, freq, None)
    return rjieba


@lru_cache(maxsize=1)
def reference_segmenter():
    """jieba itself, the reference, with the domain words added as jieba-rs adds them."""
    import jieba

    jieba.setLogLevel(logging.WARNING)
    tokenizer = jieba.Tokenizer()
    tokenizer.initialize()
    for word, freq in user_words():
        # jieba-rs replaces a known word's frequency; jieba would count both in the total.
        previous = tokenizer.FREQ.get(word, 0)
        tokenizer.add_word(word, freq)
        tokenizer.total -= previous
    return tokenizer


def segment(text: str) -> list[str]:
    """All tokens of a text, punctuation and spaces included, in order."""
    return segmenter().cut(text, False)


def reference_segment(text: str) -> list[str]:
    """``segment`` by jieba itself: slower, for checking the fast path and for benchmarks."""
    return reference_segmenter().lcut(text, HMM=False)


def tokenize(text: str) -> list[str]:
    """Feature tokens for the classifier and topics: words only, no stopwords or numbers."""
    return tokenize_filter(segment(text))


def tokenize_filter(tokens: list[str]) -> list[str]:
    """The feature tokens among a segmentation's tokens."""
    stop = stopwords()
    return [t for t in tokens if _is_feature(t, stop)]


_FEATURE: dict[str, bool] = {}


def _is_feature(token: str, stop: frozenset[str]) -> bool:
    """A word, not a stopword or a number; remembered, as the same tokens come back all the time."""
    known = _FEATURE.get(token)
    if known is None:
        known = token not in stop and bool(_WORD.search(token)) and not _NUMBERLIKE.match(token)
        if len(_FEATURE) < 500_000:
            _FEATURE[token] = known
    return known


def word_counts(words: list[list[str]], index: dict[str, int]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """How often each vocabulary word occurs in each paragraph: (rows, columns, counts), sorted.

    ``words`` are segmentations and ``index`` a vocabulary's columns; tokens
    outside it are left out. Looked up with no Python step per token.
    """
    import numpy as np  # here, not at the top: reading and segmenting paragraphs need no numpy

    lengths = np.fromiter(map(len, words), dtype=np.int64, count=len(words))
    columns = np.fromiter(map(index.get, chain.from_iterable(words), repeat(-1)),
                          dtype=np.int64, count=int(lengths.sum()))
    rows = np.repeat(np.arange(len(words)), lengths)
    known = columns >= 0
    width = max(len(index), 1)
    cells, counts = np.unique(rows[known] * width + columns[known], return_counts=True)
    rows, columns = np.divmod(cells, width)
    return rows, columns, counts
