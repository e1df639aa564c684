"""Training helpers: per-head settings, the cross-validation metrics and objective, cue features."""

from __future__ import annotations

from livecs.triage.examples import LabelledExample
from livecs.triage.features import text_features
from livecs.triage.lexicon import LexiconHits
from livecs.triage.train import TrainSettings, _with, metrics, objective


def test_per_head_l2_falls_back_to_the_shared_value() -> None:
    settings = TrainSettings(l2=1e-4, l2_emotion=1e-3)
    assert _with(settings, settings.l2_emotion).l2 == 1e-3
    assert _with(settings, settings.l2_intent).l2 == 1e-4


def test_metrics_and_objective() -> None:
    rows = [
        LabelledExample("a", "complaint", "neg", "angry"),
        LabelledExample("b", "spam", "neu"),
        LabelledExample("c", "product", "neu"),
        LabelledExample("d", "chitchat", "neg", "disappointed"),
    ]
    preds = [
        ("complaint", "neg", "angry"),
        ("spam", "neu", ""),
        ("product", "neu", ""),
        ("chitchat", "neg", ""),
    ]
    m = metrics(rows, preds)
    assert m["intent_f1"] == 1.0 and m["sentiment"] == 1.0 and m["emotion"] == 0.5
    assert m["spam_p"] == m["spam_r"] == m["complaint_r"] == 1.0
    assert objective(m) == 0.9


def test_cue_tags() -> None:
    feats = set(text_features("等了好久还没到 急", LexiconHits()))
    assert {"#wait", "#urgent", "#negation"} <= feats
    assert "#unable" in set(text_features("付款一直失败 怎么回事", LexiconHits()))
    assert "#letdown" in set(text_features("又没抽中", LexiconHits()))
    assert "#ignored" in set(text_features("问了半天没人理", LexiconHits()))


def test_cross_validate_runs_on_a_small_set() -> None:
    from livecs.triage.examples import load_hand_examples
    from livecs.triage.features import INTENT_FEATURE_PREFIX
    from livecs.triage.model import INTENT_LABELS
    from livecs.triage.train import PreparedData, cross_validate, format_cv

    examples = load_hand_examples()[::40]
    feats = [text_features(e.text, LexiconHits()) for e in examples]
    vocabulary: dict[str, int] = {}
    for fs in feats:
        for f in fs:
            vocabulary.setdefault(f, len(vocabulary))
    for label in INTENT_LABELS:
        vocabulary.setdefault(INTENT_FEATURE_PREFIX + label, len(vocabulary))
    data = PreparedData(examples, feats, [], vocabulary, lambda t: text_features(t, LexiconHits()))
    validation = [
        LabelledExample("骗子 还不发货", "complaint", "neg", "angry"),
        LabelledExample("有S码吗", "product", "neu"),
    ]
    settings = TrainSettings(reviews_dir=None, epochs=5)
    result = cross_validate(
        settings, k=3, validation=validation, data=data, log=lambda _m: None,
        emotion_variants={"emo": TrainSettings(reviews_dir=None, epochs=5, l2_emotion=1e-3)},
    )  # fmt: skip
    assert set(result) == {"base", "emo"}
    assert result["base"]["hand"]["n"] == len(examples) and result["base"]["tune"]["n"] == 2
    assert 0.0 <= result["emo"]["objective_hand"] <= 1.0
    assert "base" in format_cv(result)
