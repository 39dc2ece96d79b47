"""LDA topics over the paragraphs: what the corpus talks about beyond the five themes.

Training fits gensim's ``LdaModel`` (the single-process trainer with a fixed
``random_state``: the multicore one is not reproducible) for each K of a range,
the fits spread over worker processes, scores every fit by coherence, and
keeps one. The kept model is stored as plain numbers (the
vocabulary, alpha and exp(E[log beta])) and a paragraph's topics are inferred
here with numpy alone, by gensim's variational E-step started from a fixed
point instead of a random one, so the same paragraph always gets the same topic
and ``analyze.py classify`` never imports gensim.
"""
from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Iterator

import numpy as np

from .modelfiles import TOPICS, built, read_model_file
from .tokens import segment, tokenize_filter, word_counts

log = logging.getLogger(__name__)

#: Single characters (村, 户, 年 …) say little about a topic and crowd the top words.
MIN_TOKEN_LENGTH = 2
#: A typical word's prior in its theme's topic, as a multiple of its count in the corpus (keyATM's idea).
SEED_STRENGTH = 2.0
#: Prior for a typical word in the topics not anchored to its theme.
BARRED = 1e-3
#: E-step settings, as gensim's defaults.
ITERATIONS = 100
GAMMA_THRESHOLD = 1e-3
#: The rule that picks K, recorded in the manifest.
K_RULE = ("the smallest K whose mean c_npmi is within 0.01 of the best K's "
          "(fewer topics are easier to read; differences below 0.01 are noise)")
TOLERANCE = 0.01


@lru_cache(maxsize=1)
def _place_names() -> frozenset[str]:
    from .gazetteer import gazetteer

    return frozenset(gazetteer().names)


def topic_tokens(text: str) -> list[str]:
    """The classifier's tokens without single characters, place names and news-source words.

    Place names would make topics of counties (every paragraph of a 中阳县
    story shares 中阳县); where a paragraph is, is the places stage's answer.
    """
    return topic_words(segment(text))


#: Who reported a story (broadcast datelines like 央视网消息（新闻联播）, bylines) says nothing about
#: what it is about: left out of topics like place names, or a news archive gets a topic of datelines.
NEWS_SOURCE_WORDS = frozenset("新闻联播 央视网 央视 总台 本台 本台消息 本台记者 本报 本报讯 本报记者 新华社 中新社 人民网 "
                              "消息 记者 通讯员".split())


def topic_words(words: list[str]) -> list[str]:
    """``topic_tokens`` of a paragraph already segmented."""
    places = _place_names()
    return [t for t in tokenize_filter(words)
            if len(t) >= MIN_TOKEN_LENGTH and t not in places and t not in NEWS_SOURCE_WORDS]


class BowCorpus:
    """Bag-of-words vectors made on the fly from one list of token lists: no second copy."""

    def __init__(self, dictionary, documents: list[list[str]]):
        self.dictionary = dictionary
        self.documents = documents

    def __iter__(self) -> Iterator[list[tuple[int, int]]]:
        for tokens in self.documents:
            yield self.dictionary.doc2bow(tokens)

    def __len__(self) -> int:
        return len(self.documents)


def build_dictionary(documents: list[list[str]], keep: list[str]):
    """The vocabulary, filtered for small and large corpora alike.

    A word must occur in at least 2 paragraphs (in a corpus of thousands, in at
    least 1 per mil of them): a word seen once cannot shape a topic. A word in
    more than half of all paragraphs (脱贫, 工作 in a poverty corpus) says nothing
    about which topic a paragraph is in. At most 20,000 words are kept, which
    bounds memory on archives. The themes' typical words are always kept so
    the seeded topics keep their anchors.
    """
    from gensim.corpora import Dictionary

    dictionary = Dictionary(documents)
    no_below = max(2, math.ceil(len(documents) / 1000))
    dictionary.filter_extremes(no_below=no_below, no_above=0.5, keep_n=20000,
                               keep_tokens=[w for w in keep if w in dictionary.token2id])
    return dictionary


def anchored_themes(themes) -> list:
    """The themes that get a topic each: all but ``other``."""
    return [t for t in themes if t.key != "other"]


