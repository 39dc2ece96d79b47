"""From input paths to body paragraphs with ids and places: reading, cleaning, places."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Iterable, Iterator

from .cleaning import Article, paragraph_id, split_articles
from .places import attribute
from .reading import CorpusLine, RawDocument, ReadProblem, read_documents
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
    date: str | None = None
    #: The text's segmentation, every token in order: made once, read by places, themes and topics.
    words: list[str] = field(default_factory=list, repr=False, compare=False)

    def record(self) -> dict:
        return {"source": self.source, "article": self.article, "article_index": self.article_index,
                "paragraph": self.paragraph, "id": self.id, "text": self.text, "county": self.county,
                "city": self.city, "province": self.province, "place_source": self.place_source,
                "date": self.date}


def document_paragraphs(document: RawDocument) -> Iterator[Paragraph]:
    articles = split_articles(document)
    context = "\n".join([document.title or ""] + [a.title + "\n" + "\n".join(a.paragraphs) for a in articles])
    for article in articles:
        yield from article_paragraphs(article, context)


def article_paragraphs(article: Article, context: str) -> Iterator[Paragraph]:
    words = [segment(text) for text in article.paragraphs]
    places = attribute(article.paragraphs, article.headline, context, words)
    for index, (text, tokens, place) in enumerate(zip(article.paragraphs, words, places)):
        yield Paragraph(
            source=article.source, article=article.title, article_index=article.index,
            paragraph=index, id=paragraph_id(text), text=text, **place.fields(), date=article.date, words=tokens,
        )


def iter_paragraphs(paths: list[str], on_problem: Callable[[ReadProblem], None]) -> Iterator[Paragraph]:
    """Every body paragraph of every input; problems go to ``on_problem`` and reading goes on."""
    for numbers, paragraphs in iter_annotated(paths, on_problem):
        for number, paragraph in zip(numbers, paragraphs):
            paragraph.article_index = number
            yield paragraph


Annotate = Callable[[list[Paragraph]], list]


def iter_annotated(paths: list[str], on_problem: Callable[[ReadProblem], None], annotate: Annotate | None = None,
                   mapper: Callable = map) -> Iterator[tuple[list[int], list]]:
    """Document by document, in input order: its paragraphs' article numbers and what
    ``annotate`` makes of each paragraph.

    ``annotate`` takes a batch of paragraphs (so scoring can work on arrays)
    and gives one value for each; without it the value is the paragraph. The
    work per batch of documents (cleaning, places, ``annotate``) goes through
    ``mapper``: ``map`` here, or an ordered process pool's ``imap`` to use
    every core, where only those values come back. Articles are numbered
    through each source, also where a source gives several documents (the
    records of a JSONL corpus, the pieces of a large file), so the numbers are
    given beside the values: only the reading order decides them.
    """
    article_counter: dict[str, int] = {}
    for batch in mapper(_BatchJob(annotate), _batches(read_documents(paths))):
        for outcome in batch:
            if isinstance(outcome, ReadProblem):
                on_problem(outcome)
                continue
            source, single_article, numbers, values = outcome
            base = article_counter.get(source, 0)
            yield ([base] * len(values) if single_article else [base + n for n in numbers]), values
            article_counter[source] = base + (1 if single_article else max(numbers, default=-1) + 1)
            if not values and not single_article:
                on_problem(ReadProblem(source, "no body paragraphs found (only headlines, captions or bylines)"))


#: Documents go to the work in batches of about this many characters (or a single larger document).
BATCH_CHARACTERS = 2**17


Item = RawDocument | CorpusLine | ReadProblem


def _batches(items: Iterable[Item]) -> Iterator[list[Item]]:
    """Consecutive documents in lists of about BATCH_CHARACTERS: enough to work on arrays, little to hold."""
    batch: list[Item] = []
    size = 0
    for item in items:
        batch.append(item)
        if isinstance(item, CorpusLine):
            size += len(item.line)
        elif isinstance(item, RawDocument):
            size += sum(len(block.text) for block in item.blocks)
        if size >= BATCH_CHARACTERS:
            yield batch
            batch, size = [], 0
    if batch:
        yield batch


class _BatchJob:
    """A batch of documents to their paragraphs' article numbers and values: picklable, for worker processes."""

    def __init__(self, annotate: Annotate | None):
        self.annotate = annotate

    def __call__(self, batch: list[Item]) -> list:
        batch = [_parsed(item) for item in batch]
        documents = [(item, list(document_paragraphs(item))) for item in batch if isinstance(item, RawDocument)]
        every = [paragraph for _, paragraphs in documents for paragraph in paragraphs]
        values = iter(self.annotate(every) if self.annotate else every)
        found = iter(documents)
        outcomes: list = []
        for item in batch:
            if isinstance(item, ReadProblem):
                outcomes.append(item)
                continue
            document, paragraphs = next(found)
            outcomes.append((document.source, document.single_article, [p.article_index for p in paragraphs],
                             [next(values) for _ in paragraphs]))
        return outcomes


def _parsed(item: Item) -> RawDocument | ReadProblem:
    if not isinstance(item, CorpusLine):
        return item
    try:
        return item.document()
    except ReadProblem as problem:  # one bad record does not stop the corpus
        return problem
