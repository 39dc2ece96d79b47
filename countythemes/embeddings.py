"""Domain word vectors: trained with gensim on unlabeled news archives, stored as plain arrays.

With a few hundred labeled articles TF-IDF cannot know that 护林员 is about
ecology or 授信 about finance unless those words were labeled; vectors learned
from the archives place such words near the codebook's. They are stored as a
float16 ``.npy`` array (memory-mapped at use, so classifying starts fast) and
a JSON vocabulary; nothing is unpickled. Training them (``train.py
--embeddings``) needs the archives and gensim; using them needs numpy only.
"""
from __future__ import annotations

import gzip
import hashlib
import json
import zlib
from pathlib import Path
from typing import Iterator

import numpy as np

from .modelfiles import VECTORS, built, read_vectors
from .tokens import segment, tokenize_filter

#: The kind and parameters, chosen by the classifier's grouped cross-validation (see the README).
PARAMETERS = {"kind": "word2vec", "sg": 0, "vector_size": 100, "window": 5, "min_count": 10, "epochs": 5,
              "negative": 5, "sample": 1e-4, "max_vocabulary": 60000}


def _stable_hash(text: str) -> int:
    """gensim's hash for seeding each word's starting vector: CRC32 instead of Python's ``hash``,
    which ``PYTHONHASHSEED`` changes from run to run."""
    return zlib.crc32(text.encode("utf-8"))


def corpus_sentences(paths: list[Path]) -> Iterator[list[str]]:
    """Each paragraph (a line of a JSONL record's ``text``) of the archives as feature tokens,
    as the classifier tokenizes: the project's segmentation, without stopwords and numbers."""
    for path in paths:
        with gzip.open(path, "rt", encoding="utf-8") if str(path).endswith(".gz") else open(
                path, encoding="utf-8") as lines:
            for line in lines:
                try:
                    text = json.loads(line).get("text") or ""
                except (ValueError, AttributeError):
                    continue
                for paragraph in text.split("\n"):
                    tokens = tokenize_filter(segment(paragraph.strip()))
                    if len(tokens) > 1:
                        yield tokens


class TokenFile:
    """The archives' paragraphs as tokens, one paragraph a line in a file: gensim reads it once per
    epoch as a stream instead of the process holding some 20 million tokens as Python strings."""

    def __init__(self, path: Path, paragraphs: int, tokens: int):
        self.path, self.paragraphs, self.tokens = Path(path), paragraphs, tokens

    @classmethod
    def write(cls, corpora: list[Path], path: Path) -> "TokenFile":
        paragraphs = tokens = 0
        with open(path, "w", encoding="utf-8") as out:
            for sentence in corpus_sentences(corpora):
                out.write(" ".join(sentence) + "\n")
                paragraphs, tokens = paragraphs + 1, tokens + len(sentence)
        return cls(path, paragraphs, tokens)

    def __iter__(self) -> Iterator[list[str]]:
        with open(self.path, encoding="utf-8") as lines:
            for line in lines:
                yield line.split()


