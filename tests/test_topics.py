"""Topics: reproducible LDA read against the themes (issue 4)."""
from __future__ import annotations

import json
import re

import numpy as np
from conftest import ROOT, json_lines, run, train_pages


def _topics(folder):
    return json.loads((folder / "topics.json").read_text(encoding="utf-8"))


def test_train_prints_the_k_curve_and_the_chosen_k(fresh_training):
    folder, printed = fresh_training
    rows = re.findall(r"^\s+(\d+)\s+(-?\d\.\d{3})\s+(-?\d+\.\d{3})\s+(\S+)\s+(\S+)$", printed, re.M)
    assert [int(r[0]) for r in rows] == list(range(4, 9))
    assert rows[0][3] == rows[1][3] == "–"  # five anchored themes need K > 5 for a seeded model
    chosen = int(re.search(r"^chosen: K = (\d+), unseeded", printed, re.M).group(1))
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    assert chosen == manifest["topics"]["k"] == _topics(folder)["k"]
    # the rule: the smallest K within 0.01 of the best c_npmi
    npmi = {r["k"]: r["unseeded"]["c_npmi"] for r in manifest["topics"]["curve"]}
    assert chosen == min(k for k, v in npmi.items() if v >= max(npmi.values()) - 0.01)
    assert all(r["seeded"] is None for r in manifest["topics"]["curve"])  # only the variant asked for is fitted


def test_topics_k_can_be_set_and_seeded_topics_are_anchored_to_the_themes(tmp_path, seed_pages):
    result = train_pages(seed_pages, tmp_path / "models", "--topics", "7", "--seeded")
    assert result.returncode == 0, result.stderr.decode()
    assert "chosen: K = 7, seeded (set by --topics)" in result.stdout.decode()
    model = _topics(tmp_path / "models")
    assert model["k"] == 7 and model["seeded"]
    assert [t["anchor"] for t in model["topics"]] == ["industry", "employment", "cadres", "environment", "finance",
                                                      None, None]
    # each anchored topic has its theme's typical words on top
    assert {"产业", "种植"} <= set(model["topics"][0]["words"])
    assert {"就业", "务工"} <= set(model["topics"][1]["words"])
    printed = run("analyze.py", "topics", "--models", str(tmp_path / "models")).stdout.decode()
    assert "topic 1 [产业发展]:" in printed and "topic 5 [金融与资金]:" in printed


def test_the_topics_command_prints_every_topic_with_size_coherence_and_themes(training_paragraphs):
    result = run("analyze.py", "topics")
    assert result.returncode == 0, result.stderr.decode()
    printed = result.stdout.decode()
    model = _topics(ROOT / "models")
    headers = re.findall(r"^topic (\d+)(?: \[(.+?)\])?: (\d+) paragraphs, c_npmi (-?\d\.\d{3})$", printed, re.M)
    assert [int(h[0]) for h in headers] == list(range(1, model["k"] + 1))
    # every distinct paragraph of the training corpus has one dominant topic
    assert sum(int(h[2]) for h in headers) == len({p["text"] for p in training_paragraphs})
    assert printed.count("  words: ") == printed.count("  themes: ") == model["k"]


def test_classify_adds_the_dominant_topic_unless_told_not_to():
    model = _topics(ROOT / "models")
    with_topics = json_lines(run("analyze.py", "classify", "seeds/"))
    for p in with_topics:
        assert 1 <= p["topic"] <= model["k"]
        assert p["topic_words"] == model["topics"][p["topic"] - 1]["words"][:5]
    sizes = [sum(p["topic"] == t["topic"] for p in {p["id"]: p for p in with_topics}.values())
             for t in model["topics"]]
    assert sizes == [t["size"] for t in model["topics"]]  # training and classify agree
    without = json_lines(run("analyze.py", "classify", "seeds/", "--no-topics"))
    assert not any("topic" in p for p in without)
    assert [p["theme"] for p in without] == [p["theme"] for p in with_topics]


def test_numpy_topic_inference_agrees_with_gensim():
    from scipy.special import digamma as scipy_digamma

    from countythemes.codebook import load_themes
    from countythemes.pipeline import iter_paragraphs
    from countythemes.topics import (
        BowCorpus,
        TopicScorer,
        TopicSearch,
        build_dictionary,
        digamma,
        export_topics,
        fit_lda,
        topic_tokens,
    )

    x = np.array([1e-3, 0.3, 1.0, 2.5, 5.99, 6.0, 17.0, 1e3, 1e6])
    assert np.max(np.abs(digamma(x) - scipy_digamma(x))) < 1e-10

    pages = sorted(str(page) for page in (ROOT / "seeds").glob("*.txt"))
    documents = [topic_tokens(p.text) for p in iter_paragraphs(pages, print)]
    dictionary = build_dictionary(documents, [])
    model = fit_lda(BowCorpus(dictionary, documents), dictionary, 6, seed=3)
    found = TopicSearch(curve=[], k=6, seeded=False, model=model, dictionary=dictionary,
                        coherence={"c_npmi": 0.0, "u_mass": 0.0, "c_npmi_per_topic": [0.0] * 6})
    scorer = TopicScorer(json.loads(json.dumps(export_topics(found, load_themes()))))
    differences, agree = [], 0
    for tokens in documents:
        gamma, _ = model.inference([dictionary.doc2bow(tokens)])
        expected = gamma[0] / gamma[0].sum()
        found_mixture = scorer.mixture(tokens)
        differences.append(np.max(np.abs(found_mixture - expected)))
        agree += np.argmax(found_mixture) == np.argmax(expected)
    # gensim starts each paragraph from a random point and may stop in another local optimum;
    # the numpy E-step starts from a fixed one. They reach the same answer almost always.
    assert np.median(differences) < 2e-3
    assert agree >= 0.95 * len(documents)
    # All paragraphs at once (as classify and train infer them) give what each gives alone;
    # a paragraph with no known word gets the uniform mixture.
    batch = documents + [[], ["没有", "这些", "词语"]]
    alone = np.vstack([scorer.mixture(tokens) for tokens in batch])
    assert np.max(np.abs(scorer.mixtures(batch) - alone)) < 1e-9
    assert np.allclose(alone[-2:], 1 / 6)


def test_topic_tokens_leave_out_places_and_who_reported_the_story():
    from countythemes.topics import topic_tokens

    tokens = topic_tokens("央视网消息（新闻联播）：本台记者在平顺县看到，合作社带动脱贫户种植中药材增收。")
    assert {"合作社", "脱贫户", "中药材", "增收"} <= set(tokens)
    assert not {"央视网", "新闻联播", "消息", "本台记者", "记者", "平顺县", "平顺"} & set(tokens)
