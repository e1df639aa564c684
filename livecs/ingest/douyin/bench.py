"""``python run.py bench douyin``: Douyin frame decode rate, generated protobuf code vs a hand-written reader.

Both paths do the same work on the same frames (built with ``webcast.proto``: ``--messages`` per frame,
mostly chats, some gifts, likes, enters and viewer counts, gzip-compressed as the server sends them):
PushFrame → gunzip → Response → each Message → the chat's text, user id, nickname, fan-club level, pay
grade, message id and time. "generated" is the codec livecs uses (:class:`~.codec.Decoder` plus the
generated message classes, on the ``protobuf`` runtime's upb backend); "hand" is :class:`HandReader`, a
pure-Python wire reader kept here only as the baseline of this comparison. Each run decodes all frames
once; the medians of ``--repeat`` runs give frames/s and messages/s on one core (gzip included) and the
ratio of the two. A third line, "pump", is the whole live path to livecs records: the codec plus the
message parser (:class:`~.pump.FramePump`), frames in, ``Comment`` / ``LiveEvent`` out.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
import zlib
from collections.abc import Callable
from typing import Any, Final

from livecs.cli import bench_target
from livecs.errors import ErrorCode, LivecsError
from livecs.ingest.douyin import webcast_pb2 as pb
from livecs.ingest.douyin.codec import Batch, Decoder, encode_batch, encode_message
from livecs.ingest.douyin.messages import MessageParser
from livecs.ingest.douyin.pump import FramePump

CHAT: Final = "WebcastChatMessage"

# -- the hand-written baseline --------------------------------------------------------------------------


class WireError(LivecsError, ValueError):
    """Malformed protobuf wire data."""

    code = ErrorCode.INVALID


def _varint(buf: bytes, pos: int) -> tuple[int, int]:
    result = shift = 0
    end = len(buf)
    while True:
        if pos >= end:
            raise WireError("truncated varint")
        b = buf[pos]
        pos += 1
        result |= (b & 0x7F) << shift
        if not b & 0x80:
            return result, pos
        shift += 7
        if shift >= 70:
            raise WireError("varint too long")


def fields(buf: bytes) -> dict[int, list[int | bytes]]:
    """Every field of one message: number → values (ints for varints, bytes for length-delimited)."""
    out: dict[int, list[int | bytes]] = {}
    pos, end = 0, len(buf)
    while pos < end:
        key, pos = _varint(buf, pos)
        number, wire = key >> 3, key & 7
        if number == 0:
            raise WireError("field number 0")
        value: int | bytes
        if wire == 0:
            value, pos = _varint(buf, pos)
        elif wire == 2:
            n, pos = _varint(buf, pos)
            if pos + n > end:
                raise WireError("length past the end")
            value, pos = buf[pos : pos + n], pos + n
        elif wire == 1:
            if pos + 8 > end:
                raise WireError("truncated fixed64")
            value, pos = int.from_bytes(buf[pos : pos + 8], "little"), pos + 8
        elif wire == 5:
            if pos + 4 > end:
                raise WireError("truncated fixed32")
            value, pos = int.from_bytes(buf[pos : pos + 4], "little"), pos + 4
        else:
            raise WireError(f"wire type {wire}")
        out.setdefault(number, []).append(value)
    return out


def _one(f: dict[int, list[int | bytes]], number: int, kind: type) -> Any:
    values = f.get(number)
    if not values:
        return kind()
    value = values[-1]
    if not isinstance(value, kind):
        raise WireError(f"field {number}: wrong wire type")
    return value


class HandReader:
    """PushFrame → chats, field by field in pure Python (strict: any wire error raises :class:`WireError`)."""

    def frame(self, data: bytes) -> list[tuple[Any, ...]]:
        f = fields(data)
        payload = _one(f, 8, bytes)
        if _one(f, 6, bytes) == b"gzip":
            payload = zlib.decompress(payload, 31)
        response = fields(payload)
        out: list[tuple[Any, ...]] = []
        for raw in response.get(1, []):
            if not isinstance(raw, bytes):
                raise WireError("message: wrong wire type")
            m = fields(raw)
            method = _one(m, 1, bytes).decode()
            if method == CHAT:
                out.append(self.chat(_one(m, 2, bytes)))
            else:
                out.append((method,))
        return out

    def chat(self, payload: bytes) -> tuple[Any, ...]:
        c = fields(payload)
        common = fields(_one(c, 1, bytes))
        user = fields(_one(c, 2, bytes))
        club = fields(_one(fields(_one(user, 24, bytes)), 1, bytes))
        grade = fields(_one(user, 23, bytes))
        return (
            _one(c, 3, bytes).decode(),
            _one(user, 1028, bytes).decode() or str(_one(user, 1, int)),
            _one(user, 3, bytes).decode(),
            _one(club, 2, int),
            _one(grade, 6, int),
            _one(common, 2, int),
            _one(common, 4, int),
        )


# -- the generated path ---------------------------------------------------------------------------------


class GeneratedReader:
    """The codec livecs uses, reading the same fields."""

    def __init__(self) -> None:
        self.decoder = Decoder()

    def frame(self, data: bytes) -> list[tuple[Any, ...]]:
        out: list[tuple[Any, ...]] = []
        for item in self.decoder.feed(data):
            if not isinstance(item, Batch):
                continue
            for m in item.messages:
                if m.method == CHAT:
                    c = pb.ChatMessage.FromString(m.payload)
                    u = c.user
                    out.append(
                        (
                            c.content,
                            u.id_str or str(u.id),
                            u.nickname,
                            u.fans_club.data.level,
                            u.pay_grade.level,
                            c.common.msg_id,
                            c.common.create_time,
                        )
                    )
                else:
                    out.append((m.method,))
        return out


# -- workload -------------------------------------------------------------------------------------------


def sample_frames(n_frames: int, per_frame: int) -> list[bytes]:
    frames = []
    k = 0
    for f in range(n_frames):
        msgs = []
        for j in range(per_frame):
            k += 1
            user = pb.User(id=10_000 + k % 997, nickname=f"观众{k % 997}", id_str=str(10_000 + k % 997))
            if k % 7 == 0:
                user.fans_club.data.level = k % 20
                user.pay_grade.level = k % 60
            if j % 10 == 9:
                msgs.append(encode_message("WebcastLikeMessage", pb.LikeMessage(count=3, user=user), k))
            else:
                common = pb.Common(method=CHAT, msg_id=7_000_000_000 + k, create_time=1_700_000_000_000 + k)
                chat = pb.ChatMessage(
                    common=common, user=user, content=f"主播这件衣服多少钱呀 {k}号链接有货吗"
                )
                msgs.append(encode_message(CHAT, chat, k))
        frames.append(encode_batch(msgs, log_id=f + 1, cursor=f"c{f}", internal_ext=f"e{f}", need_ack=True))
    return frames


def _time(read: Callable[[bytes], list[tuple[Any, ...]]], frames: list[bytes]) -> tuple[float, int]:
    t0 = time.perf_counter()
    n = 0
    for frame in frames:
        n += len(read(frame))
    return time.perf_counter() - t0, n


def run(n_frames: int = 500, per_frame: int = 20, repeat: int = 7) -> dict[str, Any]:
    frames = sample_frames(n_frames, per_frame)
    hand, gen = HandReader(), GeneratedReader()
    assert hand.frame(frames[0]) == gen.frame(frames[0]), "the two readers disagree"
    results: dict[str, Any] = {
        "frames": n_frames,
        "messages_per_frame": per_frame,
        "frame_bytes_median": int(statistics.median(len(f) for f in frames)),
    }
    times: dict[str, list[float]] = {"generated": [], "hand": [], "pump": []}
    pump = FramePump(MessageParser("bench"))

    def records(frame: bytes) -> list[Any]:
        return pump.feed(frame, 1_700_000_000.0).records

    for _ in range(repeat):
        for name, reader in (("generated", gen.frame), ("hand", hand.frame), ("pump", records)):
            elapsed, n = _time(reader, frames)
            assert n == n_frames * per_frame
            times[name].append(elapsed)
    for name, samples in times.items():
        med = statistics.median(samples)
        results[name] = {
            "median_s": round(med, 4),
            "frames_per_s": round(n_frames / med),
            "messages_per_s": round(n_frames * per_frame / med),
        }
    results["ratio_generated_over_hand"] = round(
        statistics.median(times["hand"]) / statistics.median(times["generated"]), 2
    )
    from google.protobuf.internal import api_implementation

    results["protobuf_backend"] = api_implementation.Type()
    return results


def cmd_bench_douyin(args: argparse.Namespace) -> int:
    res = run(args.frames, args.messages, args.repeat)
    if args.json:
        print(json.dumps(res))
        return 0
    print(
        f"douyin decode: {res['frames']} frames × {res['messages_per_frame']} messages "
        f"(median frame {res['frame_bytes_median']} B gzip), medians of {args.repeat} runs, one core"
    )
    for name in ("generated", "hand", "pump"):
        r = res[name]
        print(f"  {name:9} {r['frames_per_s']:>9,} frames/s {r['messages_per_s']:>10,} messages/s")
    ratio, backend = res["ratio_generated_over_hand"], res["protobuf_backend"]
    print(f"  generated is {ratio}× the hand-written reader (protobuf backend {backend})")
    return 0


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = bench_target(
        subparsers, "douyin", "Douyin frame decode rate: generated protobuf vs hand-written reader"
    )
    p.add_argument("--frames", type=int, default=500)
    p.add_argument("--messages", type=int, default=20, help="messages per frame")
    p.add_argument("--repeat", type=int, default=7)
    p.add_argument("--json", action="store_true", help="one JSON object")
    p.set_defaults(func=cmd_bench_douyin)
