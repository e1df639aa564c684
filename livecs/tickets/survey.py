"""Satisfaction survey results (满意度调查) imported from a CSV into a broadcast's record.

``python run.py survey FILE --session SESSION|latest [--db PATH]`` reads a CSV (UTF-8, with or without
BOM) with a header row: the viewer (``user_id`` / ``用户ID`` / ``观众ID``), and either ``satisfied`` /
``满意`` / ``是否满意`` (是/否, 满意/不满意, yes/no, true/false, 1/0) or ``score`` / ``评分`` (1–5; 4 and 5
are satisfied); optionally ``comment`` / ``评价`` and ``ts`` / ``时间`` (epoch seconds or
``YYYY-MM-DD HH:MM[:SS]``). Each good row becomes a ``survey`` event (``data``: ``satisfied``, ``score``,
``comment``, ``source``); a bad row is counted with its line and reason, never a crash. Importing the same
file twice adds nothing (the event id is derived from the file's row). A platform cannot send ``survey``
events (refused at ingest).
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import io
import sys
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import orjson

from livecs.review.commands import add_record_options, record_path

SURVEY_KIND = "survey"
MAX_BYTES = 20 * 1024 * 1024
MAX_ROWS = 200_000
MAX_COMMENT = 500
SATISFIED_SCORE = 4
SCORE_MIN, SCORE_MAX = 1, 5
EXIT_ERROR = 2
USER_COLS = ("user_id", "用户id", "观众id", "uid", "用户")
SATISFIED_COLS = ("satisfied", "满意", "是否满意")
SCORE_COLS = ("score", "评分", "分数")
COMMENT_COLS = ("comment", "评价", "备注")
TS_COLS = ("ts", "时间", "time")
YES = {"是", "满意", "yes", "y", "true", "1", "好评"}
NO = {"否", "不满意", "no", "n", "false", "0", "差评"}


@dataclass
class SurveyRow:
    line: int
    user_id: str
    satisfied: bool
    score: int | None
    comment: str
    ts: float | None


@dataclass
class SurveyParse:
    rows: list[SurveyRow] = field(default_factory=list)
    errors: list[tuple[int, str]] = field(default_factory=list)  # (line, reason)


def _col(header: list[str], names: tuple[str, ...]) -> int | None:
    norm = [h.strip().lower() for h in header]
    return next((norm.index(n) for n in names if n in norm), None)


def _ts(value: str) -> float:
    value = value.strip()
    try:
        return float(value)
    except ValueError:
        pass
    for fmt in ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y/%m/%d %H:%M:%S", "%Y/%m/%d %H:%M"):
        try:
            return datetime.strptime(value, fmt).timestamp()
        except ValueError:
            continue
    raise ValueError(f"时间格式无法识别：{value[:30]}")


def parse_survey(data: bytes) -> SurveyParse:
    """CSV bytes → rows and per-line errors. Raises ``ValueError`` only for a file that cannot be read at
    all (too big, not UTF-8, no header, no viewer column, neither satisfied nor score)."""
    if len(data) > MAX_BYTES:
        raise ValueError(f"文件过大（最多 {MAX_BYTES // 1024 // 1024} MB）")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ValueError("文件不是 UTF-8 编码（请在 Excel 中另存为“CSV UTF-8”）") from None
    reader = csv.reader(io.StringIO(text))
    header = next(reader, None)
    if not header:
        raise ValueError("文件为空或没有表头")
    c_user, c_sat, c_score = _col(header, USER_COLS), _col(header, SATISFIED_COLS), _col(header, SCORE_COLS)
    c_comment, c_ts = _col(header, COMMENT_COLS), _col(header, TS_COLS)
    if c_user is None:
        raise ValueError("缺少观众列（user_id / 用户ID）")
    if c_sat is None and c_score is None:
        raise ValueError("缺少满意度列（satisfied / 满意 或 score / 评分）")
    out = SurveyParse()
    for n, rec in enumerate(reader, start=2):
        if len(out.rows) + len(out.errors) >= MAX_ROWS:
            out.errors.append((n, f"超过 {MAX_ROWS} 行，其余未导入"))
            break
        if not any(cell.strip() for cell in rec):
            continue

        def cell(i: int | None, rec: list[str] = rec) -> str:
            return rec[i].strip() if i is not None and i < len(rec) else ""

        user = cell(c_user)
        if not user:
            out.errors.append((n, "观众为空"))
            continue
        score: int | None = None
        satisfied: bool | None = None
        raw_sat = cell(c_sat).lower()
        if raw_sat:
            if raw_sat in YES:
                satisfied = True
            elif raw_sat in NO:
                satisfied = False
            else:
                out.errors.append((n, f"满意度无法识别：{raw_sat[:20]}"))
                continue
        raw_score = cell(c_score)
        if raw_score:
            try:
                score = int(float(raw_score))
            except ValueError:
                out.errors.append((n, f"评分不是数字：{raw_score[:20]}"))
                continue
            if not SCORE_MIN <= score <= SCORE_MAX:
                out.errors.append((n, f"评分应在 {SCORE_MIN}–{SCORE_MAX}：{score}"))
                continue
            if satisfied is None:
                satisfied = score >= SATISFIED_SCORE
        if satisfied is None:
            out.errors.append((n, "没有满意度或评分"))
            continue
        ts: float | None = None
        if cell(c_ts):
            try:
                ts = _ts(cell(c_ts))
            except ValueError as exc:
                out.errors.append((n, str(exc)))
                continue
        out.rows.append(SurveyRow(n, user[:128], satisfied, score, cell(c_comment)[:MAX_COMMENT], ts))
    return out


def import_survey(db: str | Path, session: str, path: str | Path) -> tuple[str, int, SurveyParse]:
    """Write the survey rows of ``path`` as ``survey`` events of ``session`` (or ``latest``) in the record at
    ``db``; returns (session id, events added, the parse)."""
    from livecs.review.queries import ReviewError, open_db, resolve_session

    p = Path(path)
    data = p.read_bytes()
    parsed = parse_survey(data)
    digest = hashlib.sha256(data).hexdigest()[:16]
    conn = open_db(db)
    try:
        meta = resolve_session(conn, session)
        now = time.time()
        rows = [
            (
                meta.session_id,
                f"survey-{digest}-{r.line}",
                SURVEY_KIND,
                "survey",
                meta.room,
                r.user_id,
                "",
                0,
                r.ts if r.ts is not None else (meta.ended_at or now),
                orjson.dumps(
                    {"satisfied": r.satisfied, "score": r.score, "comment": r.comment, "source": p.name}
                ).decode(),
            )
            for r in parsed.rows
        ]
        before = conn.total_changes
        with conn:
            conn.executemany("INSERT OR IGNORE INTO events VALUES (?,?,?,?,?,?,?,?,?,?)", rows)
        added = conn.total_changes - before
    except ReviewError:
        raise
    finally:
        conn.close()
    return meta.session_id, added, parsed


def register(sub: Any) -> None:
    p = sub.add_parser(
        "survey",
        help="import satisfaction survey results (CSV) into a recorded broadcast",
        description=(__doc__ or "").split("\n\n")[1] if __doc__ else None,
    )
    p.add_argument("file", help="CSV with user_id/用户ID and satisfied/满意 or score/评分")
    p.add_argument("--session", default="latest", help="session id, or 'latest' (default)")
    add_record_options(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from livecs.review.queries import ReviewError

    db = record_path(args)
    try:
        sid, added, parsed = import_survey(db, args.session, args.file)
    except (ValueError, OSError, ReviewError) as exc:
        print(f"survey: {exc}", file=sys.stderr)
        return EXIT_ERROR
    good = sum(r.satisfied for r in parsed.rows)
    print(
        f"session {sid}: {added} survey results added ({len(parsed.rows)} read, {good} satisfied), "
        f"{len(parsed.errors)} rows refused"
    )
    for line, reason in parsed.errors[:20]:
        print(f"  line {line}: {reason}")
    return 0 if not parsed.errors else 1
