"""Labels and the stored classifier (issue 3, in progress)."""
from __future__ import annotations

import csv
import json

import numpy as np

from conftest import ROOT, run
from countythemes.classifier import ThemeScorer, load_themes
from countythemes.corpus import iter_paragraphs
from countythemes.labels import read_labels
from countythemes.tokens import segment
from countythemes.training import build_pipeline, calibration_folds, export_pipeline, training_set


def test_every_seed_paragraph_is_labeled_once_with_a_codebook_theme(seed_paragraphs):
    with open(ROOT / "seeds" / "labels.csv", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    keys = {t.key for t in load_themes()}
    assert [r["id"] for r in rows] == [p["id"] for p in seed_paragraphs]
    assert all(r["theme"] in keys for r in rows)
    assert all(set(r["secondary"].split()) <= keys - {r["theme"]} for r in rows)


def _label_file(tmp_path, rows):
    path = tmp_path / "extra.csv"
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "theme", "secondary", "note", "excerpt"])
        writer.writerows(rows)
    return path


def test_train_refuses_bad_labels_with_file_and_line(tmp_path, seed_paragraphs):
    first = seed_paragraphs[0]["id"]
    cases = [([["0000000000000000", "industry", "", "", ""]], "extra.csv:2: id '0000000000000000' matches no paragraph"),
             ([["", "", "", "", ""], [first, "farming", "", "", ""]], "extra.csv:3: unknown theme 'farming'"),
             ([[first, "cadres", "", "", ""]], f"extra.csv:2: duplicate label for id {first}"),
             ([[first, "industry", "", "", ""]], "extra.csv:2: conflicting (cadres vs industry)")]
    for rows, message in cases:
        result = run("train.py", "--labels", str(_label_file(tmp_path, rows)), "--out", str(tmp_path / "models"))
        assert result.returncode == 2
        assert message in result.stderr.decode(), result.stderr.decode()
        assert "Traceback" not in result.stderr.decode()
        assert not (tmp_path / "models").exists()


def test_numpy_scorer_gives_the_pipelines_probabilities():
    themes = load_themes()
    paragraphs = list(iter_paragraphs([str(ROOT / "seeds")], print))
    labels = read_labels([str(ROOT / "seeds" / "labels.csv")], {p.id for p in paragraphs}, [t.key for t in themes])
    data = training_set(paragraphs, labels)
    pipeline = build_pipeline(7, themes, calibration_folds(data.themes)).fit(data.texts, data.themes)
    scorer = ThemeScorer(json.loads(json.dumps(export_pipeline(pipeline, themes, 0.5))))
    texts = data.texts + ["县人社局举办春风行动招聘会，帮助脱贫劳动力外出务工。", "今天天气很好。", "……"]
    expected = pipeline.predict_proba(texts)
    # All paragraphs at once (as classify scores them), and one by one.
    found = scorer.probabilities(texts, [segment(t) for t in texts])
    alone = np.vstack([scorer.probabilities([t], [segment(t)]) for t in texts])
    assert scorer.classes == list(pipeline.classes_)
    assert np.max(np.abs(found - expected)) < 1e-9
    assert np.max(np.abs(alone - expected)) < 1e-9
