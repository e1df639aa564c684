"""Replay a recorded broadcast from a JSON Lines or CSV file, at recorded pace, N× speed or flat out.

**JSON Lines**: one wire-format object (or an array of them, see :mod:`livecs.ingest.validate`) per line.
**CSV**: a header row naming the columns (``id,platform,room,user_id,nickname,member_tier,fan_level,text,ts``,
optional ``type``; the aliases of the wire format work too; unknown columns land in ``extras``), UTF-8 with
or without a BOM.

The file is streamed, never loaded whole: a dedicated reader thread reads it in chunks, splits lines (an
absurdly long line is skipped without buffering it), decodes JSON through the sink (its ``decode_payload``:
the sink is the one place raw input is validated) and parses CSV rows; the event loop only paces and
submits. Lines that cannot be framed (malformed JSON, invalid UTF-8, a CSV row with the wrong number of
fields…) are counted through ``sink.reject`` with the validator's reasons (``malformed_csv`` for CSV
framing) and the replay goes on; everything else goes to ``sink.submit_objects`` in batches, where records
are validated, deduplicated and counted.

Pacing follows the records' ``ts`` (see :mod:`livecs.ingest.pacing`): a record is submitted
``(ts - first_ts) / speed`` seconds after the start (records due within
:data:`~livecs.ingest.pacing.BATCH_WINDOW_S` of each other go together). ``loop=True`` replays the file
again and again; pass *k* ≥ 2 suffixes ids with ``#k`` and shifts timestamps past the previous pass so
that deduplication keeps them.
"""

from __future__ import annotations

import csv
import logging
from collections import deque
from collections.abc import Generator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, Literal, Unpack

import orjson

from livecs.errors import ErrorCode, LivecsError
from livecs.ingest.base import IngestSink, PayloadDecoder
from livecs.ingest.replay_base import ReplayOptions, ReplaySourceBase, Taken
from livecs.ingest.validate import Rejected, parse_ts

log = logging.getLogger("livecs.ingest.replay")

ReplayFormat = Literal["jsonl", "csv"]

