"""The one record that flows between stages: a body paragraph, where it is, and once classified its verdict.

Reading and places fill the first fields; the classifier and the topic model
fill the verdict (``theme`` … ``topic_words``); the report adds the human
``label`` where a label file gives one. Every output (JSON lines, CSV, the
table, DataFrames, the report's paragraphs.csv) is made from this record.
"""
from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["PARAGRAPH_FIELDS", "Paragraph"]

#: The fields of ``analyze.py paragraphs`` (and ``ct.paragraphs``), in their order.
PARAGRAPH_FIELDS = ("source", "article", "article_index", "article_id", "paragraph", "id", "text", "county",
                    "city", "province", "place_source", "place_evidence", "date", "author")


@dataclass
class Paragraph:
    """One body paragraph: the unit that gets a place and a theme.

    Examples
    --------
    >>> p = Paragraph("a.txt", "标题", 0, 0, "abc", "正文。", "中阳县", "吕梁市", "山西省", "paragraph")
    >>> p.article_key
    'a.txt#0'
    """

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
    # The verdict, once classified: the theme, its probability, every theme's probability, whether it
    # falls below the threshold chosen in cross-validation; the dominant topic and its top words.
    theme: str | None = None
    confidence: float | None = None
    scores: dict[str, float] | None = None
    uncertain: bool | None = None
    topic: int | None = None
    topic_words: list[str] | None = None
    #: A human's theme for this paragraph, where a label file gives one (the report counts it).
    label: str | None = None

    @property
    def article_key(self) -> str:
        """Which article the paragraph belongs to: its file and the article's number there (the
        classifier's article features, the training set's groups and the report's article counts)."""
        return f"{self.source}#{self.article_index}"

    def record(self) -> dict:
        """The paragraph as a JSON object: its fields, then the verdict's where it has one."""
        record = {name: getattr(self, name) for name in PARAGRAPH_FIELDS}
        if self.theme is not None:
            record.update(theme=self.theme, confidence=self.confidence, scores=self.scores, uncertain=self.uncertain)
        if self.topic is not None:
            record.update(topic=self.topic, topic_words=self.topic_words)
        return record
