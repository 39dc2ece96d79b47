"""The front door: paragraphs, themes, reports and training as Python calls (the command line calls these).

Inputs are what a researcher has at hand: a path (a file, a folder read
recursively, a .jsonl/.jsonl.gz corpus), a list of paths, articles as text (a
string that is not a path: title on the first line, as in a .txt file), or the
DataFrame ``paragraphs`` returned. Results are pandas DataFrames, one row per
body paragraph. Inputs that cannot be read are skipped with a warning (logger
``countythemes``); a problem the user must fix raises ``CountythemesError``.
"""
from __future__ import annotations

import logging
import os
import re
import tempfile
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Iterable, Iterator, Sequence, Union

from .errors import CountythemesError
from .reading import CORPUS_SUFFIXES, TEXT_SUFFIXES, ArticleText, ReadProblem, shown_name
from .records import PARAGRAPH_FIELDS, Paragraph

if TYPE_CHECKING:
    import pandas

    from .classifier import ThemeScorer
    from .pipeline import Progress
    from .topics import TopicScorer

__all__ = ["Models", "load_models", "paragraphs", "classify", "report", "suggest", "train", "check_training",
           "iter_paragraphs", "iter_classified", "unlabeled"]

log = logging.getLogger("countythemes")
notes = logging.getLogger("countythemes.progress")

#: What the API reads: a path, article texts, several of them, or ``paragraphs``' DataFrame.
Inputs = Union[str, os.PathLike, Sequence[Union[str, os.PathLike]], "pandas.DataFrame"]
#: Hears each input that could not be read (and was skipped); by default a logged warning.
OnProblem = Callable[[ReadProblem], None]


def _warn(problem: ReadProblem) -> None:
    log.warning(f"skipped {problem}")


@dataclass
class Models:
    """A trained models folder, loaded: the classifier, the topic model and the manifest.

    Examples
    --------
    >>> import countythemes as ct
    >>> models = ct.load_models()
    >>> models.theme_keys
    ['industry', 'employment', 'cadres', 'environment', 'finance', 'other']
    """

    folder: Path
    manifest: dict
    themes: ThemeScorer

    @cached_property
    def topics(self) -> TopicScorer:
        from .topics import TopicScorer

        return TopicScorer.load(self.folder, self.topic_model)

    @cached_property
    def topic_model(self) -> dict:
        """topics.json: the topics' words, sizes, coherence and theme mixes."""
        from .modelfiles import TOPICS, read_model_file

        return read_model_file(self.folder, TOPICS, self.manifest)

    @property
    def theme_keys(self) -> list[str]:
        """The themes in the codebook's order."""
        return list(self.manifest["theme_order"])

    @property
    def names(self) -> dict[str, str]:
        """Each theme's Chinese name."""
        return dict(self.themes.names)


def load_models(folder: str | os.PathLike | None = None) -> Models:
    """The trained models of ``folder`` (default: the committed ones the package ships), checked.

    Every file is checked against the manifest's checksums; a missing or changed
    one raises ``CountythemesError`` saying how to rebuild it.

    Examples
    --------
    >>> import countythemes as ct
    >>> ct.load_models().themes.zero_shot
    False
    """
    from .classifier import ThemeScorer
    from .modelfiles import packaged_models, read_manifest

    folder = packaged_models() if folder is None else Path(folder)
    return Models(folder, read_manifest(folder), ThemeScorer.load(folder))


def _models(models: Models | str | os.PathLike | None) -> Models:
    return models if isinstance(models, Models) else load_models(models)


_PATH_LIKE = re.compile(r"[^\n]*(?:%s)" % "|".join(re.escape(s) for s in TEXT_SUFFIXES + CORPUS_SUFFIXES), re.I)


