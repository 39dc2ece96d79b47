"""The fast segmenter gives jieba's tokens exactly (issue 7)."""
from __future__ import annotations

import gzip
import json
from itertools import islice

import pytest
from conftest import ROOT, SHARED

from countythemes.pipeline import iter_paragraphs
from countythemes.tokens import reference_segment, segment

CORPUS = SHARED / "corpora" / "xwlb.jsonl.gz"


def _differences(texts: list[str]) -> list[tuple[list[str], list[str]]]:
    return [(fast, slow) for fast, slow in ((segment(t), reference_segment(t)) for t in texts) if fast != slow]


def test_fast_tokens_equal_jiebas_on_the_seeds():
    texts = [p.text for p in iter_paragraphs([str(ROOT / "seeds")], print)]
    texts += ["大同县改名云州区，平顺县人社局开展技能培训。", "蛋鸡5万只,无公害", "ABC123 数字 3.5%"]
    assert _differences(texts) == []


@pytest.mark.corpus
@pytest.mark.skipif(not CORPUS.exists(), reason="needs ../shared/corpora/xwlb.jsonl.gz")
def test_fast_tokens_equal_jiebas_on_1000_corpus_stories():
    with gzip.open(CORPUS, "rt", encoding="utf-8") as handle:
        texts = [json.loads(line)["text"] for line in islice(handle, 0, 50000, 50)]
    assert len(texts) == 1000
    assert _differences(texts) == []
