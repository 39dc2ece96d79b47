"""countythemes: what county news reports on Chinese rural policy are about, county by county.

The pipeline, one module per stage::

    reading → cleaning → tokens → places → classifier, topics → reports
    (paths)   (articles,  (jieba's  (county,  (theme per      (each place's theme
              paragraphs) words)    city …)   paragraph)      mix, PNGs, CSVs)

``pipeline`` runs the stages over many files on every core; ``training`` makes
the models; ``api`` is the front door, re-exported here.

Examples
--------
>>> import countythemes as ct
>>> frame = ct.classify(["中阳县发展木耳产业\\n山西省吕梁市中阳县建设木耳产业园，引进龙头企业，带动农户增收。"])
>>> frame.loc[0, ["county", "theme"]].tolist()
['中阳县', 'industry']
"""
from .api import (
                  Models,
                  check_training,
                  classify,
                  iter_classified,
                  iter_paragraphs,
                  load_models,
                  paragraphs,
                  report,
                  suggest,
                  train,
                  unlabeled,
)
from .errors import CountythemesError
from .records import Paragraph

__all__ = ["CountythemesError", "Models", "Paragraph", "check_training", "classify", "iter_classified",
           "iter_paragraphs", "load_models", "paragraphs", "report", "suggest", "train", "unlabeled"]
