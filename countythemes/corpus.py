"""From input paths to body paragraphs with ids and places: reading, cleaning, places."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Iterable, Iterator

from .cleaning import Article, paragraph_id, split_articles
from .places import attribute
from .reading import CorpusLines, RawDocument, ReadProblem, read_documents
from .tokens import segment


@dataclass
class Paragraph:
    """One body paragraph: the unit that gets a theme and a place."""

    source: str
    article: str
    article_index: int
    paragraph: int
    id: str
    text: str
    county: str | None
    city: str | None
    province: str | None
    place_source: str | None
    #: The words that decided the place (e.g. '"威宁县" (short form of 威宁彝族回族苗族自治县)').
    place_evidence: str | None = None
    date: str | None = None
    #: The article's own id where its source gives one (a JSONL record's ``id``).
    article_id: str | None = None
    #: The article's author where the file's front matter names one.
    author: str | None = None
    #: The text's segmentation, every token in order: made once, read by places, themes and topics.
    words: list[str] = field(default_factory=list, repr=False, compare=False)

    def record(self) -> dict:
        return {"source": self.source, "article": self.article, "article_index": self.article_index,
                "article_id": self.article_id, "paragraph": self.paragraph, "id": self.id, "text": self.text, "county": self.county,
                "city": self.city, "province": self.province, "place_source": self.place_source,
                "place_evidence": self.place_evidence, "date": self.date, "author": self.author}


def article_key(paragraph: Paragraph) -> str:
    """Which article a paragraph belongs to: its file and the article's number there (the classifier's
    article features and the training set's groups read it)."""
    return f"{paragraph.source}#{paragraph.article_index}"


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
            paragraph=index, id=paragraph_id(text), text=text, **place.fields(), date=article.date, article_id=article.record_id, author=article.author,
            words=tokens,
        )


def iter_paragraphs(paths: list[str], on_problem: Callable[[ReadProblem], None]) -> Iterator[Paragraph]:
    """Every body paragraph of every input; problems go to ``on_problem`` and reading goes on."""
    for paragraphs in iter_annotated(paths, on_problem):
        yield from paragraphs


Annotate = Callable[[list[Paragraph]], list]


def renumbered_paragraph(paragraph, articles_before: int):
    """A ``Paragraph`` (or a row made of one) with its article number moved on."""
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
