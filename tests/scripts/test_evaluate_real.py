"""``eval-scripts --real``: labels keyed by room and row with a text hash (no text in the repository), joined
with a rooms file at run time; top-1/top-3 and the shares of wrong-product and invented answers."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from livecs.scripts.commands import main
from livecs.scripts.evaluate import join_real, load_real_labels
from livecs.triage.rooms import text_hash

ROOT = Path(__file__).resolve().parents[2]
REAL_ROOMS = ROOT / "scripts_library" / "real_rooms"
ROOM = "美哒兔"
#: a tiny rooms file written for the test (not real comments)
QUESTIONS = [
    ("多少钱", ["price"], None),  # answered
    ("裙子多长", ["length"], [7]),  # about 7号 while 1号 is on air: the right product
    ("主播昨天去哪玩了", ["none"], None),  # nothing answers: the 无匹配话术 card
    ("卡码怎么拍", ["size_between"], None),
]


def _write(tmp_path: Path) -> tuple[Path, Path]:
    rooms = tmp_path / "rooms.csv"
    lines = ["platform,room,category,time,user_id,text,rec_label"]
    lines += [f"DY,{ROOM},服饰鞋履,2025/4/24 17:19,,{q},1" for q, _, _ in QUESTIONS]
    rooms.write_text("\n".join(lines) + "\n", encoding="utf-8")
    labels = tmp_path / "labels.jsonl"
    rows = []
    for i, (q, expected, product) in enumerate(QUESTIONS):
        obj = {"room": ROOM, "row": i, "text_sha1": text_hash(q), "expected": expected}
        if product:
            obj["product"] = product
        rows.append(json.dumps(obj, ensure_ascii=False))
    rows.append(json.dumps({"room": ROOM, "row": 0, "text_sha1": "000000000000", "expected": ["price"]}))
    rows.append(json.dumps({"room": ROOM, "row": 99, "text_sha1": "000000000000", "expected": ["price"]}))
    labels.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return rooms, labels


def test_join_checks_the_text_hash(tmp_path: Path) -> None:
    rooms, labels = _write(tmp_path)
    joined, skipped = join_real(load_real_labels(labels), rooms)
    assert [text for _, text in joined] == [q for q, _, _ in QUESTIONS]
    assert skipped == {"text_changed": 1, "row_not_in_file": 1}


def test_eval_real_reports_accuracy_wrong_product_and_invented(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rooms, labels = _write(tmp_path)
    room_dir = tmp_path / "meidatu"
    room_dir.mkdir()
    (room_dir / "library.yaml").write_bytes((REAL_ROOMS / "meidatu" / "library.yaml").read_bytes())
    (room_dir / "labels.jsonl").write_bytes(labels.read_bytes())
    code = main(
        ["eval-scripts", "--real", str(room_dir), "--rooms", str(rooms), "--triage", "keyword", "--json"]
    )
    assert code == 0
    [row] = json.loads(capsys.readouterr().out)
    assert row["n"] == 4 and row["skipped"] == {"text_changed": 1, "row_not_in_file": 1}
    assert row["top1"] == 1.0 and row["wrong_product"] == 0.0 and row["invented"] == 0.0


def test_each_labels_file_is_reported_on_its_own(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """labels.jsonl (written against), labels_r2.jsonl and heldout.jsonl: one row each, never pooled — the
    held-out figures must not be diluted by the questions the library was written against."""
    rooms, labels = _write(tmp_path)
    room_dir = tmp_path / "meidatu"
    room_dir.mkdir()
    (room_dir / "library.yaml").write_bytes((REAL_ROOMS / "meidatu" / "library.yaml").read_bytes())
    (room_dir / "labels.jsonl").write_bytes(labels.read_bytes())
    wrong = json.dumps({"room": ROOM, "row": 0, "text_sha1": text_hash("多少钱"), "expected": ["length"]})
    (room_dir / "heldout.jsonl").write_text(wrong + "\n", encoding="utf-8")
    code = main(
        ["eval-scripts", "--real", str(room_dir), "--rooms", str(rooms), "--triage", "keyword", "--json"]
    )
    assert code == 0
    rows = json.loads(capsys.readouterr().out)
    assert [r["labels"] for r in rows] == ["labels.jsonl", "heldout.jsonl"]  # no labels_r2.jsonl here
    assert rows[0]["top1"] == 1.0
    assert rows[1]["n"] == 1 and rows[1]["top1"] == 0.0


def test_repository_labels_carry_no_comment_text() -> None:
    for labels in [*REAL_ROOMS.glob("*/labels*.jsonl"), *REAL_ROOMS.glob("*/heldout.jsonl")]:
        lines = [json.loads(x) for x in labels.read_text(encoding="utf-8").splitlines() if x.strip()]
        assert len(lines) >= 170
        for obj in lines:
            assert set(obj) <= {"room", "row", "text_sha1", "expected", "product", "on_air"}
            assert len(obj["text_sha1"]) == 12 and obj["expected"]