def seeded_eta(dictionary, themes, k: int) -> np.ndarray:
    """gensim's symmetric eta (1/K), with each anchored theme's typical words raised in its
    own topic and nearly barred from every other.

    A fixed pseudo-count is lost among a corpus's real counts, so a typical
    word's prior in its topic is ``SEED_STRENGTH`` times its own count in the
    corpus: the anchor weighs as much as the data, whatever the corpus size.
    """
    eta = np.full((k, len(dictionary)), 1.0 / k)
    for topic, theme in enumerate(anchored_themes(themes)):
        for word in theme.words:
            if word in dictionary.token2id:
                column = dictionary.token2id[word]
                eta[:, column] = BARRED
                eta[topic, column] = SEED_STRENGTH * dictionary.cfs[column]
    return eta


def passes_for(n_documents: int) -> int:
    """Passes over the corpus: many for a small corpus, where one pass moves little; few for archives
    (where one pass already makes many updates)."""
    return int(min(20, max(2, 20000 // max(n_documents, 1))))


def fit_lda(corpus: BowCorpus, dictionary, k: int, seed: int, eta: np.ndarray | None = None):
    """One seeded fit, in float64.

    gensim works in float32 by default, and over 20 passes the rounding of
    different BLAS kernels (OpenBLAS picks one per CPU) grows into different
    topics: on the seeds the K curve differed by up to 0.004 c_npmi between
    two kernels. In float64 the same fits agree to about 1e-12, at the same speed.
    """
    from gensim.models import LdaModel

    return LdaModel(corpus=corpus, id2word=dictionary, num_topics=k, random_state=seed,
                    passes=passes_for(len(corpus)), iterations=ITERATIONS, chunksize=2000,
                    alpha="auto", eta=eta if eta is not None else "symmetric", eval_every=None,
                    gamma_threshold=GAMMA_THRESHOLD, dtype=np.float64)


def coherence(model, documents: list[list[str]], corpus: BowCorpus, dictionary) -> dict:
    """Mean and per-topic c_npmi (sliding windows over the paragraphs) and u_mass."""
    from gensim.models import CoherenceModel

    npmi = CoherenceModel(model=model, texts=documents, dictionary=dictionary, coherence="c_npmi",
                          topn=10, processes=1)
    per_topic = [float(v) for v in npmi.get_coherence_per_topic()]
    umass = CoherenceModel(model=model, corpus=corpus, dictionary=dictionary, coherence="u_mass", topn=10,
                           processes=1)
    return {"c_npmi": float(np.mean(per_topic)), "u_mass": float(umass.get_coherence()),
            "c_npmi_per_topic": per_topic}


def choose_k(curve: list[dict], variant: str) -> int:
    """Apply ``K_RULE`` to one variant's (``seeded`` or ``unseeded``) coherence curve."""
    scored = [(row["k"], row[variant]["c_npmi"]) for row in curve if row.get(variant)]
    best = max(score for _, score in scored)
    return min(k for k, score in scored if score >= best - TOLERANCE)


@dataclass
class TopicSearch:
    """Everything the K search found: the curve, the chosen fit and how it was chosen."""

    curve: list[dict]
    k: int
    seeded: bool
    model: object
    dictionary: object
    coherence: dict


#: Corpora with more paragraphs than this search K on a sample of this many (the kept model is
#: then fitted on all of them): the curve's shape needs no more, and the search stays minutes long.
SEARCH_SAMPLE = 5000


def search(documents: list[list[str]], themes, seed: int, ks: list[int], seeded: bool,
           forced_k: int | None = None, workers: int = 1) -> TopicSearch:
    """Fit LDA for each K (the variant asked for), log the curve as it comes, keep the chosen fit.

    The seeded variant needs one topic per anchored theme and at least one free
    topic, so it is fitted only for K above the number of anchored themes. Fits
    are independent and each has its own fixed seed, so ``workers`` processes
    give the same curve as one. Only the variant asked for is fitted (both
    doubled the time of ``train.py``; the README keeps how they compared). On a
    corpus larger than SEARCH_SAMPLE the search runs on a fixed random sample;
    the chosen K is then fitted on the whole corpus and scored on the sample.
    """
    keep = [w for t in anchored_themes(themes) for w in t.words]
    dictionary = build_dictionary(documents, keep)
    if len(dictionary) < 2:
        raise ValueError("too few distinct words for topics")
    large = len(documents) > SEARCH_SAMPLE
    sample = documents
    if large:
        chosen = np.sort(np.random.default_rng(seed).choice(len(documents), SEARCH_SAMPLE, replace=False))
        sample = [documents[i] for i in chosen]
    if forced_k is not None:
        ks = [forced_k]
    minimum_seeded = len(anchored_themes(themes)) + 1
    variants = ["seeded" if seeded else "unseeded"]
    fits = [(k, variant) for k in ks for variant in variants if variant == "unseeded" or k >= minimum_seeded]
    log.info(f"topics: {len(documents)} paragraphs, {len(dictionary)} words"
             + (f"; K searched on a sample of {len(sample)}, {passes_for(len(sample))} passes per fit, "
                f"the chosen K then fitted on all ({passes_for(len(documents))} passes)" if large
                else f", {passes_for(len(documents))} passes per fit"))
    log.info(f"{'K':>4}{'c_npmi':>10}{'u_mass':>10}{'seeded c_npmi':>15}{'seeded u_mass':>15}")
    global _search_job
    _search_job = _SearchJob(sample, dictionary, themes, seed)
    curve, models = [], {}
    rows: dict[int, dict] = {}
    from .workers import mapper

    with mapper(min(workers, len(fits))) as mapped:
        for (k, variant), (model, scores) in zip(fits, mapped(_fit_and_score, fits)):
            models[(k, variant)] = (model, scores)
            rows.setdefault(k, {"k": k, "unseeded": None, "seeded": None})[variant] = {
                "c_npmi": scores["c_npmi"], "u_mass": scores["u_mass"]}
            if all(f in models for f in fits if f[0] == k):  # the row is complete: print it
                row = rows[k]
                curve.append(row)
                cells = [f"{row[v][m]:>{w}.3f}" if row[v] else f"{'–':>{w}}"
                         for v, w in (("unseeded", 10), ("seeded", 15)) for m in ("c_npmi", "u_mass")]
                log.info(f"{k:>4}" + "".join(cells))
    variant = "seeded" if seeded and any(row["seeded"] for row in curve) else "unseeded"
    k = forced_k if forced_k is not None else choose_k(curve, variant)
    model, scores = models[(k, variant)]
    if large:
        log.info(f"fitting K = {k} on all {len(documents)} paragraphs …")
        eta = seeded_eta(dictionary, themes, k) if variant == "seeded" else None
        model = fit_lda(BowCorpus(dictionary, documents), dictionary, k, seed, eta)
        scores = coherence(model, sample, BowCorpus(dictionary, sample), dictionary)
    return TopicSearch(curve=curve, k=k, seeded=variant == "seeded", model=model, dictionary=dictionary,
                       coherence=scores)


class _SearchJob:
    """What every fit of the search shares; set before the workers fork, so they inherit it."""

    def __init__(self, documents: list[list[str]], dictionary, themes, seed: int):
        self.documents, self.dictionary, self.themes, self.seed = documents, dictionary, themes, seed
        self.corpus = BowCorpus(dictionary, documents)


_search_job: _SearchJob | None = None


def _fit_and_score(fit: tuple[int, str]) -> tuple[object, dict]:
    k, variant = fit
    job = _search_job
    eta = seeded_eta(job.dictionary, job.themes, k) if variant == "seeded" else None
    model = fit_lda(job.corpus, job.dictionary, k, job.seed, eta)
    return model, coherence(model, job.documents, job.corpus, job.dictionary)


def export_topics(found: TopicSearch, themes) -> dict:
    """The kept model as plain numbers, with its labels for people."""
    model = found.model
    vocabulary = [found.dictionary[i] for i in range(len(found.dictionary))]
    anchors = {i: t.key for i, t in enumerate(anchored_themes(themes))} if found.seeded else {}
    return {
        "k": found.k,
        "seeded": found.seeded,
        "anchors": {str(i): key for i, key in anchors.items()},
        "vocabulary": vocabulary,
        "alpha": [float(a) for a in model.alpha],
        "exp_elog_beta": model.expElogbeta.tolist(),
        "topic_word": model.get_topics().tolist(),
        "coherence": found.coherence,
        "curve": found.curve,
    }


def digamma(x: np.ndarray) -> np.ndarray:
    """The digamma function for positive x, to about 1e-13 (numpy has none)."""
    x = np.array(x, dtype=np.float64)
    result = np.zeros_like(x)
    while np.any(x < 6.0):  # psi(x) = psi(x + 1) - 1/x until the series converges
        small = x < 6.0
        result[small] -= 1.0 / x[small]
        x[small] += 1.0
    inverse = 1.0 / (x * x)
    series = inverse * (1 / 12 - inverse * (1 / 120 - inverse * (1 / 252 - inverse * (1 / 240 - inverse / 132))))
    return result + np.log(x) - 0.5 / x - series


class TopicScorer:
    """Infers a paragraph's topic mixture from the stored numbers with numpy."""

    def __init__(self, model: dict):
        self.k = int(model["k"])
        self.index = {word: i for i, word in enumerate(model["vocabulary"])}
        self.alpha = np.asarray(model["alpha"], dtype=np.float64)
        self.exp_elog_beta = np.asarray(model["exp_elog_beta"], dtype=np.float64)
        topic_word = np.asarray(model["topic_word"], dtype=np.float64)
        if self.alpha.shape != (self.k,) or self.exp_elog_beta.shape != (self.k, len(self.index)) \
                or topic_word.shape != self.exp_elog_beta.shape:
            raise ValueError("array shapes do not agree")
        vocabulary = list(model["vocabulary"])
        self.top_words = [[vocabulary[i] for i in np.argsort(-row, kind="stable")[:10]] for row in topic_word]
        self.anchors = {int(i): key for i, key in model.get("anchors", {}).items()}

    @classmethod
    def load(cls, folder: Path, model: dict | None = None) -> "TopicScorer":
        """The topic model stored in a models folder (``model``: its topics.json, where already read)."""
        model = read_model_file(Path(folder), TOPICS) if model is None else model
        return built(Path(folder) / TOPICS, "a topic model", cls, model)

    def mixtures(self, words: list[list[str]]) -> np.ndarray:
        """Topic proportions of many paragraphs (rows), uniform for one with no known word.

        ``words`` are segmentations: every vocabulary word passes ``topic_tokens``'
        filter, so raw tokens look up the same. gensim's E-step, run for all
        paragraphs at once; each stops at its own convergence, as it would alone.
        """
        n = len(words)
        rows, columns, counts = word_counts(words, self.index)
        counts = counts.astype(np.float64)
        has_words = np.bincount(rows, minlength=n) > 0
        active = np.flatnonzero(has_words)  # paragraphs still iterating
        gamma = np.tile(self.alpha, (n, 1)) + (np.bincount(rows, weights=counts, minlength=n) / self.k)[:, None]
        for _ in range(ITERATIONS):
            if not len(active):
                break
            keep = np.isin(rows, active)
            rows, columns, counts = rows[keep], columns[keep], counts[keep]
            beta = self.exp_elog_beta[:, columns].T  # one row per (paragraph, word)
            current = gamma[active]
            theta = np.exp(digamma(current) - digamma(current.sum(axis=1))[:, None])
            position = np.searchsorted(active, rows)
            phinorm = np.einsum("ij,ij->i", theta[position], beta) + 1e-100
            weighted = (counts / phinorm)[:, None] * beta
            sums = np.stack([np.bincount(position, weights=weighted[:, t], minlength=len(active))
                             for t in range(self.k)], axis=1)
            gamma[active] = self.alpha + theta * sums
            done = np.mean(np.abs(gamma[active] - current), axis=1) < GAMMA_THRESHOLD
            active = active[~done]
        mixtures = np.full((n, self.k), 1.0 / self.k)
        mixtures[has_words] = gamma[has_words] / gamma[has_words].sum(axis=1, keepdims=True)
        return mixtures

    def mixture(self, tokens: list[str]) -> np.ndarray:
        return self.mixtures([tokens])[0]

    def topics(self, words: list[list[str]]) -> list[dict]:
        """Each paragraph's dominant topic (numbered from 1, as printed) and its top five words."""
        return [{"topic": best + 1, "topic_words": self.top_words[best][:5]}
                for best in self.mixtures(words).argmax(axis=1).tolist()]


def describe_topics(scorer: TopicScorer, coherence_per_topic: list[float], words: list[list[str]],
                    themes_of_texts: list[str], theme_keys: list[str]) -> list[dict]:
    """Each topic's top words, size (paragraphs whose dominant topic it is), coherence and theme mix.

    ``words`` are the paragraphs' segmentations.
    """
    dominant = scorer.mixtures(words).argmax(axis=1).tolist()
    described = []
    for topic in range(scorer.k):
        members = [theme for theme, d in zip(themes_of_texts, dominant) if d == topic]
        mix = {key: round(members.count(key) / len(members), 4) if members else 0.0 for key in theme_keys}
        described.append({"topic": topic + 1, "anchor": scorer.anchors.get(topic), "words": scorer.top_words[topic],
                          "size": len(members), "c_npmi": round(coherence_per_topic[topic], 4),
                          "theme_mix": mix})
    return described