def _input(item: str | os.PathLike, number: int) -> str | ArticleText:
    """A path where ``item`` names one, else an article's text (``text N`` in the output's source).

    A one-line string ending in a file suffix (``.txt``, ``.jsonl.gz`` …) is a
    path even when missing, so a mistyped name is an error, not an article.
    """
    if isinstance(item, os.PathLike) or item == "-" or os.path.exists(item):
        return os.fspath(item)
    if not isinstance(item, str):
        raise CountythemesError(f"an input must be a path or an article's text, not {type(item).__name__}")
    if _PATH_LIKE.fullmatch(item.strip()):
        raise CountythemesError(f"{item.strip()}: no such file or folder")
    return ArticleText(item, f"text {number}")


def _inputs(inputs: Inputs, texts: bool = True) -> list[str | ArticleText]:
    """The inputs as the pipeline reads them; ``texts=False``: every string is a path, as on the command
    line (a missing one is then a skipped input, not an article)."""
    if isinstance(inputs, (str, os.PathLike)):
        inputs = [inputs]
    if not texts:
        return [os.fspath(item) for item in inputs]
    found = [_input(item, number) for number, item in enumerate(inputs, 1)]
    if not found:
        raise CountythemesError("no inputs given")
    return found


def _is_frame(inputs) -> bool:
    return type(inputs).__name__ == "DataFrame" and hasattr(inputs, "to_dict")


def _frame(rows: Iterable[list], columns: list[str]) -> pandas.DataFrame:
    import pandas

    return pandas.DataFrame.from_records(list(rows), columns=columns)


def iter_paragraphs(inputs: Inputs, on_problem: OnProblem = _warn, workers: int | None = 1,
                    progress: Progress | None = None, texts: bool = True) -> Iterator[Paragraph]:
    """``paragraphs`` as a stream of ``Paragraph`` records (for inputs too large for one DataFrame;
    ``texts=False``: every string is a path)."""
    from .pipeline import annotated, renumbered_paragraph

    def without_words(batch: list[Paragraph]) -> list[Paragraph]:
        for paragraph in batch:
            paragraph.words = []
        return batch

    for batch in annotated(_inputs(inputs, texts), without_words, renumbered_paragraph, on_problem, workers, progress):
        yield from batch


def paragraphs(inputs: Inputs, on_problem: OnProblem = _warn) -> pandas.DataFrame:
    """Every body paragraph of the inputs with its place: one row each, the columns of
    ``analyze.py paragraphs``.

    Examples
    --------
    >>> import countythemes as ct
    >>> frame = ct.paragraphs("中阳县发展特色产业\\n今年以来，山西省吕梁市中阳县大力发展木耳产业，带动农户增收。")
    >>> frame[["county", "city", "province"]].iloc[0].tolist()
    ['中阳县', '吕梁市', '山西省']
    """
    return _frame(([getattr(p, name) for name in PARAGRAPH_FIELDS] for p in iter_paragraphs(inputs, on_problem)),
                  list(PARAGRAPH_FIELDS))


def iter_classified(inputs: Inputs, topics: bool = True, workers: int | None = 1, models: Models | None = None,
                    on_problem: OnProblem = _warn, progress: Progress | None = None,
                    texts: bool = True) -> Iterator[Paragraph]:
    """``classify`` as a stream of ``Paragraph`` records with their verdicts (``texts=False``: every string
    is a path)."""
    from .pipeline import classified

    models = _models(models)
    topic_scorer = models.topics if topics else None
    if _is_frame(inputs):
        yield from _classified_frame(inputs, models.themes, topic_scorer)
        return
    yield from classified(_inputs(inputs, texts), models.themes, on_problem, topic_scorer, workers, progress)