def file_checksum(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def train_vectors(sentences, seed: int, parameters: dict = PARAMETERS) -> tuple[np.ndarray, list[str]]:
    """Word vectors (unit length, float16) and their words, most frequent first.

    One worker thread and a fixed seed make two trainings identical (several
    workers interleave their updates in an order the scheduler decides).
    """
    from gensim.models import FastText, Word2Vec

    common = dict(vector_size=parameters["vector_size"], window=parameters["window"],
                  min_count=parameters["min_count"], epochs=parameters["epochs"], sg=parameters["sg"],
                  negative=parameters["negative"], sample=parameters["sample"], seed=seed, workers=1,
                  hashfxn=_stable_hash, sorted_vocab=1)
    kind = FastText if parameters["kind"] == "fasttext" else Word2Vec
    model = kind(sentences=sentences, **common)
    words = list(model.wv.index_to_key[: parameters["max_vocabulary"]])
    vectors = np.asarray(model.wv.get_normed_vectors()[: len(words)], dtype=np.float64)
    return vectors.astype(np.float16), words


def vectors_payload(vectors: np.ndarray) -> bytes:
    """The ``.npy`` bytes of a float16 array."""
    import io

    buffer = io.BytesIO()
    np.save(buffer, np.ascontiguousarray(vectors, dtype=np.float16), allow_pickle=False)
    return buffer.getvalue()


class Embeddings:
    """Word vectors at use: a memory-mapped float16 array and its vocabulary."""

    def __init__(self, vectors: np.ndarray, words: list[str]):
        if vectors.ndim != 2 or vectors.shape[0] != len(words):
            raise ValueError(f"{vectors.shape[0]} vectors for {len(words)} words")
        self.vectors = vectors
        self.words = list(words)
        self.index = {word: i for i, word in enumerate(self.words)}
        self._columns: np.ndarray | None = None

    @classmethod
    def load(cls, folder: Path, manifest: dict | None = None) -> "Embeddings":
        """The word vectors of a models folder, checked against its manifest, the array memory-mapped."""
        vocabulary, vectors = read_vectors(folder, manifest)
        return built(Path(folder) / VECTORS, "word vectors", lambda v: cls(vectors, v["words"]), vocabulary)

    @property
    def size(self) -> int:
        return int(self.vectors.shape[1])

    def mean_vectors(self, words: list[list[str]]) -> np.ndarray:
        """Each paragraph's mean vector over its tokens that have one (zeros where none has), in float64.

        Every token with a vector counts, however often. The sums are taken one
        dimension at a time with ``bincount`` over the float64 columns (four
        times faster than summing gathered rows); each paragraph's sum runs over
        its own tokens in order, so a paragraph gets the same vector whatever
        batch it comes in.
        """
        from itertools import chain, repeat

        if self._columns is None:  # converted once, on first use: 34 MB, 10 ms
            self._columns = np.ascontiguousarray(np.asarray(self.vectors, dtype=np.float64).T)
        lengths = np.fromiter(map(len, words), dtype=np.int64, count=len(words))
        rows = np.fromiter(map(self.index.get, chain.from_iterable(words), repeat(-1)), dtype=np.int64,
                           count=int(lengths.sum()))
        owner = np.repeat(np.arange(len(words)), lengths)
        known = rows >= 0
        rows, owner = rows[known], owner[known]
        found = np.bincount(owner, minlength=len(words))
        sums = np.empty((len(words), self.size))
        for dimension, column in enumerate(self._columns):
            sums[:, dimension] = np.bincount(owner, weights=column[rows], minlength=len(words))
        return sums / np.maximum(found, 1)[:, None]

    def theme_prototypes(self, themes) -> np.ndarray:
        """Each theme's prototype: the mean vector of its name, typical words and what it covers, as
        segmented and tokenized for the classifier, scaled to unit length (zeros where none has a vector)."""
        texts = [[theme.name, *theme.words, *theme.covers] for theme in themes]
        words = [tokenize_filter([token for text in group for token in segment(text)]) for group in texts]
        means = self.mean_vectors(words)
        return unit_rows(means)


def unit_rows(matrix: np.ndarray) -> np.ndarray:
    norms = np.sqrt((matrix * matrix).sum(axis=1, keepdims=True))
    return np.divide(matrix, norms, out=np.zeros_like(matrix), where=norms > 0)


def rebuild_vectors(corpora: list[Path], seed: int, parameters: dict = PARAMETERS) -> tuple[dict, bytes, np.ndarray]:
    """Train the word vectors on ``corpora``: the vocabulary file (with the parameters and each
    corpus's SHA-256, so that one can tell which archives made them), the ``.npy`` bytes and the array."""
    import tempfile

    with tempfile.TemporaryDirectory(prefix="countythemes-vectors-") as scratch:
        sentences = TokenFile.write(corpora, Path(scratch) / "tokens.txt")
        vectors, words = train_vectors(sentences, seed, parameters)
    vocabulary = {
        "words": words,
        "parameters": dict(parameters),
        "seed": seed,
        "corpora": [{"file": Path(p).name, "bytes": Path(p).stat().st_size, "sha256": file_checksum(Path(p))}
                    for p in corpora],
        "corpora_paragraphs": sentences.paragraphs,
        "corpora_tokens": sentences.tokens,
        "tokens": "countythemes.tokens: segment, then tokenize_filter (no stopwords, numbers or punctuation)",
    }
    return vocabulary, vectors_payload(vectors), vectors
