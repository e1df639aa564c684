"""Redis Streams bus: one stream per (topic, room), one consumer group per stage, one entry per chunk.

Layout (every name comes from :mod:`livecs.keys`): ``keys.stream(topic, room)`` holds the entries of one
room; ``keys.rooms(topic)`` lists the rooms of a topic so consumers discover its streams;
``keys.stages(topic)`` lists the stages declared on it so a publisher creates their groups on a new room's
stream before its first entry; ``keys.TOPICS`` lists the topics for :meth:`RedisBus.depths`.

**Entries are batches.** A publish is cut into chunks of at most ``min(batch_size, lag bound)`` records and
each chunk is ONE stream entry whose one field holds the orjson envelope
``{"s": session id, "t": published at, "r": [{"k": kind, "d": fields}, …]}`` — one XADD, one entry to parse,
per chunk instead of per record. (Single-record entries ``{"s", "t", "k", "d"}`` written by older versions
are still read.) ``read`` expands an entry into one :class:`Delivery` per record, all carrying the entry id.

**Whole entries only.** ``read`` never splits an entry: all the records of an entry come back in the same
``read`` call, so ``count`` limits records only approximately. A read asks Redis for about
``count / records-per-entry`` entries (see the estimate below) and may return more than ``count`` records
when entries are larger than estimated, never fewer than one whole entry. ``ack`` XACKs each distinct entry
id of the deliveries passed, once. That is exact because of the guarantee above: a stage that acks the
deliveries of whole ``read`` calls (the pipeline acks each read batch after storing it) acks an entry only
together with, or after, all of its records. Acking only part of a read batch acks whole entries, including
records of them that were not passed.

Delivery is at least once. A stage reads through its group (``keys.group(stage)``, created at id ``0`` so
nothing published before the group existed is missed) with XREADGROUP and XACKs after storing. Every
``reclaim_interval_s`` a reader first runs XAUTOCLAIM over the room streams: entries that a dead consumer
read but never acknowledged (idle longer than ``reclaim_idle_ms``) are handed to a live one, whole, so the
sinks must be idempotent. An entry that cannot be decoded at all, and each record of an entry that cannot be
decoded, is counted in :attr:`RedisBus.dropped` (``undecodable``); an entry left with no record is
acknowledged at once, the others are acknowledged with their good records. Pending entries that trimming
already deleted are acknowledged and counted (``trimmed``, in entries: their size is gone with them). Bad
entries never stop a reader.

**Poison entries go to a dead-letter stream.** An entry is delivered to workers at most ``max_deliveries``
times. XAUTOCLAIM counts one more delivery each time it claims an entry, so after each claim the sweep reads
the claimed entries' ``times_delivered`` (XPENDING, one pipelined round trip, only when something was
claimed). An entry already delivered ``max_deliveries`` times — one that crashes every worker that takes it,
or that is never acknowledged for any other reason — is not handed out again: one Lua script per entry
copies it to the room's dead-letter stream ``keys.dead_letter(room)`` (approximate MAXLEN
``dead_letter_maxlen`` entries) with its original fields plus ``dl:stream``, ``dl:id``, ``dl:group`` and
``dl:deliveries`` (:data:`DEAD_LETTER_FIELDS`), then XACKs it from the group. Copy and ack are atomic (a
crash cannot ack without the copy, an error in the copy stops the ack), so nothing is lost: an entry whose
copy failed stays pending and is tried again at the next sweep. Moved entries are counted in
:attr:`RedisBus.dead_lettered` (entries) and logged with a throttled warning. Claimed entries below the
limit are handed out as before.

**Bounds stay in records** (``stream_maxlen``, ``max_lag``, ``results_queue_size`` mean records, as with one
record per entry) while Redis counts entries (MAXLEN, the groups' ``lag``). The bus converts with a
per-stream estimate of records per entry: an exponential moving average (:data:`PER_ENTRY_ALPHA`) of the
sizes of the entries this process appended to or read from the stream (before any, the chunk size).

* Backpressure: a publisher waits while ``lag × estimate + records it appended since the last lag read + the
  chunk`` would exceed the lag bound (the slowest group's ``lag`` comes from XINFO GROUPS, re-read every
  ``lag_check_interval_s``, every ``lag_wait_poll_s`` while waiting). ``offer`` returns ``False`` instead.
* Trimming: XADD trims with approximate ``MAXLEN ceil(maxlen / estimate)`` entries, so a stream keeps about
  ``maxlen`` records of history however large its entries are (memory, and the time a dead consumer's
  entries survive until reclaimed, are what they were with one record per entry). The lag bound never
  exceeds ``maxlen``, and a publisher also waits while the unread entries (lag + its own appends + the new
  entry) would exceed that MAXLEN in entries, computed with the same estimate as the XADD — so trimming only
  removes entries every group has read, even when the estimate moves.
* :meth:`RedisBus.depths` reports records: (lag + pending entries) × estimate (a stream this process never
  touched is estimated from its newest entry).

The ``results`` topic (display traffic) uses ``results_queue_size`` as its lag bound and a larger MAXLEN.
Like the old per-record bound, the lag check is per process: publishers in several processes can together
overshoot the bound by what each appends between two lag reads. A group whose stage no longer runs holds its
publishers back for good: retire a stage by destroying its group (XGROUP DESTROY on each room stream) and
removing it from ``keys.stages(topic)``.
"""

