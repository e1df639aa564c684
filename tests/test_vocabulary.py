"""One vocabulary: every code has its Chinese label, the browser gets the same tables, and no module
defines the shared sets again."""

from __future__ import annotations

import json
import re
from pathlib import Path

from livecs.models import ActionKind, Emotion, EventKind, Intent, Priority, Sentiment
from livecs.vocabulary import (
    ACTION_ZH,
    CLUSTER_CARD_INTENTS,
    EMOTION_ZH,
    EVENT_ZH,
    INTENT_ZH,
    ITEM_STATUS_ZH,
    PRIORITY_ZH,
    QUESTION_INTENT_ORDER,
    QUESTION_INTENTS,
    SENTIMENT_ZH,
    ItemStatus,
    browser_script,
    browser_vocabulary,
)

ROOT = Path(__file__).resolve().parents[1]


def test_every_code_has_a_chinese_label() -> None:
    assert set(INTENT_ZH) == set(Intent)
    assert set(SENTIMENT_ZH) == set(Sentiment)
    assert set(EMOTION_ZH) == {e for e in Emotion if e}
    assert set(PRIORITY_ZH) == set(Priority)
    assert set(ACTION_ZH) == set(ActionKind)
    assert set(EVENT_ZH) == set(EventKind)
    assert set(ITEM_STATUS_ZH) == set(ItemStatus)


def test_question_intents_are_the_six_of_the_taxonomy_and_cards_add_complaints() -> None:
    assert len(QUESTION_INTENT_ORDER) == 6 and QUESTION_INTENTS == frozenset(QUESTION_INTENT_ORDER)
    assert Intent.COMPLAINT not in QUESTION_INTENTS
    assert CLUSTER_CARD_INTENTS == QUESTION_INTENTS | {Intent.COMPLAINT}


def test_the_browser_gets_the_same_tables() -> None:
    vocab = browser_vocabulary()
    assert vocab["intent"]["chitchat"] == INTENT_ZH[Intent.CHITCHAT]
    assert vocab["action"]["ban"] == ACTION_ZH[ActionKind.BAN]
    script = browser_script()
    payload = re.search(r"Object\.freeze\((.*)\);", script, re.S)
    assert payload is not None
    assert json.loads(payload.group(1)) == json.loads(json.dumps(vocab, sort_keys=True))


def test_shared_sets_and_topics_are_defined_once() -> None:
    """Each vocabulary item is defined once (what the issue checks with ``git grep``)."""
    defs = {
        r"^\s*_?QUESTION_INTENTS\s*[:=]": 1,
        r"^\s*[A-Z_]*TOPIC\s*=\s*\"results\"": 1,
        r"^\s*[A-Z_]*TOPIC\s*=\s*\"comments\"": 1,
        r"^\s*INTENT_(ZH|CHINESE)\s*[:=]": 1,
        r"^\s*[A-Z_]*STATUS_ZH\s*[:=]": 2,  # item statuses and ticket statuses
    }
    sources = {
        p.relative_to(ROOT).as_posix(): p.read_text(encoding="utf-8") for p in (ROOT / "livecs").rglob("*.py")
    }
    for pattern, count in defs.items():
        where = [
            name for name, text in sources.items() for line in text.splitlines() if re.search(pattern, line)
        ]
        assert len(where) == count, (pattern, where)
        assert set(where) <= {"livecs/vocabulary.py", "livecs/keys.py"}, (pattern, where)


def test_no_page_script_carries_its_own_label_table() -> None:
    static = ROOT / "livecs" / "console" / "static"
    for js in static.glob("*.js"):
        text = js.read_text(encoding="utf-8")
        for label in ("商品咨询", "P0 紧急", "待处理", "粉丝团"):
            assert label not in text, (js.name, label)
