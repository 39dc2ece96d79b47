"""`analyze.py classify` and `suggest`, and the trained models they use (issue 3)."""
from __future__ import annotations

import csv
import json
import pickle
import re
import shutil

from conftest import ROOT, json_lines, run, train_pages

ARTICLE = """平顺县多措并举巩固脱贫成果

本报讯 今年以来，平顺县围绕巩固拓展脱贫攻坚成果，推动各项工作落地见效。

县人社局在春风行动招聘会上组织32家企业提供就业岗位1200个，并开展电焊、家政等技能培训，帮助脱贫劳动力外出务工，人均月工资达到4000元以上。

该县深入开展农村人居环境整治，完成改厕3200户，新建垃圾收集点80个，治理黑臭水体5条，村庄绿化面积新增1200亩，美丽乡村建设成效明显。
"""

EMPLOYMENT = "县人社局在春风行动招聘会上"
ENVIRONMENT = "该县深入开展农村人居环境整治"


def _classified(result) -> list[dict]:
    assert result.returncode == 0, result.stderr.decode()
    return json_lines(result)


def _starting(paragraphs: list[dict], start: str) -> dict:
    (found,) = [p for p in paragraphs if p["text"].startswith(start)]
    return found


def test_a_new_article_gets_plain_themes_with_six_scores(tmp_path):
    article = tmp_path / "平顺 新闻.txt"
    article.write_text(ARTICLE, encoding="utf-8")
    paragraphs = _classified(run("analyze.py", "classify", str(article)))
    employment, environment = _starting(paragraphs, EMPLOYMENT), _starting(paragraphs, ENVIRONMENT)
    assert employment["theme"] == "employment"
    assert environment["theme"] == "environment"
    assert len(paragraphs) == 3
    for p in paragraphs:
        assert set(p["scores"]) == {"industry", "employment", "cadres", "environment", "finance", "other"}
        assert abs(sum(p["scores"].values()) - 1) < 1e-3
        assert p["confidence"] == max(p["scores"].values())
        assert isinstance(p["uncertain"], bool)
        assert p["county"] == "平顺县" and p["city"] == "长治市"  # the paragraph fields are all there


def test_classify_reads_stdin_and_prints_a_table(tmp_path):
    result = run("analyze.py", "classify", "-", "--format", "table", stdin=ARTICLE.encode("utf-8"))
    assert result.returncode == 0, result.stderr.decode()
    rows = result.stdout.decode("utf-8").splitlines()
    assert rows[0].split() == ["段落", "来源", "文章", "地点", "主题", "置信度"]
    employment = next(r for r in rows if r.startswith("县人社局"))
    assert "平顺县" in employment and "就业增收" in employment
    assert employment.split()[1] == "-"  # the source: standard input
    assert re.search(r"\b(0\.\d\d|1\.00)\b", employment)


def test_classify_works_from_another_folder_with_the_committed_models(tmp_path):
    article = tmp_path / "a.txt"
    article.write_text(ARTICLE, encoding="utf-8")
    result = run(str(ROOT / "analyze.py"), "classify", "a.txt", cwd=tmp_path)
    assert _starting(_classified(result), EMPLOYMENT)["theme"] == "employment"


def _copy_models(tmp_path):
    models = tmp_path / "models"
    shutil.copytree(ROOT / "models", models)
    return models


def test_a_tampered_model_file_is_refused(tmp_path):
    models = _copy_models(tmp_path)
    classifier = models / "classifier.json"
    classifier.write_text(classifier.read_text(encoding="utf-8").replace('"threshold": 0.', '"threshold": 0.0', 1),
                          encoding="utf-8")
    result = run("analyze.py", "classify", "seeds/", "--models", str(models))
    assert result.returncode == 2
    message = result.stderr.decode()
    assert "classifier.json: changed since training" in message and "python train.py" in message
    assert "Traceback" not in message and result.stdout == b""