#: file extensions → format, when ``fmt`` is not given
EXTENSIONS: dict[str, ReplayFormat] = {".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "jsonl", ".csv": "csv"}
#: bytes read from the file at a time
CHUNK_BYTES = 256 * 1024
#: a CSV record may span at most this many physical lines (a quoted field holding line breaks)
MAX_CSV_RECORD_LINES = 32
#: the columns a CSV replay file is documented with (``type`` optional, others allowed)
CSV_COLUMNS = ("id", "platform", "room", "user_id", "nickname", "member_tier", "fan_level", "text", "ts")

_UTF8_BOM = b"\xef\xbb\xbf"
_ID_KEYS = ("id", "comment_id", "msg_id", "message_id", "event_id")  # validate.py's alias order
_TS_KEYS = ("ts", "timestamp", "time")
# in a comment row an empty text is ``empty_text``, not ``missing_field``
_KEEP_EMPTY = frozenset({"text", "content", "msg"})


class ReplayFormatError(LivecsError, ValueError):
    """The file cannot be replayed at all (unknown format, unusable CSV header)."""

    code = ErrorCode.INVALID


@dataclass(slots=True)
class Entry:
    """What one line (or CSV record) held: decoded JSON values and the first timestamp among them."""

    objects: list[Any]
    ts: float | None
    line: int


@dataclass(slots=True)
class Bad:
    """A line that could not be framed: counted by the sink under ``reason``."""

    reason: str
    detail: str
    line: int


Item = Entry | Bad


@dataclass(slots=True)
class _TooLong:
    size: int


def detect_format(path: str | Path) -> ReplayFormat:
    """``jsonl`` or ``csv`` from the file extension; raises :class:`ReplayFormatError`."""
    suffix = Path(path).suffix.lower()
    try:
        return EXTENSIONS[suffix]
    except KeyError:
        raise ReplayFormatError(
            f"{path}: cannot tell the format from {suffix or 'no extension'!r}; use --format jsonl|csv"
        ) from None


def iter_raw_lines(
    fh: BinaryIO, max_line_bytes: int, chunk_bytes: int = CHUNK_BYTES
) -> Iterator[bytes | _TooLong]:
    """Physical lines (without the line break) read in chunks; a line over the cap is skipped unbuffered."""
    buf = bytearray()
    skipping = 0  # > 0 while discarding the rest of an over-long line (bytes seen so far)
    while True:
        chunk = fh.read(chunk_bytes)
        if not chunk:
            break
        start = 0
        while True:
            nl = chunk.find(b"\n", start)
            if nl < 0:
                part = chunk[start:]
                if skipping:
                    skipping += len(part)
                elif len(buf) + len(part) > max_line_bytes:
                    skipping = len(buf) + len(part)
                    buf.clear()
                else:
                    buf += part
                break
            part = chunk[start:nl]
            start = nl + 1
            if skipping:
                yield _TooLong(skipping + len(part))
                skipping = 0
            elif len(buf) + len(part) > max_line_bytes:
                yield _TooLong(len(buf) + len(part))
                buf.clear()
            else:
                buf += part
                yield bytes(buf).removesuffix(b"\r")
                buf.clear()
    if skipping:
        yield _TooLong(skipping)
    elif buf:
        yield bytes(buf).removesuffix(b"\r")


def _first_ts(objects: list[Any]) -> float | None:
    for obj in objects:
        if isinstance(obj, dict):
            for key in _TS_KEYS:
                if key in obj:
                    try:
                        return parse_ts(obj[key])
                    except (ValueError, TypeError, OverflowError):
                        return None
    return None


def _item_start(lineno: int, line: bytes | _TooLong) -> bytes | Bad | None:
    """The line an item starts on: :class:`Bad` when over the size cap, ``None`` when blank (skipped), else
    its bytes (without the BOM on line 1)."""
    if isinstance(line, _TooLong):
        return Bad("payload_too_large", f"line {lineno}: {line.size} bytes", lineno)
    if lineno == 1:
        line = line.removeprefix(_UTF8_BOM)
    return line if line.strip() else None


def iter_jsonl(fh: BinaryIO, decoder: PayloadDecoder) -> Iterator[Item]:
    """JSON Lines → :class:`Entry`/:class:`Bad` items (blank lines skipped), each line decoded by ``decoder``
    (the sink)."""
    max_bytes = decoder.limits.max_payload_bytes
    for lineno, line in enumerate(iter_raw_lines(fh, max_bytes), start=1):
        raw = _item_start(lineno, line)
        if isinstance(raw, Bad):
            yield raw
        if not isinstance(raw, bytes):
            continue
        try:
            objects = decoder.decode_payload(raw)
        except Rejected as exc:
            yield Bad(exc.reason, f"line {lineno}: {exc.detail}", lineno)
            continue
        yield Entry(objects, _first_ts(objects), lineno)


def _csv_parse(text: str) -> list[str]:
    """One CSV record (possibly several physical lines); raises ``csv.Error``."""
    rows = list(csv.reader([text], strict=True))
    if len(rows) != 1:
        raise csv.Error("not exactly one record")
    return rows[0]


def _csv_record(text: str) -> list[str] | None:
    """Fields of one record, or ``None`` while a quoted field is still open at the end of ``text``."""
    try:
        return _csv_parse(text)
    except csv.Error as exc:
        if "unexpected end of data" in str(exc):
            return None
        raise


def _row_object(header: list[str], row: list[str]) -> dict[str, Any]:
    obj: dict[str, Any] = {}
    is_comment = dict(zip(header, row, strict=True)).get("type", "").strip() in ("", "comment")
    for name, value in zip(header, row, strict=True):
        if value == "" and not (is_comment and name in _KEEP_EMPTY):
            continue  # an empty cell means "not given": the field's default applies
        if name == "extras":
            try:
                extras = orjson.loads(value)
            except orjson.JSONDecodeError:
                extras = {"extras": value}
            obj[name] = extras if isinstance(extras, dict) else {"extras": extras}
            continue
        obj[name] = value
    return obj


def iter_csv(fh: BinaryIO, decoder: PayloadDecoder) -> Iterator[Item]:
    """CSV with a header row → items; a malformed record is a ``malformed_csv`` :class:`Bad`, then go on.
    Only ``decoder``'s (the sink's) payload limit is used here: the sink validates the row objects."""
    max_bytes = decoder.limits.max_payload_bytes
    lines: Iterator[tuple[int, bytes | _TooLong]] = enumerate(iter_raw_lines(fh, max_bytes), start=1)
    pushback: deque[tuple[int, bytes | _TooLong]] = deque()

    def next_line() -> tuple[int, bytes | _TooLong] | None:
        if pushback:
            return pushback.popleft()
        return next(lines, None)

    header: list[str] | None = None
    while (got := next_line()) is not None:
        lineno, line = got
        raw = _item_start(lineno, line)
        if isinstance(raw, Bad):
            yield raw
        if not isinstance(raw, bytes):
            continue
        text = raw.decode("utf-8", "surrogateescape")
        # a quoted field may hold line breaks: join physical lines until the record is complete
        group: list[tuple[int, bytes | _TooLong]] = []
        try:
            fields = _csv_record(text)
            size = len(raw)
            while fields is None:
                more = next_line()
                if more is None or isinstance(more[1], _TooLong) or len(group) + 1 >= MAX_CSV_RECORD_LINES:
                    raise csv.Error("unterminated quoted field")
                group.append(more)
                size += len(more[1])
                if size > max_bytes:
                    raise csv.Error("record too long")
                text += "\n" + more[1].decode("utf-8", "surrogateescape")
                fields = _csv_record(text)
        except csv.Error as exc:
            pushback.extendleft(reversed(group))  # the following lines get their own chance
            yield Bad("malformed_csv", f"line {lineno}: {exc}", lineno)
            continue
        if header is None:
            header = [f.strip().lower() for f in fields]
            if any(not name for name in header) or len(set(header)) != len(header):
                raise ReplayFormatError(f"line {lineno}: CSV header has empty or repeated column names")
            continue
        if any("\udc80" <= ch <= "\udcff" for field in fields for ch in field):
            yield Bad("malformed_csv", f"line {lineno}: invalid UTF-8", lineno)
            continue
        if len(fields) != len(header):
            yield Bad(
                "malformed_csv", f"line {lineno}: {len(fields)} fields, header has {len(header)}", lineno
            )
            continue
        objects: list[Any] = [_row_object(header, fields)]
        yield Entry(objects, _first_ts(objects), lineno)


class ReplaySource(ReplaySourceBase[Item, Any]):
    """A recorded broadcast replayed into the sink. Progress: :attr:`records_read`, :attr:`lines_read`."""

    name = "replay"
    logger = log

    def __init__(
        self, path: str | Path, *, fmt: ReplayFormat | None = None, **options: Unpack[ReplayOptions]
    ) -> None:
        super().__init__(path, **options)
        self.fmt: ReplayFormat = fmt or detect_format(self.path)
        if self.fmt not in ("jsonl", "csv"):
            raise ReplayFormatError(f"unknown replay format {self.fmt!r}")
        self.read_chunk = self.batch
        #: progress: values (objects/rows) read and handed to the sink, lines/records read (good or bad)
        self.records_read = 0
        self.lines_read = 0
        self.bad_lines = 0

    # -- the reader side (runs on the reader thread) ----------------------------------------------------
    def items(self, sink: IngestSink) -> Generator[Item, None, None]:
        with self.path.open("rb") as fh:
            parse = iter_jsonl if self.fmt == "jsonl" else iter_csv
            yield from parse(fh, sink)

    # -- the event-loop side ----------------------------------------------------------------------------
    def _rewrite(self, objects: list[Any], pass_no: int) -> None:
        """Room override; in loop passes ≥ 2, ``#k`` id suffixes and shifted timestamps."""
        for obj in objects:
            if not isinstance(obj, dict):
                continue
            if self.room is not None:
                obj["room"] = self.room
            if pass_no < 2:
                continue
            id_key = next((k for k in _ID_KEYS if k in obj), None)
            if id_key is not None and obj[id_key] is not None and obj[id_key] != "":
                obj[id_key] = f"{obj[id_key]}#{pass_no}"
            ts_key = next((k for k in _TS_KEYS if k in obj), None)
            if ts_key is not None:
                try:
                    obj[ts_key] = parse_ts(obj[ts_key]) + self.shift
                except (ValueError, TypeError, OverflowError):
                    pass  # the validator will reject it as before

    def take(self, item: Item, pass_no: int, sink: IngestSink) -> Taken[Any] | None:
        self.lines_read += 1
        if isinstance(item, Bad):
            self.bad_lines += 1
            sink.reject(item.reason, source=self.name, detail=item.detail)
            return None
        self._rewrite(item.objects, pass_no)
        self.records_read += len(item.objects)
        return Taken(item.objects, item.ts)

    async def submit(self, sink: IngestSink, records: list[Any]) -> None:
        await sink.submit_objects(records, source=self.name, room=self.room)

    def pass_done(self, pass_no: int) -> bool:
        if not self.stop_if_empty(self.records_read, "records"):
            return False
        log.info(
            "replay %s: pass %d done (%d records, %d bad lines so far)",
            self.path.name,
            pass_no,
            self.records_read,
            self.bad_lines,
        )
        return True
