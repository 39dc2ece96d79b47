"""The engine: input paths to paragraph records with places and verdicts, batch by batch, on every core.

Reading (``reading``), cleaning (``cleaning``), segmentation (``tokens``) and
places (``places``) make ``Paragraph`` records; ``verdicts`` adds each one's
theme and topic from the loaded models. The work goes in batches of whole
documents through a process pool (``workers``) and comes back in input order;
what crosses between processes is only what each batch makes of its paragraphs
(records, or output lines already encoded).
"""
from __future__ import annotations

import re
from typing import Callable, Iterable, Iterator, Protocol

from .cleaning import Article, paragraph_id, split_articles
from .places import attribute
from .reading import CorpusLines, RawDocument, ReadProblem, input_size, read_documents
from .records import Paragraph
from .tokens import segment


def document_paragraphs(document: RawDocument, articles: list[Article]) -> Iterator[Paragraph]:
    """The paragraphs of a document's articles (``split_articles``), each with its place."""
    context = "\n".join([document.title or ""] + [a.title + "\n" + "\n".join(a.paragraphs) for a in articles])
    for article in articles:
        yield from article_paragraphs(article, context)


def article_paragraphs(article: Article, context: str) -> Iterator[Paragraph]:
    words = [segment(text) for text in article.paragraphs]
    places = attribute(article.paragraphs, article.headline, context, words)
    for index, (text, tokens, place) in enumerate(zip(article.paragraphs, words, places)):
        yield Paragraph(
            source=article.source, article=article.title, article_index=article.index,
            paragraph=index, id=paragraph_id(text), text=text, **place.fields(), date=article.date,
            article_id=article.record_id, author=article.author, words=tokens,
        )


def iter_paragraphs(paths: list[str], on_problem: Callable[[ReadProblem], None]) -> Iterator[Paragraph]:
    """Every body paragraph of every input; problems go to ``on_problem`` and reading goes on."""
    for paragraphs in iter_annotated(paths, on_problem):
        yield from paragraphs


Annotate = Callable[[list[Paragraph]], list]


def renumbered_paragraph(paragraph: Paragraph, articles_before: int) -> Paragraph:
    """A ``Paragraph`` with its article number moved on."""
    paragraph.article_index += articles_before
    return paragraph


def iter_annotated(paths: list[str], on_problem: Callable[[ReadProblem], None], annotate: Annotate | None = None,
                   renumbered: Callable = renumbered_paragraph, mapper: Callable = map,
                   on_read: Callable[[int], None] = lambda size: None) -> Iterator[list]:
    """Document by document, in input order, what ``annotate`` makes of each of its paragraphs.

    ``annotate`` takes a batch of paragraphs (so scoring can work on arrays)
    and gives one value for each; without it the value is the paragraph. The
    work per batch of documents (parsing, cleaning, places, ``annotate``) goes
    through ``mapper``: ``map`` here, or an ordered process pool's ``imap`` to
    use every core, where only those values come back. A paragraph's article
    number is mostly known where the work is done (a corpus record's position
    is counted by the reader); only for the later pieces of a large file does
    it depend on the pieces before, and there ``renumbered(value, articles
    before)`` moves a value's number on. ``on_read`` hears how many input
    bytes have been read (see ``read_documents``).
    """
    articles_read: dict[str, int] = {}  # per file read in pieces: its articles so far
    for batch in mapper(_BatchJob(annotate), _batches(read_documents(paths, on_read))):
        for outcome in batch:
            if isinstance(outcome, ReadProblem):
                on_problem(outcome)
                continue
            source, continued, articles, values = outcome
            before = articles_read.get(source, 0) if continued else 0
            if before:
                values = [renumbered(value, before) for value in values]
            articles_read[source] = before + articles
            yield values


#: Documents go to the work in batches of about this many characters (or a single larger document).
BATCH_CHARACTERS = 2**17


Item = RawDocument | CorpusLines | ReadProblem


def _batches(items: Iterable[Item]) -> Iterator[list[Item]]:
    """Consecutive documents in lists of about BATCH_CHARACTERS: enough to work on arrays, little to hold."""
    batch: list[Item] = []
    size = 0
    for item in items:
        batch.append(item)
        if isinstance(item, CorpusLines):
            size += len(item.data)
        elif isinstance(item, RawDocument):
            size += sum(len(block.text) for block in item.blocks)
        if size >= BATCH_CHARACTERS:
            yield batch
            batch, size = [], 0
    if batch:
        yield batch


class _BatchJob:
    """A batch of documents to each document's values (or its problem): picklable, for worker processes."""

    def __init__(self, annotate: Annotate | None):
        self.annotate = annotate

    def __call__(self, batch: list[Item]) -> list:
        items = [found for item in batch
                 for found in (item.documents() if isinstance(item, CorpusLines) else [item])]
        left_out: dict[int, list[str]] = {}  # per document: paragraphs over the limit
        documents = [(item, split_articles(item, left_out.setdefault(id(item), [])))
                     for item in items if isinstance(item, RawDocument)]
        found = [list(document_paragraphs(document, articles)) for document, articles in documents]
        every = [paragraph for paragraphs in found for paragraph in paragraphs]
        values = iter(self.annotate(every) if self.annotate else every)
        made = iter(zip(documents, found))
        outcomes: list = []
        for item in items:
            if isinstance(item, ReadProblem):
                outcomes.append(item)
                continue
            (document, articles), paragraphs = next(made)
            outcomes.append((document.source, document.continued, len(articles), [next(values) for _ in paragraphs]))
            outcomes.extend(ReadProblem(document.source, reason) for reason in left_out[id(document)])
            if not paragraphs and not left_out[id(document)]:  # a record without one is said too
                where = f"line {document.line}: " if document.line else ""
                outcomes.append(ReadProblem(document.source,
                                            f"{where}no body paragraphs found (only headlines, captions or bylines)"))
        return outcomes


