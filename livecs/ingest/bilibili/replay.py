"""Replay recorded Bilibili danmaku (CSV ``delta_s,time,date,text,user``) at recorded pace, N× or flat out.

The layout is the one of ``shared/data/real/bilibili_room11365_danmaku.csv``: ``delta_s`` seconds since the
recording started (monotonic, two decimals), ``time`` ``HH:MM:SS`` and ``date`` ``YYYY.MM.DD`` wall clock
in China time (UTC+8), ``text`` the danmaku, ``user`` a (pseudonymised) user id. Columns may come in any
order; others are ignored. UTF-8 with or without a BOM.

Each row becomes a :class:`Comment` (platform ``bilibili``): ``ts`` is the wall clock second plus the
fraction of ``delta_s`` (kept non-decreasing and inside its second), so rows of one second keep their
order; the id is a stable hash of row number, user and wall time (the same file replayed gives the same
ids; loop passes ≥ 2 add ``#k`` and shift ``ts`` past the previous pass, as :mod:`livecs.ingest.replay`
does). The room is ``room`` when given, else ``room<digits>`` in the file name, else ``bilibili``.

Pacing follows ``delta_s`` (``ts`` when a row has none), see :mod:`livecs.ingest.pacing`: a row is
submitted ``(delta - first) / speed`` seconds after the start; rows due within
:data:`~livecs.ingest.pacing.BATCH_WINDOW_S` go to ``sink.submit_records`` together.
Rows that cannot be read (wrong field count, bad date or time, invalid UTF-8) are counted through
``sink.reject("malformed_csv")`` and the replay goes on. The file is read on a worker thread in chunks.
"""

from __future__ import annotations

import csv
import logging
import math
import re
from collections.abc import Generator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Final, Unpack

from livecs.ingest.base import IngestSink
from livecs.ingest.bilibili.messages import PLATFORM
from livecs.ingest.message_parser import stable_id
from livecs.ingest.pacing import LOOP_GAP_S
from livecs.ingest.replay import ReplayFormatError
from livecs.ingest.replay_base import ReplayOptions, ReplaySourceBase, Span, Taken
from livecs.models import Comment

log = logging.getLogger("livecs.ingest.bilibili.replay")

FORMAT_NAME: Final = "bilibili-csv"
SOURCE_NAME: Final = "bilibili-csv"
COLUMNS: Final = ("delta_s", "time", "date", "text", "user")
#: the recording's wall clock is China Standard Time
RECORDING_TZ: Final = timezone(timedelta(hours=8), "Asia/Shanghai")
DATE_FORMAT: Final = "%Y.%m.%d"
TIME_FORMAT: Final = "%H:%M:%S"
#: the largest sub-second offset given to a row (it stays inside its wall-clock second)
MAX_SUBSECOND: Final = 0.999
#: rows read from the file per trip to the reader thread
READ_CHUNK_ROWS: Final = 2000
#: room taken from a file name like ``bilibili_room11365_danmaku.csv``
ROOM_IN_NAME: Final = re.compile(r"room[_-]?(\d+)", re.IGNORECASE)
DEFAULT_ROOM: Final = "bilibili"
_UTF8_BOM: Final = "\ufeff"


@dataclass(slots=True)
class Row:
    """A readable row: when it is due (recording clock), its wall time and fields."""

    line: int
    pace: float  # recording clock: delta_s, else ts
    ts: float
    text: str
    user: str
    clock: str  # "date time" as written, for the id


@dataclass(slots=True)
class BadRow:
    line: int
    detail: str


def room_from_name(path: Path) -> str:
    m = ROOM_IN_NAME.search(path.stem)
    return m.group(1) if m else DEFAULT_ROOM