class _Payload:
    """Unpickling this would create a marker file: the proof that a model file was executed."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (open, (self.marker, "w"))


def test_a_model_file_replaced_by_a_pickle_is_never_executed(tmp_path):
    import hashlib

    models = _copy_models(tmp_path)
    marker = tmp_path / "executed"
    payload = pickle.dumps(_Payload(str(marker)))
    (models / "classifier.json").write_bytes(payload)
    manifest = json.loads((models / "manifest.json").read_text(encoding="utf-8"))
    manifest["files"]["classifier.json"] = hashlib.sha256(payload).hexdigest()  # even with a matching checksum
    from countythemes.modelfiles import _own_checksum

    manifest["checksum"] = _own_checksum(manifest)  # and a manifest that agrees with itself
    (models / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    result = run("analyze.py", "classify", "seeds/", "--models", str(models))
    assert result.returncode == 2
    assert "classifier.json: damaged" in result.stderr.decode()
    assert not marker.exists()


def test_missing_models_say_how_to_rebuild(tmp_path):
    result = run("analyze.py", "classify", "seeds/", "--models", str(tmp_path / "nowhere"))
    assert result.returncode == 2
    assert result.stderr.decode().strip() == (
        f"error: {tmp_path / 'nowhere' / 'manifest.json'}: no trained model here; rebuild it with: python train.py")


def test_training_beats_both_baselines(fresh_training):
    """On all labels of ``seeds/`` (the committed training, which ``train.py --check`` reproduces) the model
    beats both baselines by far; on the five seed pages' 126 labels it beats the majority class and stays
    within 0.01 of the typical words, whose codebook the pages were written to (0.827 vs 0.832)."""
    cv = json.loads((ROOT / "models" / "manifest.json").read_text(encoding="utf-8"))["cross_validation"]
    assert cv["model"]["macro_f1"] > cv["typical_words"]["macro_f1"] + 0.15
    assert cv["model"]["macro_f1"] > cv["majority"]["macro_f1"] + 0.5
    folder, printed = fresh_training
    scores = re.search(r"macro-F1: model ([\d.]+) \| majority class ([\d.]+) \| typical words ([\d.]+)", printed)
    model, majority, typical = map(float, scores.groups())
    assert model > majority and model > typical - 0.01


def _new_articles(folder):
    """Two articles of our own: their paragraphs' themes are known by construction."""
    folder.mkdir()
    (folder / "one.txt").write_text(ARTICLE, encoding="utf-8")
    (folder / "two.md").write_text(
        "# 壶关县金融助力乡村振兴\n\n"
        "壶关县农商行为全县脱贫户发放小额信贷1.2亿元，为200家合作社授信3亿元，并推广防贫保险。\n\n"
        "县委组织部选派第一书记和驻村工作队员120名，实行考核督查，压实帮扶责任。\n\n"
        "该县旱地西红柿种植基地今年扩大到8000亩，龙头企业带动合作社打造品牌，电商销售额增长三成。\n",
        encoding="utf-8")
    return {"县人社局在春风行动招聘会上": "employment", "该县深入开展农村人居环境整治": "environment",
            "今年以来，平顺县围绕巩固拓展": "other", "壶关县农商行为全县脱贫户发": "finance",
            "县委组织部选派第一书记和驻": "cadres", "该县旱地西红柿种植基地今年": "industry"}


def test_suggest_writes_a_labels_csv_that_train_accepts_once_filled_in(tmp_path, seed_pages):
    truth = _new_articles(tmp_path / "new")
    suggestions = tmp_path / "more labels.csv"
    result = run("analyze.py", "suggest", str(tmp_path / "new"), "--n", "4", "--out", str(suggestions))
    assert result.returncode == 0, result.stderr.decode()
    with open(suggestions, encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert list(rows[0])[:5] == ["id", "theme", "secondary", "note", "excerpt"]
    assert len(rows) == 4 and len({r["id"] for r in rows}) == 4
    assert all(r["theme"] == "" for r in rows)
    assert {r["source"] for r in rows[:2]} == {str(tmp_path / "new" / "one.txt"), str(tmp_path / "new" / "two.md")}

    again = run("analyze.py", "suggest", str(tmp_path / "new"), "--out", str(suggestions))
    assert again.returncode == 2 and "already exists" in again.stderr.decode()

    for row in rows:  # the user fills in the themes
        row["theme"] = next(theme for start, theme in truth.items() if row["text"].startswith(start[:12]))
    with open(suggestions, "w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    hint = result.stderr.decode().strip().splitlines()[-1]
    assert f"python train.py --corpus {tmp_path / 'new'} --labels" in hint and "--out" in hint
    trained = train_pages(seed_pages, tmp_path / "models", "--corpus", str(tmp_path / "new"),
                          "--labels", str(suggestions), "--topics", "4")
    assert trained.returncode == 0, trained.stderr.decode()
    manifest = json.loads((tmp_path / "models" / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["training"]["labeled"] == 126 + 4

    # labeled paragraphs are not suggested again
    left = run("analyze.py", "suggest", str(tmp_path / "new"), "--labels", str(suggestions))
    assert {r["id"] for r in csv.DictReader(left.stdout.decode().splitlines())}.isdisjoint({r["id"] for r in rows})


def test_a_corpus_is_classified_the_same_on_one_or_two_workers_with_its_records_numbered(tmp_path):
    """A JSONL record's article number is its position among the corpus's records, in classify as in
    `paragraphs`, on any number of workers; a broken record keeps its number, so the others keep theirs."""
    stories = [json.dumps({"id": str(i), "title": f"第{i}条", "text": f"{ARTICLE}\n\n第{i}条消息：合作社带动{i}户脱贫户增收。"},
                          ensure_ascii=False) for i in range(300)]
    stories[57] = "{not json"
    corpus = tmp_path / "stories.jsonl"  # over 128 KB: read and worked on in several runs of lines
    corpus.write_text("\n".join(stories[:100]) + "\n\n" + "\n".join(stories[100:]) + "\n", encoding="utf-8")
    assert corpus.stat().st_size > 2 ** 17
    one = run("analyze.py", "classify", str(corpus), "--workers", "1")
    two = run("analyze.py", "classify", str(corpus), "--workers", "2")
    assert one.returncode == two.returncode == 2
    assert one.stdout == two.stdout and one.stderr == two.stderr
    assert two.stderr.decode().count("skipped") == 1 and "stories.jsonl: line 58: not a JSON object" in two.stderr.decode()
    classified = json_lines(one)
    paragraphs = json_lines(run("analyze.py", "paragraphs", str(corpus)))
    assert [(p["id"], p["article_index"]) for p in classified] == [(p["id"], p["article_index"]) for p in paragraphs]
    numbered = {int(re.match(r"第(\d+)条消息", p["text"])[1]): p["article_index"]
                for p in classified if "条消息" in p["text"]}
    assert numbered == {i: i for i in range(300) if i != 57}