# ------------------------------------------------------------------ on every core


class Progress(Protocol):
    """What hears how the work goes (``progress.Progress`` draws it as a bar on a terminal)."""

    def start(self, total: int) -> None: ...  # the input's bytes (0: unknown, as for standard input)
    def read(self, size: int) -> None: ...  # more input bytes read
    def step(self, done: int) -> None: ...  # more paragraphs done
    def done(self) -> None: ...


class Unheard:
    """Progress nobody hears (the default of the Python API)."""

    def start(self, total: int) -> None:
        pass

    def read(self, size: int) -> None:
        pass

    def step(self, done: int) -> None:
        pass

    def done(self) -> None:
        pass


def worker_count(requested: int | None, input_bytes: int) -> int:
    """Every core for a large input (over 2 MB), one process for a small one (starting more costs more)."""
    from .workers import cores

    if requested is not None:
        return requested
    return cores() if input_bytes > 2 * 2**20 else 1


#: What a worker process applies to each batch of paragraphs; set before the pool forks, so it is inherited.
_annotator: Annotate | None = None


def _annotate(paragraphs: list[Paragraph]) -> list:
    return _annotator(paragraphs)


def annotated(paths: list, annotate: Annotate, renumbered: Callable, on_problem: Callable[[ReadProblem], None],
              workers: int | None = 1, progress: Progress | None = None) -> Iterator[list]:
    """Document by document, in input order, what ``annotate`` makes of its paragraphs, on ``workers``
    processes (None: as many as the input's size calls for); see ``iter_annotated``."""
    global _annotator
    from .workers import mapper

    _annotator = annotate
    # The input's size decides the number of workers and is the bar's total; walking the folders for it
    # is needless where neither is asked for.
    size = input_size(paths) if workers is None or progress is not None else 0
    progress = progress or Unheard()
    progress.start(size)
    with mapper(worker_count(workers, size)) as mapped:
        for values in iter_annotated(paths, on_problem, _annotate, renumbered, mapper=mapped, on_read=progress.read):
            progress.step(len(values))
            yield values
    progress.done()


def verdicts(theme_scorer, topic_scorer=None) -> Callable[[list[Paragraph]], list[Paragraph]]:
    """A batch of paragraphs with their theme (and topic) filled in; their words are dropped, as what
    comes back from a worker process is pickled and only the verdict is needed after it."""

    def annotate(paragraphs: list[Paragraph]) -> list[Paragraph]:
        words = [p.words for p in paragraphs]
        found = theme_scorer.classify_all([p.text for p in paragraphs], words, [p.article_key for p in paragraphs])
        topics = topic_scorer.topics(words) if topic_scorer is not None else [{}] * len(paragraphs)
        for paragraph, verdict, topic in zip(paragraphs, found, topics):
            paragraph.theme, paragraph.confidence = verdict["theme"], verdict["confidence"]
            paragraph.scores, paragraph.uncertain = verdict["scores"], verdict["uncertain"]
            paragraph.topic, paragraph.topic_words = topic.get("topic"), topic.get("topic_words")
            paragraph.words = []
        return paragraphs
    return annotate


def classified(paths: list, theme_scorer, on_problem: Callable[[ReadProblem], None], topic_scorer=None,
               workers: int | None = 1, progress: Progress | None = None) -> Iterator[Paragraph]:
    """Every body paragraph with its place, theme (and topic), in input order."""
    for paragraphs in annotated(paths, verdicts(theme_scorer, topic_scorer), renumbered_paragraph, on_problem,
                                workers, progress):
        yield from paragraphs


#: A JSON line's article number (JSON text never holds this unescaped inside a string).
_ARTICLE_INDEX = re.compile(rb'"article_index":(\d+)')


def _renumbered_line(line: bytes, articles_before: int) -> bytes:
    return _ARTICLE_INDEX.sub(lambda found: b'"article_index":%d' % (int(found[1]) + articles_before), line, 1)


class _JsonLines:
    """A batch of paragraphs to their verdicts as UTF-8 JSON lines (picklable, for worker processes)."""

    def __init__(self, verdicts: Callable[[list[Paragraph]], list[Paragraph]]):
        self.verdicts = verdicts

    def __call__(self, paragraphs: list[Paragraph]) -> list[bytes]:
        import orjson

        return [orjson.dumps(p.record(), option=orjson.OPT_APPEND_NEWLINE) for p in self.verdicts(paragraphs)]


def classified_lines(paths: list, theme_scorer, on_problem: Callable[[ReadProblem], None], topic_scorer=None,
                     workers: int | None = 1, progress: Progress | None = None) -> Iterator[bytes]:
    """``classified`` as UTF-8 JSON lines, encoded by the workers: bytes cross between processes and go
    to the output as they are."""
    encoded = _JsonLines(verdicts(theme_scorer, topic_scorer))
    for lines in annotated(paths, encoded, _renumbered_line, on_problem, workers, progress):
        yield from lines
