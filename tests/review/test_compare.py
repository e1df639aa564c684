"""The review's comparison with another broadcast: the same room's previous one by default, an explicit one,
or none; each headline figure against that session's own report."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from livecs.cli import main as cli_main
from livecs.review import build_review
from tests.review.session_db import synthesize

from .test_review import _card

DAY = 86_400.0
START = 1_716_033_600.0


@pytest.fixture(scope="module")
def three_sessions(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[str]]:
    db = tmp_path_factory.mktemp("compare") / "rec.db"
    ids = []
    for i, (room, n) in enumerate((("shop", 600), ("other", 300), ("shop", 900))):
        comp = synthesize(db, n, seed=20 + i, duration_s=1800, start_ts=START + i * DAY, room=room)
        ids.append(comp.session_id)
    return db, ids


def _rows(html: str) -> dict[str, tuple[str, str, str]]:
    table = html.split('id="compare-table"', 1)[1].split("</table>", 1)[0]
    return {
        label: (mine, theirs, change)
        for label, mine, theirs, change in re.findall(
            r"<tr><td>([^<]+)</td>" + r'<td class="n">([^<]*)</td>' * 3,
            table,
        )
    }


def _html(res) -> str:  # type: ignore[no-untyped-def]
    return res.report.read_text(encoding="utf-8")


def test_default_compares_with_the_rooms_previous_broadcast(three_sessions, tmp_path: Path) -> None:
    db, (first, _other, last) = three_sessions
    mine = _html(build_review(db, last, tmp_path / "last", "html"))
    theirs = _html(build_review(db, first, tmp_path / "first", "html", compare=None))
    assert f"对比场次 {first}" in mine  # same room (not the other room's session in between)
    rows = _rows(mine)
    assert rows["评论数"][:2] == ("900", "600") and rows["评论数"][2] == "+300（+50%）"
    for label, card in (
        ("独立观众（评论人数）", "summary-viewers"),
        ("已付款订单", "summary-orders"),
        ("发券", "summary-coupons"),
        ("投诉", "summary-complaints"),
        ("成交额", "summary-gmv"),
        ("互动率", "summary-interaction"),
        ("转化率", "summary-conversion"),
        ("新增关注", "summary-follows"),
        ("观看人数", "summary-audience"),
    ):
        assert rows[label][0] == _card(mine, card), label
        assert rows[label][1] == _card(theirs, card), label
    for html, col in ((mine, 0), (theirs, 1)):
        m = re.match(r"\d+%（(\d+)/(\d+)）", _card(html, "summary-resolution"))
        assert m
        assert rows["问题解决率"][col] == f"{100 * int(m.group(1)) / int(m.group(2)):.1f}%"
    assert "个百分点" in rows["转化率"][2]
    assert "与上一场对比" not in theirs  # compare=None, and no earlier broadcast anyway


def test_first_broadcast_has_nothing_to_compare(three_sessions, tmp_path: Path) -> None:
    db, (first, _, _) = three_sessions
    assert "与上一场对比" not in _html(build_review(db, first, tmp_path / "a", "html"))


def test_explicit_session_and_self(
    three_sessions, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db, (_, other, last) = three_sessions
    html = _html(build_review(db, last, tmp_path / "b", "html", compare=other))
    assert f"对比场次 {other}" in html and "直播间 other" in html
    same = _rows(_html(build_review(db, last, tmp_path / "c", "html", compare=last)))
    assert all(
        change in ("+0（+0%）", "+0.0 个百分点", "+0 秒（+0%）", "+0.00（+0%）", "–")
        for *_, change in same.values()
    )
    assert (
        cli_main(
            [
                "review",
                last,
                "--db",
                str(db),
                "--out",
                str(tmp_path / "d"),
                "--format",
                "html",
                "--quiet",
                "--compare",
                "none",
            ]
        )
        == 0
    )
    assert "与上一场对比" not in (tmp_path / "d" / "report.html").read_text(encoding="utf-8")
    assert (
        cli_main(
            [
                "review",
                last,
                "--db",
                str(db),
                "--out",
                str(tmp_path / "e"),
                "--format",
                "html",
                "--quiet",
                "--compare",
                "nope",
            ]
        )
        == 2
    )
    assert "no session 'nope'" in capsys.readouterr().err