def classify(inputs: Inputs, topics: bool = True, workers: int | None = 1, models: Models | str | None = None,
             on_problem: OnProblem = _warn) -> pandas.DataFrame:
    """Every body paragraph with its place, theme, confidence, each theme's probability and topic.

    Parameters
    ----------
    inputs : path, paths, article texts, or the DataFrame ``paragraphs`` returned
    topics : bool
        Add each paragraph's dominant topic and its top words (``topic``, ``topic_words``).
    workers : int or None
        Processes to use; None: every core for inputs over 2 MB.
    models : Models, folder or None
        Trained models (default: the committed ones).

    Returns
    -------
    pandas.DataFrame
        The paragraph columns, ``theme``, ``confidence``, ``uncertain`` (below the
        threshold chosen in cross-validation), ``p_<theme>`` per theme, ``topic``, ``topic_words``.

    Examples
    --------
    >>> import countythemes as ct
    >>> frame = ct.classify(["县里开展拉面技能培训\\n县人社局组织拉面技能培训，帮助200多名村民外出务工就业。"])
    >>> frame.loc[0, "theme"]
    'employment'
    """
    from .formats import classified_columns, classified_row

    models = _models(models)
    keys = models.theme_keys
    return _frame((classified_row(p, keys, topics) for p in iter_classified(inputs, topics, workers, models,
                                                                             on_problem)),
                  classified_columns(keys, topics))


#: Paragraphs of a DataFrame are classified this many at a time (whole articles per batch).
_FRAME_BATCH = 4096


def _classified_frame(frame: pandas.DataFrame, theme_scorer, topic_scorer) -> Iterator[Paragraph]:
    """The rows of ``paragraphs``' DataFrame (or one of the same columns), classified in batches of
    whole articles, as the pipeline classifies them."""
    from .pipeline import verdicts
    from .tokens import segment

    missing = [name for name in ("source", "article_index", "text") if name not in frame.columns]
    if missing:
        raise CountythemesError(f"the DataFrame lacks the column(s) {', '.join(missing)}: give the DataFrame "
                                "ct.paragraphs returned, or paths or texts")
    annotate = verdicts(theme_scorer, topic_scorer)
    batch: list[Paragraph] = []
    for row in frame.to_dict("records"):
        values = {name: (None if _missing(row.get(name)) else row.get(name)) for name in PARAGRAPH_FIELDS}
        values["text"] = str(values["text"] or "")
        values["article_index"] = int(values["article_index"])
        values["paragraph"] = int(values["paragraph"] or 0)
        paragraph = Paragraph(**values, words=segment(values["text"]))
        if len(batch) >= _FRAME_BATCH and paragraph.article_key != batch[-1].article_key:
            yield from annotate(batch)
            batch = []
        batch.append(paragraph)
    if batch:
        yield from annotate(batch)


def _missing(value) -> bool:
    return value is None or (isinstance(value, float) and value != value)  # pandas' NaN


def report(inputs: Inputs, out: str | os.PathLike = "reports", labels: Sequence[str] = (),
           min_paragraphs: int = 5, dpi: int = 150, seed: int = 20240501, by: str | None = None,
           models: Models | str | None = None, workers: int | None = None, on_problem: OnProblem = _warn,
           progress: Progress | None = None, shown: Sequence[str] | None = None, texts: bool = True) -> Path:
    """Write the theme report of the inputs into ``out``: each place's error-adjusted theme mix with
    intervals, trends by year, the paragraphs behind each bar, topics and the classifier (PNGs, CSVs,
    index.html). ``labels``: label files whose paragraphs count with their human label. ``out`` is
    replaced only if it is a report folder this tool wrote. Returns ``out``.

    Examples
    --------
    >>> import countythemes as ct, tempfile, pathlib
    >>> folder = ct.report("seeds/", out=pathlib.Path(tempfile.mkdtemp()) / "report")
    >>> (folder / "index.html").exists()
    True
    """
    from .folders import check_target, write_folder
    from .labels import label_themes
    from .modelfiles import read_out_of_fold
    from .pipeline import annotated, verdicts
    from .reports import Tally, build_report, encoded_rows, renumbered_row

    out = Path(out)
    check_target(out, "report")  # before the work, so a refusal costs nothing
    models = _models(models)
    out_of_fold = read_out_of_fold(models.folder)
    paths = _inputs(inputs, texts)
    names = {k: models.names.get(k, k) for k in models.theme_keys}
    themes_of = label_themes(list(labels), names)
    corpus = list(shown) if shown is not None else [p.source if isinstance(p, ArticleText) else shown_name(p)
                                                    for p in paths]
    notes.info(f"reading and classifying {' '.join(corpus)} …")
    verdict = verdicts(models.themes, models.topics)
    rows = annotated(paths, lambda batch: encoded_rows(verdict(batch)), renumbered_row, on_problem, workers,
                     progress)
    with tempfile.TemporaryDirectory(prefix="countythemes-report-") as scratch:
        table = Path(scratch) / "paragraphs.csv"
        with open(table, "wb") as handle:  # streamed: the report keeps only numbers per paragraph
            tally = Tally(handle, models.theme_keys, themes_of)
            for batch in rows:
                tally.add_all(batch)
            tally.close()
        if not tally.rows:
            raise CountythemesError("no paragraphs to report on")
        files = build_report(tally, corpus, models.manifest, models.topic_model, models.names, out_of_fold,
                             min_paragraphs, dpi, seed, by)
        files["paragraphs.csv"] = table
        try:
            write_folder(out, files, "report")
        except OSError as error:
            raise CountythemesError(f"{out}: cannot write the report ({error.strerror})") from None
    return out


