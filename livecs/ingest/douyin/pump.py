"""Frames → records, shared by the live client and the replay of recorded frames (so both decode alike).

:class:`FramePump` owns the codec's :class:`~.codec.Decoder`, the :class:`~.messages.MessageParser` and
the :class:`~.health.CaptureHealth`.
:meth:`FramePump.feed` decodes one frame and returns a :class:`Pumped`: the records, the batches (for the
client's ack and cursor) and whether the live ended or the server is closing. New drops are returned as
``(reason, detail)`` pairs for the source to report through ``sink.reject("douyin_<reason>")``. Pure: no I/O.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Final

from livecs.ingest.douyin.codec import Batch, Closing, Decoder, DecoderLimits, ServerHeartbeat
from livecs.ingest.douyin.health import CaptureHealth
from livecs.ingest.douyin.messages import MessageParser
from livecs.ingest.message_parser import Record

#: prefix of the reject reasons the Douyin sources report (``douyin_bad_frame``…)
REJECT_PREFIX: Final = "douyin_"
MALFORMED_MESSAGE: Final = "malformed_message"
UNKNOWN_METHOD: Final = "unknown_method"


@dataclass
class Pumped:
    records: list[Record] = field(default_factory=list)
    batches: list[Batch] = field(default_factory=list)
    heartbeats: int = 0
    closing: bool = False
    ended: bool = False
    drops: list[tuple[str, str]] = field(default_factory=list)


class FramePump:
    def __init__(
        self,
        parser: MessageParser,
        *,
        limits: DecoderLimits | None = None,
        health: CaptureHealth | None = None,
    ) -> None:
        self.decoder = Decoder(limits or DecoderLimits())
        self.parser = parser
        self.health = health or CaptureHealth()
        self._reported_drops: Counter[str] = Counter()
        self._reported_malformed = 0
        self._reported_unknown = 0

    def feed(self, data: bytes, now: float) -> Pumped:
        out = Pumped()
        self.health.frame(now)
        for item in self.decoder.feed(data):
            if isinstance(item, Batch):
                out.batches.append(item)
                for m in item.messages:
                    self.health.message(m.method, now)
                    out.records.extend(self.parser.parse(m.method, m.payload, m.msg_id, now))
            elif isinstance(item, ServerHeartbeat):
                out.heartbeats += 1
            elif isinstance(item, Closing):
                out.closing = True
        if self.parser.ended and not self.health.ended:
            self.health.live_ended()
        out.ended = self.parser.ended
        self._collect_drops(out)
        return out

    def _collect_drops(self, out: Pumped) -> None:
        drops = self.decoder.drops
        if drops != self._reported_drops:
            for reason, n in drops.items():
                new = n - self._reported_drops[reason]
                if new > 0:
                    self.health.drop(reason, new)
                    out.drops.extend([(reason, self.decoder.last_drop)] * new)
            self._reported_drops = Counter(drops)
        malformed = sum(self.parser.malformed.values())
        if malformed > self._reported_malformed:
            new = malformed - self._reported_malformed
            self.health.drop(MALFORMED_MESSAGE, new)
            detail = ", ".join(f"{m} {n}" for m, n in self.parser.malformed.items())
            out.drops.extend([(MALFORMED_MESSAGE, detail)] * new)
            self._reported_malformed = malformed
        unknown = sum(self.parser.unknown.values())
        if unknown > self._reported_unknown:  # counted in health only (like Bilibili's unknown commands)
            self.health.drop(UNKNOWN_METHOD, unknown - self._reported_unknown)
            self._reported_unknown = unknown
