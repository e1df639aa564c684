"""Recorded Douyin frames (``--record FILE``, ``replay FILE --format douyin-frames``): the raw websocket
messages with their arrival times, so a broken broadcast can be replayed through the same codec offline.

File layout (binary, append-only, one file per run)::

    b"LIVECS-DOUYIN-FRAMES 1\\n"                 magic and version
    <JSON object>\\n                              header: room, room_id, started (epoch s), source
    then one record per received message:
    arrival f64 big-endian (epoch s) | length u32 big-endian | the message bytes as received

Writing is one ``write`` and one ``flush`` per frame (no fsync): a crash loses at most what the OS had not
written yet, and the reader stops cleanly at a torn last record (counted, never raised). Frames are
written in arrival order, each exactly once — also across reconnects (the recorder belongs to the source,
not to a connection). The reader is a generator; malformed input (a bad magic, a bad header, a torn
record, a length over :data:`MAX_RECORD_BYTES`) ends it with a :class:`BadRecord` instead of raising.
"""

from __future__ import annotations

import struct
from collections.abc import Generator
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any, BinaryIO, Final

import orjson

from livecs.errors import ErrorCode, LivecsError

MAGIC: Final = b"LIVECS-DOUYIN-FRAMES 1\n"
RECORD_HEADER: Final = struct.Struct(">dI")
#: a record longer than this is taken as corruption (the codec's frame limit is 4 MiB)
MAX_RECORD_BYTES: Final = 64 * 1024 * 1024
MAX_HEADER_LINE: Final = 64 * 1024
FORMAT_NAME: Final = "douyin-frames"


class FrameFileError(LivecsError, ValueError):
    """Not a recorded-frames file (bad magic or header)."""

    code = ErrorCode.INVALID


@dataclass(frozen=True, slots=True)
class RecordedFrame:
    index: int  # 0-based position in the file
    arrival: float  # epoch seconds
    data: bytes


@dataclass(frozen=True, slots=True)
class BadRecord:
    index: int
    detail: str


class FrameWriter:
    """Appends frames to ``path`` (created with its header). A context manager; or call :meth:`close`."""

    def __init__(self, path: str | Path, *, start: float, room: str = "", room_id: int = 0) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._fh: BinaryIO | None = self.path.open("wb")
        header: dict[str, Any] = {"room": room, "room_id": room_id, "started": start, "source": "douyin"}
        self._fh.write(MAGIC + orjson.dumps(header) + b"\n")
        self._fh.flush()
        self.frames = 0
        self.bytes = 0

    def write(self, data: bytes, arrival: float) -> None:
        if self._fh is None:
            raise ValueError(f"recorder {self.path} is closed")
        self._fh.write(RECORD_HEADER.pack(arrival, len(data)) + data)
        self._fh.flush()
        self.frames += 1
        self.bytes += len(data)

    def close(self) -> None:
        if self._fh is not None:
            self._fh.close()
            self._fh = None

    def __enter__(self) -> FrameWriter:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


def read_header(fh: BinaryIO, path: Path) -> dict[str, Any]:
    magic = fh.read(len(MAGIC))
    if magic != MAGIC:
        raise FrameFileError(f"{path}: not a {FORMAT_NAME} file (magic {magic[:24]!r})")
    line = fh.readline(MAX_HEADER_LINE)
    try:
        header = orjson.loads(line)
    except orjson.JSONDecodeError:
        header = None
    if not isinstance(header, dict):
        raise FrameFileError(f"{path}: unreadable {FORMAT_NAME} header")
    return header


def read_frames(path: str | Path) -> Generator[dict[str, Any] | RecordedFrame | BadRecord, None, None]:
    """The header (a dict) first, then every frame; a torn or corrupt tail ends with a :class:`BadRecord`.

    Raises :class:`FrameFileError` (before yielding anything) when the file is not a recording.
    """
    p = Path(path)
    with p.open("rb") as fh:
        yield read_header(fh, p)
        index = 0
        while True:
            head = fh.read(RECORD_HEADER.size)
            if not head:
                return
            if len(head) < RECORD_HEADER.size:
                yield BadRecord(index, f"torn record header ({len(head)} bytes)")
                return
            arrival, length = RECORD_HEADER.unpack(head)
            if length > MAX_RECORD_BYTES or arrival != arrival:
                yield BadRecord(index, f"corrupt record (length {length}, arrival {arrival})")
                return
            data = fh.read(length)
            if len(data) < length:
                yield BadRecord(index, f"torn record ({len(data)} of {length} bytes)")
                return
            yield RecordedFrame(index, arrival, data)
            index += 1
