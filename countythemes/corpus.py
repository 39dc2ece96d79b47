"""From input paths to body paragraphs with ids and places: reading, cleaning, places."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Iterator

from .cleaning import Article, paragraph_id, split_articles
from .places import attribute
from .reading import RawDocument, ReadProblem, read_documents


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
    places = attribute(article.paragraphs, article.headline, context)
    for index, (text, place) in enumerate(zip(article.paragraphs, places)):
        yield Paragraph(
            source=article.source, article=article.title, article_index=article.index,
            paragraph=index, id=paragraph_id(text), text=text, **place.fields(), date=article.date,
        )


def iter_paragraphs(paths: list[str], on_problem: Callable[[ReadProblem], None]) -> Iterator[Paragraph]:
    """Every body paragraph of every input; problems go to ``on_problem`` and reading goes on."""
    for paragraph, _ in iter_annotated(paths, on_problem):
        yield paragraph


def iter_annotated(paths: list[str], on_problem: Callable[[ReadProblem], None],
                   annotate: Callable[[Paragraph], dict] | None = None,
                   mapper: Callable = map) -> Iterator[tuple[Paragraph, dict | None]]:
    """Every body paragraph with what ``annotate`` says of it, in input order.

    The work per document (cleaning, places, ``annotate``) goes through
    ``mapper``: ``map`` here, or an ordered process pool's ``imap`` to use
    every core. Articles are then numbered through each source, also where a
    source gives several documents (the records of a JSONL corpus, the pieces
    of a large file).
    """
    article_counter: dict[str, int] = {}
    for item, annotated in mapper(_DocumentJob(annotate), read_documents(paths)):
        if isinstance(item, ReadProblem):
            on_problem(item)
            continue
        base = article_counter.get(item.source, 0)
        last = -1
        for paragraph, notes in annotated:
            if item.single_article:
                paragraph.article_index = 0
            last = max(last, paragraph.article_index)
            paragraph.article_index += base
            yield paragraph, notes
        article_counter[item.source] = base + (1 if item.single_article else last + 1)
        if not annotated and not item.single_article:
            on_problem(ReadProblem(item.source, "no body paragraphs found (only headlines, captions or bylines)"))


class _DocumentJob:
    """One document's paragraphs and their annotations: picklable, for worker processes."""

    def __init__(self, annotate: Callable[[Paragraph], dict] | None):
        self.annotate = annotate

    def __call__(self, item: RawDocument | ReadProblem):
        if isinstance(item, ReadProblem):
            return item, []
        annotated = [(p, self.annotate(p) if self.annotate else None) for p in document_paragraphs(item)]
        item.blocks = []  # the text goes back to the parent only once, in the paragraphs
        return item, annotated
