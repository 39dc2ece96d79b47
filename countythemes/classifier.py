"""The theme classifier at use: themes, tokens, and scoring a paragraph.

Training (``training``) fits a scikit-learn ``Pipeline``; the trained model is
stored as plain numbers (see ``modelfiles``) and scored here by ``ThemeScorer``
with numpy alone, which gives the pipeline's probabilities to 1e-9 without
importing scikit-learn.
"""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import numpy as np

from .embeddings import Embeddings, unit_rows
from .modelfiles import CLASSIFIER, built, read_manifest, read_model_file
from .records import Paragraph
from .tokens import segment, tokenize, word_counts


@lru_cache(maxsize=65536)
def _cached_tokens(text: str) -> tuple[str, ...]:
    return tuple(tokenize(text))


def paragraph_tokens(text: str) -> list[str]:
    """The tokenizer inside the Pipeline: a module-level function, cached across CV folds."""
    return list(_cached_tokens(text))


class TypicalWords:
    """Counts each theme's typical words in raw text, as ``str.count`` does word by word.

    A batch of paragraphs is searched as one string (joined with a character
    no word holds). numpy finds the places where some word's first two
    characters stand (a word of one character: its character), which are few;
    only there are the words compared, and each find is given back to its
    paragraph. A word's finds do not overlap, as with ``str.count``.
    """

    def __init__(self, words: tuple[tuple[str, ...], ...]):
        self.words = words
        self._themes: dict[str, list[int]] = {}  # each word's themes, once per listing
        for theme, group in enumerate(words):
            for word in group:
                self._themes.setdefault(word, []).append(theme)
        self._starting: dict[str, list[str]] = {}
        for word in self._themes:
            self._starting.setdefault(word[0], []).append(word)
        # By code point: which characters begin a word, which follow a word's first, which are a word.
        self._begins, self._follows, self._alone = (np.zeros(0x110000, dtype=bool) for _ in range(3))
        for word in self._themes:
            self._begins[ord(word[0])] = True
            if len(word) > 1:
                self._follows[ord(word[1])] = True
            else:
                self._alone[ord(word)] = True

    def counts(self, texts: list[str]) -> np.ndarray:
        """A (paragraphs × themes) array of counts."""
        counts = np.zeros((len(texts), len(self.words)))
        joined = "\0".join(texts)
        codes = np.frombuffer((joined + "\0").encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
        here, after = codes[:-1], codes[1:]
        candidates = np.flatnonzero(self._begins[here] & (self._follows[after] | self._alone[here]))
        positions, themes = [], []
        free: dict[str, int] = {}  # per word: where its last find ends
        for at in candidates.tolist():
            for word in self._starting[joined[at]]:
                if at >= free.get(word, 0) and joined.startswith(word, at):
                    free[word] = at + len(word)
                    for theme in self._themes[word]:
                        positions.append(at)
                        themes.append(theme)
        if positions:
            starts = np.cumsum([0] + [len(text) + 1 for text in texts[:-1]])
            np.add.at(counts, (np.searchsorted(starts, positions, side="right") - 1, themes), 1)
        return counts


@lru_cache(maxsize=8)
def _typical_words(words: tuple[tuple[str, ...], ...]) -> TypicalWords:
    return TypicalWords(words)


def typical_word_counts(text: str, words: tuple[tuple[str, ...], ...]) -> list[int]:
    """Occurrences of each theme's typical words in the raw text."""
    return [int(c) for c in _typical_words(words).counts([text])[0]]


def typical_word_features(texts: list[str], words: tuple[tuple[str, ...], ...]) -> np.ndarray:
    """log(1 + counts): a (paragraphs × themes) array."""
    return np.log1p(_typical_words(words).counts(texts))


def softmax(logits: np.ndarray) -> np.ndarray:
    """Row-wise softmax, shifted by each row's maximum so that no exponential overflows."""
    exponentials = np.exp(logits - logits.max(axis=1, keepdims=True))
    return exponentials / exponentials.sum(axis=1, keepdims=True)


def embedding_features(embeddings, words: list[list[str]], articles: list, prototypes: np.ndarray,
                       vector_weight: float, similarity_weight: float) -> np.ndarray:
    """The dense features of paragraphs, from the word vectors: the paragraph's unit mean vector (times
    ``vector_weight``) and its cosine similarity to each theme's prototype (times ``similarity_weight``),
    then the same two for its article (the unit mean of the vectors of the article's paragraphs).

    The article says what a short or ambiguous paragraph is part of: in grouped CV on the seeds it
    raised macro-F1 by 0.04. ``articles`` holds one key per paragraph; the paragraphs of an article
    are those with its key in this batch. Shared by the Pipeline's transformer and ``ThemeScorer``,
    so both compute the same numbers.
    """
    means = unit_rows(embeddings.mean_vectors(words))
    context = unit_rows(article_sums(means, articles))
    return np.hstack([vector_weight * means, similarity_weight * (means @ prototypes.T),
                      vector_weight * context, similarity_weight * (context @ prototypes.T)])


def article_sums(rows: np.ndarray, articles: list) -> np.ndarray:
    """Each row replaced by the sum of the rows of its article, added in row order (so an article
    gets the same sum in any batch that holds all of its paragraphs in the same order)."""
    numbers: dict = {}
    codes = np.fromiter((numbers.setdefault(a, len(numbers)) for a in articles), dtype=np.int64, count=len(articles))
    sums = np.zeros((len(numbers), rows.shape[1]))
    np.add.at(sums, codes, rows)
    return sums[codes]


class ThemeScorer:
    """Scores paragraphs from the stored numbers with numpy: the pipeline's predict_proba.

    The decision is linear in three blocks of features, in this order: TF-IDF
    over the vocabulary, the embedding features (``embedding_features``), and
    the codebook's typical-word counts.
    """

    def __init__(self, model: dict, embeddings):
        self.classes = list(model["classes"])
        self.names = dict(model["names"])
        self.zero_shot = bool(model.get("zero_shot", False))
        self.index = {word: i for i, word in enumerate(model["vocabulary"])}
        self.idf = np.asarray(model["idf"], dtype=np.float64)
        self.typical = TypicalWords(tuple(tuple(w) for w in model["typical_words"]))
        self.embeddings = embeddings
        self.prototypes = np.asarray(model["embedding"]["prototypes"], dtype=np.float64)
        self.vector_weight = float(model["embedding"]["vector_weight"])
        self.similarity_weight = float(model["embedding"]["similarity_weight"])
        self.coef = np.asarray(model["coef"], dtype=np.float64)
        self.intercept = np.asarray(model["intercept"], dtype=np.float64)
        self.inverse_temperature = float(model["inverse_temperature"])
        self.threshold = float(model["threshold"])
        width = len(self.index)
        self.dense = slice(width, width + 2 * (embeddings.size + len(self.prototypes)))
        if self.idf.shape != (width,) or self.prototypes.shape[1:] != (embeddings.size,) \
                or self.coef.shape != (len(self.classes), self.dense.stop + len(self.typical.words)) \
                or self.intercept.shape != (len(self.classes),):
            raise ValueError("array shapes do not agree")

    @classmethod
    def load(cls, folder: Path) -> "ThemeScorer":
        """The classifier stored in a models folder and its word vectors, checked against the manifest.

        Examples
        --------
        >>> from countythemes.modelfiles import packaged_models
        >>> scorer = ThemeScorer.load(packaged_models())
        >>> scorer.classify("县里组织拉面技能培训，帮助村民外出务工。")["theme"]
        'employment'
        """
        folder = Path(folder)
        manifest = read_manifest(folder)
        model = read_model_file(folder, CLASSIFIER, manifest)
        embeddings = Embeddings.load(folder, manifest)
        return built(folder / CLASSIFIER, "a classifier", lambda m: cls(m, embeddings), model)

    def probabilities(self, texts: list[str], words: list[list[str]], articles: list | None = None) -> np.ndarray:
        """One row of theme probabilities per paragraph, all paragraphs in one pass of array work.

        ``words`` are the paragraphs' segmentations: every vocabulary word (of
        TF-IDF and of the word vectors) is a feature token, so looking the raw
        tokens up gives what the pipeline's tokenizer gives. ``articles``: each
        paragraph's article key (the batch must hold whole articles); without
        it each paragraph is read as an article of its own.
        """
        n = len(texts)
        rows, columns, counts = word_counts(words, self.index)
        # TF-IDF with sublinear tf and l2 norm, as the pipeline's TfidfVectorizer.
        values = (1.0 + np.log(counts)) * self.idf[columns]
        norms = np.sqrt(np.bincount(rows, weights=values * values, minlength=n))
        values /= norms[rows]
        decision = np.empty((n, len(self.classes)))
        for c in range(len(self.classes)):
            decision[:, c] = np.bincount(rows, weights=self.coef[c, columns] * values, minlength=n)
        dense = embedding_features(self.embeddings, words, list(range(n)) if articles is None else articles,
                                   self.prototypes, self.vector_weight, self.similarity_weight)
        decision += dense @ self.coef[:, self.dense].T
        decision += np.log1p(self.typical.counts(texts)) @ self.coef[:, self.dense.stop:].T + self.intercept
        return softmax(self.inverse_temperature * decision)

    def classify_all(self, texts: list[str], words: list[list[str]], articles: list | None = None) -> list[dict]:
        """Each paragraph's theme, confidence, every theme's probability, and whether to look twice."""
        probabilities = self.probabilities(texts, words, articles)
        best = probabilities.argmax(axis=1).tolist()
        uncertain = (probabilities.max(axis=1) < self.threshold).tolist()
        # Four decimals: k / 10000 for the nearest whole k, the float round(p, 4) gives.
        rounded = (np.rint(probabilities * 1e4) / 1e4).tolist()
        return [{"theme": self.classes[top], "confidence": scores[top],
                 "scores": dict(zip(self.classes, scores)), "uncertain": doubt}
                for scores, top, doubt in zip(rounded, best, uncertain)]

    def classify(self, text: str) -> dict:
        return self.classify_all([text], [segment(text)])[0]


def margin(scores: dict[str, float]) -> float:
    """Top probability minus the runner-up: small where the model hesitates between two themes."""
    top, second = sorted(scores.values(), reverse=True)[:2]
    return top - second


def pick_for_labeling(candidates: list[Paragraph], n: int) -> list[Paragraph]:
    """Uncertainty sampling spread across articles.

    Each candidate is a classified paragraph (``scores`` filled in). The smallest
    margins come first, but in rounds: every article gives its most uncertain
    paragraph before any gives a second, so one long article cannot fill the
    list. Ties break on the id, so the pick is deterministic.
    """
    by_article: dict[str, list[Paragraph]] = {}
    seen: set[str] = set()
    for candidate in candidates:
        if candidate.id not in seen:
            seen.add(candidate.id)
            by_article.setdefault(candidate.article_key, []).append(candidate)
    queues = [sorted(group, key=lambda c: (margin(c.scores), c.id)) for group in by_article.values()]
    picked: list[Paragraph] = []
    depth = 0
    while len(picked) < n and any(depth < len(q) for q in queues):
        round_ = sorted((q[depth] for q in queues if depth < len(q)), key=lambda c: (margin(c.scores), c.id))
        picked.extend(round_[: n - len(picked)])
        depth += 1
    return picked
