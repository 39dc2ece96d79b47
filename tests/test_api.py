"""The Python API, as a researcher calls it from a notebook: each input form, the columns, the errors."""
from __future__ import annotations

import json

import pandas
import pytest
from conftest import ROOT, json_lines, run

import countythemes as ct
from countythemes.formats import classified_columns
from countythemes.records import PARAGRAPH_FIELDS

ARTICLE = ("中阳县发展木耳产业\n\n"
           "今年以来，山西省吕梁市中阳县建设木耳产业园，引进龙头企业，带动农户增收。\n\n"
           "县人社局组织拉面技能培训，帮助200多名村民外出务工就业。\n")
KEYS = ["industry", "employment", "cadres", "environment", "finance", "other"]


@pytest.fixture(scope="module")
def models() -> ct.Models:
    return ct.load_models()


def test_the_package_names_its_public_api():
    assert set(ct.__all__) >= {"paragraphs", "classify", "report", "train", "load_models", "CountythemesError"}
    assert all(callable(getattr(ct, name)) or isinstance(getattr(ct, name), type) for name in ct.__all__)
    for name in ("paragraphs", "classify", "report", "train", "load_models"):
        doc = getattr(ct, name).__doc__
        assert "Examples\n    --------\n    >>>" in doc, name


def test_paragraphs_of_a_folder_are_the_rows_of_the_paragraphs_command():
    frame = ct.paragraphs(ROOT / "seeds")
    command = json_lines(run("analyze.py", "paragraphs", str(ROOT / "seeds")))
    assert list(frame.columns) == list(PARAGRAPH_FIELDS)
    assert frame.astype(object).where(frame.notna(), None).to_dict("records") == command


def test_classify_takes_a_path_a_list_of_paths_texts_and_the_paragraphs_frame(tmp_path, models):
    page = sorted((ROOT / "seeds").glob("*.txt"))[0]
    (tmp_path / "a.txt").write_text(ARTICLE, encoding="utf-8")
    by_path = ct.classify(str(page), models=models)
    by_list = ct.classify([page, tmp_path / "a.txt"], models=models)
    by_text = ct.classify([ARTICLE], models=models)
    by_frame = ct.classify(ct.paragraphs([page, tmp_path / "a.txt"]), models=models)

    assert list(by_path.columns) == classified_columns(KEYS) == list(by_text.columns)
    assert list(by_list.columns[-8:]) == ["p_industry", "p_employment", "p_cadres", "p_environment", "p_finance",
                                          "p_other", "topic", "topic_words"]
    assert by_list.iloc[: len(by_path)].equals(by_path)
    # The frame of ``paragraphs`` gives the same verdicts as reading the files again.
    assert by_frame.drop(columns=["text"]).equals(by_list.drop(columns=["text"]))
    # A text is an article: title on the first line; its source names it by its position.
    assert by_text["source"].unique().tolist() == ["text 1"]
    assert by_text["article"].unique().tolist() == ["中阳县发展木耳产业"]
    assert by_text[["county", "city", "province"]].iloc[0].tolist() == ["中阳县", "吕梁市", "山西省"]
    assert by_text["theme"].tolist() == ["industry", "employment"]
    from_file = ct.classify(tmp_path / "a.txt", models=models)
    columns = [c for c in by_text.columns if c != "source"]
    assert by_text[columns].equals(from_file[columns])
    probabilities = by_text[[f"p_{k}" for k in KEYS]].to_numpy()
    assert (abs(probabilities.sum(axis=1) - 1) < 1e-3).all()
    assert (by_text["confidence"] == probabilities.max(axis=1)).all()


def test_classify_without_topics_and_with_two_workers_agrees(models):
    one = ct.classify(ROOT / "seeds", topics=False, models=models)
    two = ct.classify(ROOT / "seeds", topics=False, workers=2, models=models)
    assert "topic" not in one.columns
    assert one.equals(two)
    command = json_lines(run("analyze.py", "classify", "--no-topics", str(ROOT / "seeds")))
    assert one["theme"].tolist() == [r["theme"] for r in command]
    assert one["p_finance"].tolist() == [r["scores"]["finance"] for r in command]


def test_a_missing_path_is_an_error_not_an_article_and_unreadable_inputs_warn(tmp_path, caplog):
    with pytest.raises(ct.CountythemesError, match="nosuch.txt: no such file or folder"):
        ct.paragraphs("seeds/nosuch.txt")
    (tmp_path / "empty.txt").write_text("", encoding="utf-8")
    (tmp_path / "a.txt").write_text(ARTICLE, encoding="utf-8")
    heard = []
    frame = ct.paragraphs([tmp_path / "empty.txt", tmp_path / "a.txt"], on_problem=heard.append)
    assert len(frame) == 2 and [str(p) for p in heard] == [f"{tmp_path / 'empty.txt'}: file is empty"]
    with caplog.at_level("WARNING", logger="countythemes"):
        ct.paragraphs([tmp_path / "empty.txt"])
    assert "skipped" in caplog.text and "file is empty" in caplog.text
    with pytest.raises(ct.CountythemesError, match="lacks the column"):
        ct.classify(pandas.DataFrame({"text": ["村里"]}))


def test_load_models_refuses_a_changed_file_with_one_line(tmp_path):
    import shutil

    shutil.copytree(ROOT / "models", tmp_path / "models")
    model = json.loads((tmp_path / "models" / "classifier.json").read_text(encoding="utf-8"))
    model["threshold"] = 0.1
    (tmp_path / "models" / "classifier.json").write_text(json.dumps(model), encoding="utf-8")
    with pytest.raises(ct.CountythemesError, match="classifier.json: changed since training") as error:
        ct.load_models(tmp_path / "models")
    assert "\n" not in str(error.value)


def test_report_writes_the_folder_and_suggest_picks_unlabeled_paragraphs(tmp_path, models):
    out = ct.report([ROOT / "seeds"], out=tmp_path / "report", models=models)
    assert (out / "index.html").read_text(encoding="utf-8").count("<details") > 0
    table = pandas.read_csv(out / "theme_mix_by_county.csv", encoding="utf-8-sig")
    assert {"adjusted_share", "adjusted_low", "adjusted_high", "articles", "paragraphs"} <= set(table.columns)
    with pytest.raises(ct.CountythemesError, match="seeds: is not a folder this tool wrote"):
        ct.report([ROOT / "seeds"], out=ROOT / "seeds", models=models)
    labeled = str(ROOT / "seeds" / "labels.csv")
    picked = ct.suggest(ROOT / "seeds", n=3, labels=[labeled], models=models)
    done = set(pandas.read_csv(labeled, encoding="utf-8-sig")["id"])
    assert len(picked) == 3 and not {p.id for p in picked} & done
    assert len({p.article_key for p in picked}) == 3  # spread over articles


@pytest.mark.parametrize("module", ["countythemes", "countythemes.api", "countythemes.records", "countythemes.progress",
                                    "countythemes.classifier"])
def test_the_docstring_examples_run_as_written(module, monkeypatch):
    import doctest
    import importlib

    monkeypatch.chdir(ROOT)  # the examples read seeds/, as a notebook in the project folder does
    result = doctest.testmod(importlib.import_module(module), optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0 and result.failed == 0
