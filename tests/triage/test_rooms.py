"""eval-rooms: real rooms replayed in context, labels joined by room and row, the operator's measures."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from livecs.cli import main
from livecs.models import Comment, Intent, Priority, Sentiment, Triage
from livecs.triage.rooms import (
    Label,
    evaluate_rooms,
    read_labels,
    read_rooms,
    text_hash,
    wilson,
)

ROOMS_CSV = """platform,room,category,time,user_id,text,rec_label
DY,甲店,服饰,2025/4/24 17:19,,有S码吗,1
DY,甲店,服饰,2025/4/24 17:19,,骗子 三天了还不发货,0
DY,甲店,服饰,2025/4/24 17:20,u9,哈哈哈哈,0
KS,乙店,食品,2025/4/25 10:00,,加微信abc12345领福利,0
KS,乙店,食品,2025/4/25 10:00,,多少钱,1
KS,乙店,食品,2025/4/25 10:01,,主播好美,0
"""


@pytest.fixture
def rooms_file(tmp_path: Path) -> Path:
    path = tmp_path / "rooms.csv"
    path.write_text(ROOMS_CSV, encoding="utf-8")
    return path


def _label(room: str, row: int, intent: str, sentiment: str = "neu", emotion: str = "", **extra: Any) -> str:
    return json.dumps({"room": room, "row": row, "intent": intent, "sentiment": sentiment,
                       "emotion": emotion, "sample": "random", **extra}, ensure_ascii=False)  # fmt: skip


def test_read_rooms_spreads_a_minute_and_keeps_rows(rooms_file: Path) -> None:
    rows = read_rooms(rooms_file)
    assert [r.row for r in rows] == [0, 1, 2, 3, 4, 5]
    first, second = rows[0], rows[1]
    assert first.room == "甲店" and first.platform == "DY" and first.user_id == ""
    # two comments of 17:19 (UTC+8) are spread over that minute, in file order
    assert second.ts - first.ts == pytest.approx(30.0)
    assert 1745486340.0 <= first.ts < 1745486400.0


def test_labels_join_by_room_row_and_text_hash(rooms_file: Path, tmp_path: Path) -> None:
    rows = read_rooms(rooms_file)
    labels = tmp_path / "labels.jsonl"
    labels.write_text(
        "\n".join([
            _label("甲店", 0, "product", text_sha1=text_hash("有S码吗")),
            _label("甲店", 1, "complaint", "neg", "angry", text_sha1="000000000000"),  # wrong hash
            _label("乙店", 1, "product"),  # row 1 is not 乙店's
            _label("乙店", 4, "price_promo", text="多少钱"),
        ]) + "\n", encoding="utf-8",
    )  # fmt: skip
    joined, skipped = read_labels([labels], rows)
    assert set(joined) == {("甲店", 0), ("乙店", 4)}
    assert skipped == {"text_hash_mismatch": 1, "row_not_in_file": 1}


def test_measures_count_alarms_and_moderation_with_intervals(rooms_file: Path) -> None:
    rows = read_rooms(rooms_file)

    def process(comment: Comment, now: float) -> Triage:
        # a stub engine: the second comment is a P0, the fourth goes to moderation, the rest P3 chit-chat
        row = int(comment.comment_id.split("#")[1])
        level = {1: Priority.P0, 3: Priority.MOD, 5: Priority.P0}.get(row, Priority.P3)
        intent = {1: Intent.COMPLAINT, 3: Intent.SPAM, 5: Intent.COMPLAINT}.get(row, Intent.CHITCHAT)
        return Triage(comment_id=comment.comment_id, room=comment.room, normalized=comment.text,
                      intent=intent, intent_confidence=1.0, sentiment=Sentiment.NEU, sentiment_score=0.5,
                      priority=level)  # fmt: skip

    labels = {
        ("甲店", 0): Label("product", "neu", ""),
        ("甲店", 1): Label("complaint", "neg", "angry"),
        ("甲店", 2): Label("chitchat", "pos", ""),
        ("乙店", 3): Label("spam", "neu", ""),
        ("乙店", 4): Label("price_promo", "neu", ""),
        ("乙店", 5): Label("chitchat", "pos", ""),  # a false alarm
    }
    result = evaluate_rooms(rows, process, labels)
    assert result["overall"]["comments"] == 6
    assert result["overall"]["p0_per_1000"] == pytest.approx(1000 * 2 / 6, abs=0.01)
    assert result["rooms"]["乙店"]["mod_per_1000"] == pytest.approx(1000 / 3, abs=0.01)
    lab = result["labelled"]
    assert lab["p0_precision"]["hits"] == 1 and lab["p0_precision"]["n"] == 2
    assert lab["p0_recall"]["value"] == 1.0
    assert lab["false_p0_per_1000_calm"]["value"] == pytest.approx(200.0)  # 1 of 5 calm comments
    assert lab["moderation_precision"]["value"] == 1.0 and lab["spam_recall"]["value"] == 1.0
    assert lab["intent_accuracy_random"]["hits"] == 3  # rows 1, 2, 3 (0 and 4 said chit-chat, 5 complaint)
    low, high = lab["p0_precision"]["ci95"]
    assert 0.0 < low < 0.5 < high < 1.0
    assert [f["row"] for f in result["worst_false_alarms"]] == [5]


def test_wilson_interval() -> None:
    low, high = wilson(9, 86)
    assert low == pytest.approx(0.056, abs=0.002) and high == pytest.approx(0.187, abs=0.002)
    assert wilson(0, 0) == (0.0, 1.0)


def test_eval_rooms_command_end_to_end(
    rooms_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    labels = tmp_path / "labels.jsonl"
    labels.write_text(
        _label("甲店", 1, "complaint", "neg", "angry") + "\n" + _label("乙店", 3, "spam") + "\n"
    )
    assert main(["eval-rooms", str(rooms_file), "--labels", str(labels), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["overall"]["comments"] == 6 and set(out["rooms"]) == {"甲店", "乙店"}
    assert out["labelled"]["p0_recall"]["hits"] == 1  # the real engine: 骗子 三天了还不发货 is P0
    assert out["labelled"]["spam_recall"]["hits"] == 1  # and the 加微信 line goes to moderation
    assert main(["eval-rooms", str(rooms_file), "--rooms", "乙店"]) == 0
    text = capsys.readouterr().out
    assert "乙店" in text and "甲店" not in text
    assert main(["eval-rooms", str(tmp_path / "missing.csv")]) == 2


def test_eval_rooms_reads_wire_jsonl(tmp_path: Path) -> None:
    path = tmp_path / "room.jsonl"
    path.write_text(
        "\n".join(json.dumps({"id": f"m{i}", "room": "r", "user_id": f"u{i}", "text": t, "ts": 1000.0 + i},
                             ensure_ascii=False) for i, t in enumerate(["有S码吗", "多少钱", "主播好美"]))
        + "\nnot json\n", encoding="utf-8",
    )  # fmt: skip
    rows = read_rooms(path)
    assert [r.text for r in rows] == ["有S码吗", "多少钱", "主播好美"]
    assert [r.row for r in rows] == [0, 1, 2]