def unlabeled(inputs: Inputs, labels: Sequence[str] = (), models: Models | str | None = None,
              on_problem: OnProblem = _warn, texts: bool = True) -> Iterator[Paragraph]:
    """The classified paragraphs of the inputs that no ``labels`` file labels yet."""
    from .labels import label_themes

    models = _models(models)
    done = set(label_themes(list(labels), models.names))
    return (p for p in iter_classified(inputs, False, 1, models, on_problem, texts=texts) if p.id not in done)


def suggest(inputs: Inputs, n: int = 20, labels: Sequence[str] = (), models: Models | str | None = None,
            on_problem: OnProblem = _warn) -> list[Paragraph]:
    """The ``n`` unlabeled paragraphs most worth labeling next: where the classifier hesitates most
    between two themes, spread over articles (see ``classifier.pick_for_labeling``); paragraphs in
    the ``labels`` files are done already.

    Examples
    --------
    >>> import countythemes as ct
    >>> len(ct.suggest("seeds/", n=2, labels=["seeds/labels.csv"]))
    2
    """
    from .classifier import pick_for_labeling

    return pick_for_labeling(list(unlabeled(inputs, labels, models, on_problem)), n)


def _training_options(seeds, corpus, labels, themes, seed, topics, k_range, seeded, vector_corpora,
                      vectors_from):
    from .modelfiles import packaged_models
    from .training import TrainingOptions

    if not Path(seeds).is_dir():
        raise CountythemesError(f"{seeds}: no such corpus folder")
    low, high = _k_range(k_range)
    return TrainingOptions(seeds=Path(seeds), corpus=[str(p) for p in corpus], labels=[str(p) for p in labels],
                           themes=None if themes is None else str(themes), seed=seed, topics=topics,
                           ks=list(range(low, high + 1)), seeded=seeded,
                           vector_corpora=None if vector_corpora is None else [Path(p) for p in vector_corpora],
                           vectors_from=packaged_models() if vectors_from is None else Path(vectors_from))


def _k_range(k_range: tuple[int, int] | str) -> tuple[int, int]:
    """(LOW, HIGH), from a pair or from text such as ``4-16`` (``--k-range``)."""
    if isinstance(k_range, str):
        low, _, high = k_range.partition("-")
        try:
            low, high = int(low), int(high or low)
        except ValueError:
            raise CountythemesError(f"--k-range: expected LOW-HIGH such as 4-16, not {k_range!r}") from None
    else:
        low, high = k_range
    if not 2 <= low <= high:
        raise CountythemesError(f"--k-range: expected LOW-HIGH with 2 <= LOW <= HIGH, not {k_range!r}")
    return low, high