class _Reader:
    """Parses rows on the reader thread; keeps the state that makes ``ts`` non-decreasing."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._clock_cache: dict[tuple[str, str], float] = {}
        self._last_ts = -math.inf

    def rows(self) -> Generator[Row | BadRow, None, None]:
        with self.path.open("r", encoding="utf-8", errors="surrogateescape", newline="") as fh:
            reader = csv.reader(fh)
            try:
                header = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                raise ReplayFormatError(f"{self.path}: unreadable CSV header: {exc}") from None
            names = [h.strip().lstrip(_UTF8_BOM).strip().lower() for h in header]
            missing = [c for c in COLUMNS if c not in names]
            if missing:
                raise ReplayFormatError(
                    f"{self.path}: not a {FORMAT_NAME} file: missing column(s) {', '.join(missing)} "
                    f"(expected {','.join(COLUMNS)})"
                )
            index = {c: names.index(c) for c in COLUMNS}
            width = len(names)
            while True:
                try:
                    fields = next(reader)
                except StopIteration:
                    return
                except csv.Error as exc:
                    yield BadRow(reader.line_num, str(exc))
                    continue
                if not fields or (len(fields) == 1 and not fields[0].strip()):
                    continue  # a blank line
                yield self._row(reader.line_num, fields, index, width)

    def _row(self, line: int, fields: list[str], index: dict[str, int], width: int) -> Row | BadRow:
        if len(fields) != width:
            return BadRow(line, f"{len(fields)} fields, header has {width}")
        if any("\udc80" <= ch <= "\udcff" for f in fields for ch in f):
            return BadRow(line, "invalid UTF-8")
        date, clock = fields[index["date"]].strip(), fields[index["time"]].strip()
        key = (date, clock)
        second = self._clock_cache.get(key)
        if second is None:
            try:
                when = datetime.strptime(f"{date} {clock}", f"{DATE_FORMAT} {TIME_FORMAT}")
            except ValueError:
                return BadRow(line, f"bad date/time {date!r} {clock!r}")
            second = when.replace(tzinfo=RECORDING_TZ).astimezone(UTC).timestamp()
            self._clock_cache[key] = second
        raw_delta = fields[index["delta_s"]].strip()
        try:
            delta: float | None = float(raw_delta) if raw_delta else None
        except ValueError:
            return BadRow(line, f"bad delta_s {raw_delta!r}")
        if delta is not None and not math.isfinite(delta):
            return BadRow(line, f"bad delta_s {raw_delta!r}")
        sub = min(delta % 1.0, MAX_SUBSECOND) if delta is not None else 0.0
        ts = min(max(second + sub, self._last_ts), second + MAX_SUBSECOND)
        ts = max(ts, second)
        self._last_ts = ts
        return Row(
            line,
            delta if delta is not None else ts,
            ts,
            fields[index["text"]],
            fields[index["user"]].strip(),
            f"{date} {clock}",
        )


class BilibiliCsvReplaySource(ReplaySourceBase[Row | BadRow, Comment]):
    """A recorded Bilibili room replayed into the sink. Progress: :attr:`rows_read`, :attr:`bad_rows`."""

    name = SOURCE_NAME
    read_chunk = READ_CHUNK_ROWS
    logger = log

    def __init__(self, path: str | Path, **options: Unpack[ReplayOptions]) -> None:
        super().__init__(path, **options)
        self.room: str = self.room or room_from_name(self.path)
        self.rows_read = 0
        self.bad_rows = 0
        #: the wall-clock span of the current pass, and the wall-clock offset of the pass (loop mode);
        #: :attr:`shift` is the pacing (``delta_s``) offset
        self._wall_span = Span()
        self._ts_shift = 0.0

    def items(self, sink: IngestSink) -> Generator[Row | BadRow, None, None]:
        return _Reader(self.path).rows()

    def take(self, item: Row | BadRow, pass_no: int, sink: IngestSink) -> Taken[Comment] | None:
        if isinstance(item, BadRow):
            self.bad_rows += 1
            sink.reject("malformed_csv", source=self.name, detail=f"line {item.line}: {item.detail}")
            return None
        self.rows_read += 1
        self._wall_span.see(item.ts)
        return Taken([self._comment(item, pass_no)], item.pace)

    def _comment(self, row: Row, pass_no: int) -> Comment:
        comment_id = stable_id("bcsv", row.line, row.user, row.clock)
        if pass_no >= 2:
            comment_id = f"{comment_id}#{pass_no}"
        return Comment(
            comment_id=comment_id,
            platform=PLATFORM,
            room=self.room,
            user_id=row.user,
            nickname=row.user,
            text=row.text,
            ts=row.ts + self._ts_shift,
        )

    async def submit(self, sink: IngestSink, records: list[Comment]) -> None:
        await sink.submit_records(records, source=self.name)

    def pass_done(self, pass_no: int) -> bool:
        if not self.stop_if_empty(self.rows_read, "rows"):
            return False
        self._ts_shift += self._wall_span.length + LOOP_GAP_S
        self._wall_span = Span()
        log.info(
            "replay %s: pass %d done (%d rows, %d malformed so far)",
            self.path.name,
            pass_no,
            self.rows_read,
            self.bad_rows,
        )
        return True