from __future__ import annotations

import asyncio
import collections
import logging
import math
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import orjson
import redis.asyncio as aioredis
from redis.exceptions import RedisError, ResponseError

from livecs import keys
from livecs.bus.base import Bus, Delivery
from livecs.config import BusSettings
from livecs.models import Record, decode_record, encode_record

log = logging.getLogger(__name__)

#: The one field of a stream entry that holds the envelope.
ENVELOPE_FIELD = b"e"
#: The display topic: bounded by ``results_queue_size`` like the in-process bus.
RESULTS_TOPIC = "results"
#: The topic ingest publishes to; its rooms are also listed in ``keys.ROOMS``.
INPUT_TOPIC = "comments"
#: MAXLEN of a ``results`` stream, in multiples of ``results_queue_size`` (records).
RESULTS_MAXLEN_FACTOR = 10
#: Weight of each new entry in the per-stream records-per-entry estimate.
PER_ENTRY_ALPHA = 0.2
#: A reader re-reads the room set of a topic at most this often (new rooms appear within it).
ROOMS_REFRESH_S = 1.0
#: Non-blocking follow-up reads, in one ``read`` call, of the streams that filled their share.
MAX_READ_PASSES = 3
#: A recurring warning (backpressure, dropped entries) is logged at most this often per subject.
LOG_EVERY_S = 60.0
#: New groups start before the first entry, so entries published before the group existed are read.
GROUP_START_ID = "0"
#: XAUTOCLAIM cursor of a fresh sweep (and the cursor Redis returns when a sweep is complete).
CURSOR_START = b"0-0"

#: Reasons counted in :attr:`RedisBus.dropped`.
DROP_UNDECODABLE = "undecodable"
DROP_TRIMMED = "trimmed"

#: Fields a dead-letter entry adds to the original ones: the stream, entry id and group it came from, and how
#: many times it had been delivered to a consumer.
DL_STREAM = b"dl:stream"
DL_ID = b"dl:id"
DL_GROUP = b"dl:group"
DL_DELIVERIES = b"dl:deliveries"
DEAD_LETTER_FIELDS = (DL_STREAM, DL_ID, DL_GROUP, DL_DELIVERIES)
#: Copy an entry to the dead-letter stream, then XACK it, atomically; a failing XADD raises before the XACK.
#: KEYS: dead-letter stream, source stream. ARGV: group, entry id, MAXLEN, then field, value, … of the copy.
DEAD_LETTER_LUA = """
redis.call("XADD", KEYS[1], "MAXLEN", "~", ARGV[3], "*", unpack(ARGV, 4))
return redis.call("XACK", KEYS[2], ARGV[1], ARGV[2])
"""


class RedisBusError(ConnectionError):
    """The bus's Redis server cannot be used; the message names the URL (without its password)."""


def redact_url(url: str) -> str:
    """``url`` with any password replaced by ``***`` (for messages and logs)."""
    try:
        parts = urlsplit(url)
        if parts.password is None:
            return url
        host = parts.hostname or ""
        if ":" in host:
            host = f"[{host}]"
        port = f":{parts.port}" if parts.port else ""
        return urlunsplit(parts._replace(netloc=f"{parts.username or ''}:***@{host}{port}"))
    except ValueError:
        return "<unparsable Redis URL>"


def _ewma(estimate: float | None, sizes: Iterable[int]) -> float | None:
    """``estimate`` of records per entry moved towards each entry size in turn (the first size if none)."""
    for size in sizes:
        n = max(1, size)  # an empty entry (never written by livecs) weighs like one record
        estimate = float(n) if estimate is None else estimate + PER_ENTRY_ALPHA * (n - estimate)
    return estimate


@dataclass(slots=True)
class _Stream:
    """What this process knows of one stream: records per entry, and the lag estimate between reads."""

    per_entry: float | None = None  # records per entry (EWMA of the entries appended or read here)
    lag: int = 0  # unread entries of the slowest group at the last check
    added: int = 0  # entries this process appended since
    added_records: int = 0  # records in them
    checked: float = float("-inf")