def _trained(options, on_problem: OnProblem) -> tuple[dict[str, object], dict]:
    """The model files and manifest of a training run, its linear algebra on one BLAS thread."""
    from .training import train_models
    from .workers import one_blas_thread

    with one_blas_thread():
        return train_models(options, on_problem)


def _keep_committed(options, out: Path) -> None:
    """Training on anything but the project's own seeds and labels must not silently replace the
    committed models (those the package ships)."""
    from .modelfiles import packaged_models

    committed = packaged_models()
    if out.resolve() != committed.resolve():
        return
    if (options.corpus or options.labels or options.themes
            or options.seeds.resolve() != (committed.parent / "seeds").resolve()):
        raise CountythemesError(f"training on other data (--corpus, --labels, --seeds or --themes) would replace "
                                f"the committed models in {out}/; give --out a new folder, e.g. --out models-mine")


def train(seeds: str | os.PathLike, out: str | os.PathLike, corpus: Sequence[str] = (), labels: Sequence[str] = (),
          themes: str | None = None, seed: int = 20240501, topics: int | None = None,
          k_range: tuple[int, int] | str = (4, 10), seeded: bool = False, vector_corpora: Sequence[str] | None = None,
          vectors_from: str | os.PathLike | None = None, on_problem: OnProblem = _warn) -> Models:
    """Train the classifier and topics on a labeled corpus folder into ``out`` and load them.

    ``seeds`` holds the articles and ``labels*.csv``; ``corpus`` more articles
    that extra ``labels`` files name; ``themes`` a codebook of one's own (no
    labels: a zero-shot classifier). The word vectors are copied from
    ``vectors_from`` (default: the committed models), or rebuilt from
    ``vector_corpora``. Cross-validation, the learning curve and the K search
    are logged (logger ``countythemes``) and stored in the manifest. ``out`` is
    replaced only if it is a models folder this tool wrote.

    Examples
    --------
    >>> import countythemes as ct, tempfile, pathlib
    >>> models = ct.train("seeds/", pathlib.Path(tempfile.mkdtemp()) / "models")  # doctest: +SKIP
    >>> models.manifest["cross_validation"]["model"]["macro_f1"]  # doctest: +SKIP
    0.826
    """
    from .folders import check_target
    from .modelfiles import write_models

    options = _training_options(seeds, corpus, labels, themes, seed, topics, k_range, seeded, vector_corpora,
                                vectors_from)
    _keep_committed(options, Path(out))
    check_target(Path(out), "models")  # before the work
    files, manifest = _trained(options, on_problem)
    try:
        write_models(Path(out), files, manifest)
    except OSError as error:
        raise CountythemesError(f"{out}: cannot write the models ({error.strerror})") from None
    return load_models(out)


def check_training(seeds: str | os.PathLike, committed: str | os.PathLike, corpus: Sequence[str] = (),
                   labels: Sequence[str] = (), themes: str | None = None, seed: int = 20240501,
                   topics: int | None = None, k_range: tuple[int, int] | str = (4, 10), seeded: bool = False,
                   vector_corpora: Sequence[str] | None = None, vectors_from: str | os.PathLike | None = None,
                   on_problem: OnProblem = _warn) -> list[str]:
    """Train as ``train`` does, into a temporary folder, and say how the result differs from the models
    in ``committed`` (an empty list: the same model, within ``modelfiles.TOLERANCE``)."""
    from .modelfiles import compare_models, read_manifest, write_models

    options = _training_options(seeds, corpus, labels, themes, seed, topics, k_range, seeded, vector_corpora,
                                vectors_from)
    read_manifest(Path(committed))  # something to compare with, before the work
    files, manifest = _trained(options, on_problem)
    with tempfile.TemporaryDirectory(prefix="countythemes-check-") as scratch:
        fresh = Path(scratch) / "models"
        write_models(fresh, files, manifest)
        return compare_models(Path(committed), fresh)
