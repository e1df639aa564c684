"""Survey results imported from a CSV: parsed with per-line errors, written once as ``survey`` events, and
counted in the review's 满意度."""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path

import pytest

from livecs.cli import main as cli_main
from livecs.review import build_review
from livecs.tickets.survey import parse_survey
from tests.review.session_db import synthesize

CSV = (
    "用户ID,满意,评分,评价,时间\n"
    "uid00000001,是,,发货很快,2024-05-18 21:10\n"
    "uid00000002,,5,,\n"
    "uid00000003,,2,质量一般,\n"
    "uid00000004,不满意,,,\n"
    ",是,,,\n"
    "uid00000005,也许,,,\n"
    "uid00000006,,9,,\n"
    "uid00000007,,,,\n"
    "\n"
)


def test_parse_counts_every_bad_line() -> None:
    p = parse_survey(("\ufeff" + CSV).encode("utf-8"))
    assert [(r.user_id, r.satisfied, r.score) for r in p.rows] == [
        ("uid00000001", True, None),
        ("uid00000002", True, 5),
        ("uid00000003", False, 2),
        ("uid00000004", False, None),
    ]
    assert p.rows[0].comment == "发货很快" and p.rows[0].ts is not None
    assert [line for line, _ in p.errors] == [6, 7, 8, 9]
    for bad, msg in (
        (b"", "空"),
        (b"a,b\n1,2\n", "观众"),
        (b"user_id\nu1\n", "满意度"),
        ("用户ID,满意\n".encode("gbk"), "UTF-8"),
    ):
        with pytest.raises(ValueError, match=msg):
            parse_survey(bad)


def test_import_once_and_counted_in_the_review(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "rec.db"
    comp = synthesize(db, 500, seed=3, duration_s=600, start_ts=1_716_033_600.0, room="shop")
    f = tmp_path / "survey.csv"
    f.write_text(CSV, encoding="utf-8-sig")
    assert cli_main(["survey", str(f), "--db", str(db)]) == 1  # refused lines: exit 1, the rest imported
    out = capsys.readouterr().out
    assert "4 survey results added" in out and "4 rows refused" in out and "line 7: 满意度无法识别" in out
    assert cli_main(["survey", str(f), "--db", str(db), "--session", comp.session_id]) == 1
    assert "0 survey results added" in capsys.readouterr().out  # the same file twice adds nothing
    conn = sqlite3.connect(db)
    assert conn.execute("SELECT COUNT(*) FROM events WHERE kind='survey'").fetchone()[0] == 4
    conn.close()
    assert cli_main(["survey", str(tmp_path / "missing.csv"), "--db", str(db)]) == 2
    res = build_review(db, "latest", tmp_path / "review", "html")
    html = res.report.read_text(encoding="utf-8") if res.report else ""
    assert "问卷 50%（2/4）" in html
    m = re.search(r'id="summary-satisfaction"><div class="v">(\d+)%（([\d,]+)/([\d,]+)）', html)
    assert m and int(m.group(3)) == comp.satisfaction_marked + 4
    assert int(m.group(2)) == comp.satisfied + 2