@dataclass(slots=True)
class _Sweep:
    """One consumer's XAUTOCLAIM pass over the streams of a topic (it may span several reads)."""

    last: float = float("-inf")
    todo: list[tuple[str, str]] = field(default_factory=list)  # (stream, room) still to sweep
    cursor: bytes = CURSOR_START


@dataclass(slots=True)
class _Dead:
    """A claimed entry delivered ``max_deliveries`` times already, on its way to the dead-letter stream."""

    stream: str
    room: str
    entry_id: bytes
    fields: dict[bytes, bytes]
    deliveries: int


def _strs(members: Iterable[bytes | str]) -> set[str]:
    return {m.decode() if isinstance(m, bytes) else m for m in members}


def _stream_items(resp: Any) -> list[tuple[bytes, list[Any]]]:
    """XREADGROUP reply (RESP2 list or RESP3 dict) as ``[(stream, entries)]``."""
    if not resp:
        return []
    if isinstance(resp, dict):
        return list(resp.items())
    return [(name, entries) for name, entries in resp]


def _chunks(records: Sequence[Record], size: int) -> list[Sequence[Record]]:
    return [records[i : i + size] for i in range(0, len(records), size)]


class RedisBus(Bus):
    """The bus on Redis Streams (see the module docstring)."""

    name = "redis"

    def __init__(self, url: str, settings: BusSettings | None = None) -> None:
        self.url = url
        self.settings = settings or BusSettings()
        #: Dropped without being delivered, by reason: ``undecodable`` (entries that cannot be read at all,
        #: plus single bad records of readable entries), ``trimmed`` (pending entries trimmed before any ack).
        self.dropped: collections.Counter[str] = collections.Counter()
        #: Entries moved to a dead-letter stream after ``max_deliveries`` deliveries (module docstring).
        self.dead_lettered = 0
        self._r: aioredis.Redis | None = None
        self._topics: set[str] = set()
        self._declared: dict[str, set[str]] = {}
        self._registered: set[str] = set()  # streams this process listed in their room set
        self._grouped: set[tuple[str, str]] = set()  # (stream, stage) whose group is known to exist
        self._rooms: dict[str, tuple[float, list[str]]] = {}  # topic -> (read at, rooms)
        self._state: dict[str, _Stream] = {}
        self._sweeps: dict[tuple[str, str, str], _Sweep] = {}
        self._turns: collections.Counter[tuple[str, str, str]] = collections.Counter()
        self._logged: dict[str, float] = {}

    # -- bounds ---------------------------------------------------------------------------------------

    def maxlen(self, topic: str) -> int:
        """Records a stream of ``topic`` keeps, approximately (see :meth:`maxlen_entries`)."""
        if topic == RESULTS_TOPIC:
            return self.settings.results_queue_size * RESULTS_MAXLEN_FACTOR
        return self.settings.stream_maxlen

    def lag_bound(self, topic: str) -> int:
        """Unread records per stream and group beyond which ``publish`` waits (never above MAXLEN)."""
        limit = self.settings.results_queue_size if topic == RESULTS_TOPIC else self.settings.max_lag
        return max(1, min(limit, self.maxlen(topic)))

    def chunk(self, topic: str) -> int:
        """Records per entry at most: a publish is cut into entries of this size."""
        return max(1, min(self.settings.batch_size, self.lag_bound(topic)))

    def maxlen_entries(self, topic: str, per_entry: float | None) -> int:
        """The MAXLEN, in entries, that keeps about :meth:`maxlen` records at ``per_entry`` records each."""
        return max(1, math.ceil(self.maxlen(topic) / max(1.0, per_entry or 1.0)))

    def _stream_state(self, stream: str) -> _Stream:
        state = self._state.get(stream)
        if state is None:
            state = self._state[stream] = _Stream()
        return state

    # -- connection -----------------------------------------------------------------------------------

    async def start(self) -> None:
        if self._r is not None:
            return
        where = redact_url(self.url)
        try:
            client = aioredis.Redis.from_url(self.url, decode_responses=False)
        except ValueError as exc:
            raise RedisBusError(f"Redis bus: invalid URL {where}: {exc}") from exc
        try:
            await client.ping()
        except (RedisError, OSError) as exc:
            await client.aclose(close_connection_pool=True)
            raise RedisBusError(f"Redis bus: cannot reach Redis at {where}: {exc}") from exc
        self._r = client

    async def close(self) -> None:
        client, self._r = self._r, None
        self._registered.clear()
        self._grouped.clear()
        self._rooms.clear()
        if client is not None:
            await client.aclose(close_connection_pool=True)

    @property
    def _redis(self) -> aioredis.Redis:
        if self._r is None:
            raise RuntimeError("RedisBus is not started (await bus.start() first)")
        return self._r

    # -- groups and rooms -----------------------------------------------------------------------------

    async def _create_groups(self, pairs: Sequence[tuple[str, str]]) -> None:
        """Create the group of each ``(stream, stage)`` at id 0 (MKSTREAM); existing groups are fine."""
        pairs = [p for p in pairs if p not in self._grouped]
        if not pairs:
            return
        async with self._redis.pipeline(transaction=False) as p:
            for stream, stage in pairs:
                p.xgroup_create(stream, keys.group(stage), id=GROUP_START_ID, mkstream=True)
            results = await p.execute(raise_on_error=False)
        for res in results:
            if isinstance(res, ResponseError) and not str(res).startswith("BUSYGROUP"):
                raise res
        self._grouped.update(pairs)

    async def declare(self, topic: str, stage: str) -> None:
        self._declared.setdefault(topic, set()).add(stage)
        self._topics.add(topic)
        # Stage first, then rooms; a publisher registers its room first, then reads the stages: whichever
        # runs second sees the other, so every (room, stage) group gets created.
        async with self._redis.pipeline(transaction=False) as p:
            p.sadd(keys.stages(topic), stage)
            p.sadd(keys.TOPICS, topic)
            p.smembers(keys.rooms(topic))
            *_, members = await p.execute()
        await self._create_groups([(keys.stream(topic, room), stage) for room in sorted(_strs(members))])

    async def _register(self, topic: str, room: str) -> str:
        """List the room's stream of ``topic`` and create the groups of the declared stages on it."""
        stream = keys.stream(topic, room)
        if stream in self._registered:
            return stream
        async with self._redis.pipeline(transaction=False) as p:
            p.sadd(keys.rooms(topic), room)
            p.sadd(keys.TOPICS, topic)
            if topic == INPUT_TOPIC:
                p.sadd(keys.ROOMS, room)
            p.smembers(keys.stages(topic))
            *_, stages = await p.execute()
        await self._create_groups([(stream, stage) for stage in sorted(_strs(stages))])
        self._registered.add(stream)
        self._topics.add(topic)
        cached = self._rooms.get(topic)
        if cached is not None and room not in cached[1]:  # this process's readers see it at once
            self._rooms[topic] = (cached[0], sorted([*cached[1], room]))
        return stream

    async def _streams(self, topic: str, stage: str) -> dict[str, str]:
        """``{stream: room}`` of ``topic`` (room set re-read at most every ``ROOMS_REFRESH_S``)."""
        now = time.monotonic()
        cached = self._rooms.get(topic)
        if cached is None or not cached[1] or now - cached[0] >= ROOMS_REFRESH_S:
            cached = (now, sorted(_strs(await self._redis.smembers(keys.rooms(topic)))))
            self._rooms[topic] = cached
        streams = {keys.stream(topic, room): room for room in cached[1]}
        await self._create_groups([(s, stage) for s in streams])
        return streams

    # -- publishing -----------------------------------------------------------------------------------

    async def publish(self, topic: str, room: str, session_id: str, records: Sequence[Record]) -> None:
        await self._append(topic, room, session_id, records, wait=True)

    async def offer(self, topic: str, room: str, session_id: str, records: Sequence[Record]) -> bool:
        return await self._append(topic, room, session_id, records, wait=False)

    async def _append(
        self, topic: str, room: str, session_id: str, records: Sequence[Record], *, wait: bool
    ) -> bool:
        if not records:
            return True
        stream = await self._register(topic, room)
        parts = _chunks(records, self.chunk(topic))  # a chunk always fits once the groups caught up
        if not wait:  # all or nothing: every chunk in one MULTI/EXEC
            if not await self._has_room(topic, stream, [len(p) for p in parts], wait=False):
                return False
            await self._xadd(topic, stream, session_id, parts)
            return True
        for part in parts:
            await self._has_room(topic, stream, [len(part)], wait=True)
            await self._xadd(topic, stream, session_id, [part])
        return True

    async def _has_room(self, topic: str, stream: str, sizes: list[int], *, wait: bool) -> bool:
        """Whether entries of ``sizes`` records keep every group within the lag bound (in records) and the
        unread entries within the MAXLEN this append trims to; with ``wait``: until they do."""
        bound = self.lag_bound(topic)
        n = sum(sizes)
        waited_since: float | None = None
        while True:
            state = await self._checked_state(stream, fresh=waited_since is not None)
            per_entry = state.per_entry if state.per_entry is not None else float(self.chunk(topic))
            lag = math.ceil(state.lag * per_entry) + state.added_records
            unread = state.lag + state.added + len(sizes)
            cap = self.maxlen_entries(topic, _ewma(state.per_entry, sizes))
            if lag + n <= bound and unread <= cap:
                if waited_since is not None:
                    log.debug("publish to %s resumed after %.2fs", stream, time.monotonic() - waited_since)
                return True
            if not wait:
                return False
            if waited_since is None:
                waited_since = time.monotonic()
                self._warn(
                    f"lag:{stream}",
                    "publish to %s waits: lag ~%d records + %d > %d (or %d unread entries > %d)",
                    stream,
                    lag,
                    n,
                    bound,
                    unread,
                    cap,
                )
            await asyncio.sleep(self.settings.lag_wait_poll_s)

    async def _checked_state(self, stream: str, *, fresh: bool = False) -> _Stream:
        """The stream's state with the groups' lag read from Redis every ``lag_check_interval_s`` (or now,
        when ``fresh``, i.e. while a publisher waits); ``added*`` count what this process appended since."""
        state = self._stream_state(stream)
        now = time.monotonic()
        if fresh or now - state.checked >= self.settings.lag_check_interval_s:
            state.lag = await self._group_lag(stream)
            state.added = state.added_records = 0
            state.checked = now
        return state

    async def _group_lag(self, stream: str) -> int:
        """The largest lag, in entries, of the groups on ``stream`` (0 without groups)."""
        try:
            groups = await self._redis.xinfo_groups(stream)
        except ResponseError:  # no such stream yet
            return 0
        return max((self._lag_of(stream, g) for g in groups), default=0)

    def _lag_of(self, stream: str, group: dict[str, Any]) -> int:
        lag = group.get("lag")
        if (
            lag is None
        ):  # Redis cannot tell (only after XDEL inside the unread range, which livecs never does)
            self._warn(
                f"nolag:{stream}", "Redis reports no lag for group %r on %s", group.get("name"), stream
            )
            return 0
        return int(lag)

    async def _xadd(
        self, topic: str, stream: str, session_id: str, parts: Sequence[Sequence[Record]]
    ) -> None:
        """One entry per part; several parts go in one MULTI/EXEC (all or nothing, one round trip)."""
        now = time.time()
        payloads = [
            orjson.dumps({"s": session_id, "t": now, "r": [encode_record(rec) for rec in part]}, default=str)
            for part in parts
        ]
        state = self._stream_state(stream)
        sizes = [len(part) for part in parts]
        state.per_entry = _ewma(state.per_entry, sizes)
        maxlen = self.maxlen_entries(topic, state.per_entry)
        if len(payloads) == 1:
            await self._redis.xadd(stream, {ENVELOPE_FIELD: payloads[0]}, maxlen=maxlen, approximate=True)
        else:
            async with self._redis.pipeline(transaction=True) as p:
                for payload in payloads:
                    p.xadd(stream, {ENVELOPE_FIELD: payload}, maxlen=maxlen, approximate=True)
                await p.execute()
        state.added += len(payloads)
        state.added_records += sum(sizes)

    # -- reading --------------------------------------------------------------------------------------

    async def read(self, topic: str, stage: str, consumer: str, count: int, block_ms: int) -> list[Delivery]:
        if stage not in self._declared.get(topic, ()):
            await self.declare(topic, stage)
        streams = await self._streams(topic, stage)
        if not streams:
            if block_ms > 0:
                await asyncio.sleep(block_ms / 1000)
            return []
        count = max(1, count)
        out = await self._reclaim(topic, stage, consumer, streams, count)
        if len(out) < count:
            out += await self._read_new(
                topic, stage, consumer, streams, count - len(out), 0 if out else block_ms
            )
        return out

    def _per_entry_guess(self, topic: str, streams: Iterable[str]) -> float:
        """Records per entry to plan a read with: the largest estimate among ``streams`` (fewer entries
        asked, more follow-up reads, rather than overshooting ``count``), or the chunk size."""
        known = [s.per_entry for s in map(self._state.get, streams) if s is not None and s.per_entry]
        return max(known) if known else float(self.chunk(topic))

    def _expand(
        self, stream: str, room: str, entry_id: bytes, fields: dict[bytes, bytes] | None
    ) -> list[Delivery]:
        """The deliveries of one entry (its undecodable records, or the whole entry, counted as dropped)."""
        try:
            env = orjson.loads((fields or {})[ENVELOPE_FIELD])
            session, published = str(env["s"]), float(env["t"])
            raw = env["r"] if "r" in env else [env]  # {"s", "t", "k", "d"}: one record (older versions)
            if not isinstance(raw, list):
                raise TypeError(f"records are {type(raw).__name__}, not a list")
        except Exception as exc:  # any malformed entry: drop it, never stop the reader
            self._drop_undecodable(room, entry_id, exc)
            return []
        did = entry_id.decode()
        out: list[Delivery] = []
        for item in raw:
            try:
                out.append(Delivery(did, room, session, decode_record(item), published))
            except Exception as exc:
                self._drop_undecodable(room, entry_id, exc)
        state = self._stream_state(stream)
        state.per_entry = _ewma(state.per_entry, [len(raw)])
        return out

    def _drop_undecodable(self, room: str, entry_id: bytes, exc: Exception) -> None:
        self.dropped[DROP_UNDECODABLE] += 1
        self._warn(
            f"{DROP_UNDECODABLE}:{room}",
            "dropping undecodable bus entry or record %s in room %r (%s: %s); %d so far",
            entry_id,
            room,
            type(exc).__name__,
            exc,
            self.dropped[DROP_UNDECODABLE],
        )

    async def _xread(
        self,
        stage: str,
        consumer: str,
        streams: dict[str, str],
        batch: list[str],
        per_stream: int,
        block: int | None,
        out: list[Delivery],
        bad: dict[str, list[bytes]],
    ) -> list[str]:
        """One XREADGROUP ``>`` of up to ``per_stream`` entries from each of ``batch``; deliveries go to
        ``out``, entries without a good record to ``bad``. Returns the streams that filled their count."""
        try:
            resp = await self._redis.xreadgroup(
                keys.group(stage), consumer, dict.fromkeys(batch, ">"), count=per_stream, block=block
            )
        except ResponseError as exc:
            if "NOGROUP" not in str(exc):
                raise
            # A stream was deleted and re-created (e.g. FLUSHDB): make the groups again, read next time.
            self._grouped.difference_update((s, stage) for s in batch)
            await self._create_groups([(s, stage) for s in batch])
            return []
        full: list[str] = []
        for raw_name, entries in _stream_items(resp):
            stream = raw_name.decode() if isinstance(raw_name, bytes) else raw_name
            room = streams[stream]
            for entry_id, fields in entries:
                got = self._expand(stream, room, entry_id, fields)
                if got:
                    out.extend(got)
                else:
                    bad[stream].append(entry_id)
            if len(entries) >= per_stream:
                full.append(stream)
        return full

    async def _read_new(
        self, topic: str, stage: str, consumer: str, streams: dict[str, str], want: int, block_ms: int
    ) -> list[Delivery]:
        """XREADGROUP ``>``: whole entries holding about ``want`` records, shared fairly between the rooms.

        ``want`` records are planned as ``want / records-per-entry`` entries. With fewer room streams than
        that, one (blocking) read asks each stream for its share. With more, the streams are read a slice at
        a time without blocking, rotating who comes first, so a busy room among many idle ones is still
        found in this call; only when every slice was empty does one read block on all of them (a single
        entry each). Streams that filled their share are read again at once, while records are wanted."""
        group = keys.group(stage)
        names = list(streams)
        turn = self._turns[(topic, stage, consumer)] % len(names)
        self._turns[(topic, stage, consumer)] += 1
        order = names[turn:] + names[:turn]
        block: int | None = block_ms if block_ms > 0 else None
        out: list[Delivery] = []
        bad: dict[str, list[bytes]] = collections.defaultdict(list)
        entries = max(1, int(want // self._per_entry_guess(topic, order)))
        if len(order) <= entries:
            full = await self._xread(stage, consumer, streams, order, entries // len(order), block, out, bad)
        else:
            full = []
            for start in range(0, len(order), entries):
                full = await self._xread(
                    stage, consumer, streams, order[start : start + entries], 1, None, out, bad
                )
                if out or bad:
                    break
            if not out and not bad and block is not None:
                full = await self._xread(stage, consumer, streams, order, 1, block, out, bad)
        for _ in range(MAX_READ_PASSES - 1):
            left = want - len(out)
            if not full or left <= 0:
                break
            entries = max(1, int(left // self._per_entry_guess(topic, full)))
            batch = full[:entries]  # those streams likely hold more: read them again now
            full = await self._xread(
                stage, consumer, streams, batch, max(1, entries // len(batch)), None, out, bad
            )
        await self._ack_ids(group, bad)
        return out

    async def _reclaim(
        self, topic: str, stage: str, consumer: str, streams: dict[str, str], limit: int
    ) -> list[Delivery]:
        """XAUTOCLAIM entries idle longer than ``reclaim_idle_ms`` (a dead consumer's), every interval; whole
        entries holding about ``limit`` records."""
        sweep = self._sweeps.setdefault((topic, stage, consumer), _Sweep())
        group = keys.group(stage)
        if not sweep.todo:
            now = time.monotonic()
            if now - sweep.last < self.settings.reclaim_interval_s:
                return []
            sweep.last = now
            sweep.todo = await self._with_pending(group, streams)
            sweep.cursor = CURSOR_START
        out: list[Delivery] = []
        bad: dict[str, list[bytes]] = collections.defaultdict(list)
        dead: list[_Dead] = []
        while sweep.todo and len(out) < limit:
            stream, room = sweep.todo[0]
            entries = max(1, int((limit - len(out)) // self._per_entry_guess(topic, [stream])))
            try:
                resp = await self._redis.xautoclaim(
                    stream,
                    group,
                    consumer,
                    min_idle_time=self.settings.reclaim_idle_ms,
                    start_id=sweep.cursor,
                    count=entries,
                )
            except ResponseError as exc:
                if "NOGROUP" not in str(exc):
                    raise
                resp = [CURSOR_START, [], []]
            cursor = resp[0]
            claimed = [(entry_id, fields) for entry_id, fields in resp[1] if entry_id is not None]
            deleted: list[bytes] = resp[2] if len(resp) > 2 else []
            delivered = await self._deliveries(stream, group, [entry_id for entry_id, _ in claimed])
            for entry_id, fields in claimed:
                times = delivered.get(entry_id, 0)
                if times >= self.settings.max_deliveries:  # poison: never handed out again
                    dead.append(_Dead(stream, room, entry_id, fields or {}, times))
                    continue
                got = self._expand(stream, room, entry_id, fields)
                if got:
                    out.extend(got)
                else:
                    bad[stream].append(entry_id)
            if deleted:  # read by a consumer that died, then trimmed before anyone acknowledged them
                bad[stream].extend(deleted)
                self.dropped[DROP_TRIMMED] += len(deleted)
                self._warn(
                    f"{DROP_TRIMMED}:{stream}",
                    "%d pending entries of %s were trimmed before being acknowledged; %d so far",
                    len(deleted),
                    stream,
                    self.dropped[DROP_TRIMMED],
                )
            if cursor in (CURSOR_START, CURSOR_START.decode()):
                sweep.todo.pop(0)
                sweep.cursor = CURSOR_START
            else:
                sweep.cursor = cursor
        await self._ack_ids(group, bad)
        await self._dead_letter(group, dead)
        if out:
            log.info("%s/%s: %s reclaimed %d idle records", topic, stage, consumer, len(out))
        return out

    async def _deliveries(self, stream: str, group: str, ids: Sequence[bytes]) -> dict[bytes, int]:
        """``{entry id: times delivered to a consumer}`` of entries just claimed (one round trip): XPENDING's
        ``times_delivered`` minus the delivery the claim itself counted. Entries no longer pending are left
        out."""
        if not ids:
            return {}
        async with self._redis.pipeline(transaction=False) as p:
            for entry_id in ids:
                p.xpending_range(stream, group, min=entry_id, max=entry_id, count=1)
            results = await p.execute(raise_on_error=False)
        out: dict[bytes, int] = {}
        for res in results:
            if isinstance(res, Exception):
                continue  # e.g. the group vanished: hand the entry out, the next sweep looks again
            for p_entry in res:
                out[p_entry["message_id"]] = int(p_entry["times_delivered"]) - 1
        return out

    async def _dead_letter(self, group: str, dead: Sequence[_Dead]) -> None:
        """Copy each entry to its room's dead-letter stream and XACK it, atomically (one round trip)."""
        if not dead:
            return
        maxlen = self.settings.dead_letter_maxlen
        async with self._redis.pipeline(transaction=False) as p:
            for d in dead:
                copy: list[bytes | str | int] = [
                    *(x for pair in d.fields.items() for x in pair),
                    DL_STREAM,
                    d.stream,
                    DL_ID,
                    d.entry_id,
                    DL_GROUP,
                    group,
                    DL_DELIVERIES,
                    d.deliveries,
                ]
                target = keys.dead_letter(d.room)
                p.eval(DEAD_LETTER_LUA, 2, target, d.stream, group, d.entry_id, maxlen, *copy)
            results = await p.execute(raise_on_error=False)
        for d, res in zip(dead, results, strict=True):
            if isinstance(res, Exception):  # not copied, not acknowledged: the next sweep tries again
                self._warn(
                    f"dead_letter_failed:{d.stream}",
                    "cannot move poison entry %s of %s to %s (%s); it stays pending",
                    d.entry_id,
                    d.stream,
                    keys.dead_letter(d.room),
                    res,
                )
                continue
            self.dead_lettered += 1
            self._warn(
                f"dead_letter:{d.stream}",
                "entry %s of %s (group %s) delivered %d times without an ack moved to %s; %d so far",
                d.entry_id,
                d.stream,
                group,
                d.deliveries,
                keys.dead_letter(d.room),
                self.dead_lettered,
            )

    async def _with_pending(self, group: str, streams: dict[str, str]) -> list[tuple[str, str]]:
        """The ``(stream, room)`` pairs where ``group`` has pending entries (one round trip)."""
        async with self._redis.pipeline(transaction=False) as p:
            for stream in streams:
                p.xpending(stream, group)
            results = await p.execute(raise_on_error=False)
        return [
            (stream, room)
            for (stream, room), res in zip(streams.items(), results, strict=True)
            if isinstance(res, dict) and res.get("pending")
        ]

    # -- acknowledging and counters -------------------------------------------------------------------

    async def ack(self, topic: str, stage: str, deliveries: Sequence[Delivery]) -> None:
        """XACK each distinct entry id of ``deliveries`` once (whole entries: see the module docstring)."""
        ids: dict[str, dict[str, None]] = collections.defaultdict(dict)
        for d in deliveries:
            ids[keys.stream(topic, d.room)][d.id] = None
        await self._ack_ids(keys.group(stage), {stream: list(xs) for stream, xs in ids.items()})

    async def _ack_ids(self, group: str, ids: dict[str, list[str]] | dict[str, list[bytes]]) -> None:
        """XACK, one command per stream, all in one round trip."""
        todo = [(stream, xs) for stream, xs in ids.items() if xs]
        if not todo:
            return
        async with self._redis.pipeline(transaction=False) as p:
            for stream, xs in todo:
                p.xack(stream, group, *xs)
            await p.execute()

    def health(self) -> dict[str, int]:
        """Entries dropped by reason (``undecodable``, ``trimmed``) and moved to the dead-letter streams."""
        return {
            **{f"dropped_{reason}": n for reason, n in self.dropped.items()},
            "dead_lettered": self.dead_lettered,
        }

    async def depths(self) -> dict[str, int]:
        """``{"topic/stage": unread + unacknowledged records}`` summed over the rooms (all processes'
        stages): entries counted by Redis times the stream's records-per-entry estimate."""
        r = self._redis
        topics = sorted(self._topics | _strs(await r.smembers(keys.TOPICS)))
        if not topics:
            return {}
        async with r.pipeline(transaction=False) as p:
            for topic in topics:
                p.smembers(keys.rooms(topic))
                p.smembers(keys.stages(topic))
            sets = await p.execute()
        out: dict[str, int] = {}
        plan: list[tuple[str, dict[bytes, str]]] = []  # (stream, {group name: "topic/stage"})
        for i, topic in enumerate(topics):
            rooms, stages = sorted(_strs(sets[2 * i])), sorted(_strs(sets[2 * i + 1]))
            names = {keys.group(stage).encode(): f"{topic}/{stage}" for stage in stages}
            out.update(dict.fromkeys(names.values(), 0))
            plan.extend((keys.stream(topic, room), names) for room in rooms)
        if not plan:
            return out
        async with r.pipeline(transaction=False) as p:
            for stream, _ in plan:
                p.xinfo_groups(stream)
            infos = await p.execute(raise_on_error=False)
        waiting: list[tuple[str, str, int]] = []  # (stream, "topic/stage", entries)
        for (stream, names), groups in zip(plan, infos, strict=True):
            if isinstance(groups, Exception):
                continue  # stream gone
            for g in groups:
                label = names.get(g["name"])
                if label is not None:
                    waiting.append((stream, label, self._lag_of(stream, g) + int(g["pending"])))
        await self._sample_per_entry({stream for stream, _, n in waiting if n})
        for stream, label, n in waiting:
            if n:
                out[label] += round(n * (self._stream_state(stream).per_entry or 1.0))
        return out

    async def _sample_per_entry(self, streams: set[str]) -> None:
        """Seed the records-per-entry estimate of streams this process never touched from their newest
        entry (one round trip)."""
        todo = sorted(s for s in streams if self._stream_state(s).per_entry is None)
        if not todo:
            return
        async with self._redis.pipeline(transaction=False) as p:
            for stream in todo:
                p.xrevrange(stream, count=1)
            newest = await p.execute(raise_on_error=False)
        for stream, entries in zip(todo, newest, strict=True):
            if isinstance(entries, Exception) or not entries:
                continue
            try:
                env = orjson.loads(entries[0][1][ENVELOPE_FIELD])
                size = len(env["r"]) if "r" in env else 1
            except Exception:
                continue  # undecodable: the reader will count it
            self._stream_state(stream).per_entry = float(max(1, size))

    def _warn(self, subject: str, msg: str, *args: object) -> None:
        """``log.warning`` at most once per ``LOG_EVERY_S`` per subject."""
        now = time.monotonic()
        if now - self._logged.get(subject, float("-inf")) >= LOG_EVERY_S:
            self._logged[subject] = now
            log.warning(msg, *args)
