"""Labels and the stored classifier (issue 3, in progress)."""
from __future__ import annotations

import csv
import json

import numpy as np
from conftest import ROOT, json_lines, run

from countythemes.classifier import ThemeScorer
from countythemes.codebook import load_themes
from countythemes.embeddings import Embeddings
from countythemes.labels import read_labels
from countythemes.pipeline import iter_paragraphs
from countythemes.tokens import segment
from countythemes.training import Passage, build_pipeline, calibration_folds, export_pipeline, passages, training_set

EMBEDDINGS = Embeddings.load(ROOT / "models")


def test_every_seed_paragraph_is_labeled_once_with_a_codebook_theme_and_a_known_place(training_paragraphs):
    from countythemes.places import gazetteer

    rows = []
    for path in sorted((ROOT / "seeds").glob("labels*.csv")):
        with open(path, encoding="utf-8") as handle:
            rows += list(csv.DictReader(handle))
    keys = {t.key for t in load_themes()}
    assert sorted(r["id"] for r in rows) == sorted({p["id"] for p in training_paragraphs})
    assert all(r["theme"] in keys for r in rows)
    assert all(set(r["secondary"].split()) <= keys - {r["theme"]} for r in rows)
    counties = {(n.unit.county, n.unit.city or "", n.unit.province) for names in gazetteer().names.values()
                for n in names if n.unit.level == "county"}
    placed = [(r["county"], r["city"], r["province"]) for r in rows if r["county"]]
    assert len(placed) > 700  # many TV stories are national: no county
    assert set(placed) <= counties


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
    labels = read_labels([str(ROOT / "seeds" / "labels.csv")], {p.id for p in paragraphs}, {t.key: t.name for t in themes})
    data = training_set(paragraphs, labels)
    pipeline = build_pipeline(7, themes, EMBEDDINGS, calibration_folds(data.themes)).fit(passages(data), data.themes)
    scorer = ThemeScorer(json.loads(json.dumps(export_pipeline(pipeline, themes, 0.5))), EMBEDDINGS)
    # with words only the word vectors know (护林员, 授信 are not in the seed pages' vocabulary)
    extra = ["县人社局举办春风行动招聘会，帮助脱贫劳动力外出务工。", "今天天气很好。", "……",
             "村里选聘护林员管护山林。", "农商行向农户授信。"]
    texts = data.texts + extra
    articles = data.groups + ["new#0", "new#0", "new#1", "new#2", "new#2"]
    rows = np.empty(len(texts), dtype=object)
    rows[:] = [Passage(t, a) for t, a in zip(texts, articles)]
    expected = pipeline.predict_proba(rows)
    # All paragraphs at once (as classify scores them), and article by article.
    found = scorer.probabilities(texts, [segment(t) for t in texts], articles)
    by_article = np.empty_like(found)
    for article in set(articles):
        where = [i for i, a in enumerate(articles) if a == article]
        by_article[where] = scorer.probabilities([texts[i] for i in where], [segment(texts[i]) for i in where],
                                                 [article] * len(where))
    assert scorer.classes == list(pipeline.classes_)
    assert np.max(np.abs(found - expected)) < 1e-9
    assert np.max(np.abs(by_article - expected)) < 1e-9


def test_the_codebook_prior_lands_on_each_class_by_its_key_when_a_fold_lacks_a_theme():
    """A training fold without one theme: each remaining class still gets its own theme's count column."""
    themes = load_themes()
    paragraphs = list(iter_paragraphs([str(ROOT / "seeds")], print))
    labels = read_labels([str(ROOT / "seeds" / "labels.csv")], {p.id for p in paragraphs},
                         {t.key: t.name for t in themes})
    data = training_set(paragraphs, labels)
    kept = [i for i, theme in enumerate(data.themes) if theme != "employment"]
    truth = [data.themes[i] for i in kept]
    rows = passages(data)[kept]
    pipeline = build_pipeline(7, themes, EMBEDDINGS, calibration_folds(truth)).fit(rows, truth)
    exported = export_pipeline(pipeline, themes, 0.5)
    assert exported["classes"] == ["cadres", "environment", "finance", "industry", "other"]
    width = len(exported["vocabulary"]) + 2 * (EMBEDDINGS.size + len(themes))
    keys = sorted(t.key for t in themes)
    for row, key in zip(exported["coef"], exported["classes"]):
        prior = row[width:]
        assert prior[keys.index(key)] == 2.0 and sum(prior) == 2.0, key
    # and the scorer built from it ranks a finance paragraph as finance
    scorer = ThemeScorer(exported, EMBEDDINGS)
    text = "县农商行为脱贫户发放小额信贷，授信资金2亿元，并推广防贫保险。"
    assert scorer.classify_all([text], [segment(text)])[0]["theme"] == "finance"


def test_train_refuses_a_theme_labeled_in_fewer_than_two_articles(tmp_path, seed_pages):
    import shutil

    seeds = tmp_path / "seeds"
    shutil.copytree(seed_pages, seeds)
    with open(seeds / "labels.csv", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    finance = [r for r in rows if r["theme"] == "finance"]
    first = finance[0]["id"]
    paragraphs = json_lines(run("analyze.py", "paragraphs", str(seeds)))
    article = next((p["source"], p["article_index"]) for p in paragraphs if p["id"] == first)
    same_article = {p["id"] for p in paragraphs if (p["source"], p["article_index"]) == article}
    for row in rows:  # finance kept only in the first finance paragraph's article
        if row["theme"] == "finance" and row["id"] not in same_article:
            row["theme"] = "other"
    with open(seeds / "labels.csv", "w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    result = run("train.py", "--seeds", str(seeds), "--out", str(tmp_path / "models"))
    assert result.returncode == 2
    assert result.stderr.decode().strip().splitlines()[-1] == (
        "error: every theme needs labeled paragraphs in at least 2 articles, so that cross-validation can hold "
        "one out; too few articles for: finance (1)")
    assert not (tmp_path / "models").exists()
