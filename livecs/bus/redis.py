"""Redis Streams bus: one stream per (topic, room), one consumer group per stage.

Layout (every name comes from :mod:`livecs.keys`): ``keys.stream(topic, room)`` holds the envelopes of one
room; ``keys.rooms(topic)`` lists the rooms of a topic so consumers discover its streams;
``keys.stages(topic)`` lists the stages declared on it so a publisher creates their groups on a new room's
stream before its first entry; ``keys.TOPICS`` lists the topics for :meth:`RedisBus.depths`. An entry has
one field holding the orjson envelope ``{"s": session id, "t": published at, "k": kind, "d": fields}``.

Delivery is at least once. A stage reads through its group (``keys.group(stage)``, created at id ``0`` so
nothing published before the group existed is missed) with XREADGROUP and XACKs after storing. Every
``reclaim_interval_s`` a reader first runs XAUTOCLAIM over the room streams: entries that a dead consumer
read but never acknowledged (idle longer than ``reclaim_idle_ms``) are handed to a live one, so the sinks
must be idempotent. Entries that cannot be decoded, and pending entries that trimming already deleted, are
acknowledged and counted in :attr:`RedisBus.dropped`; they never stop a reader.

Bounds: XADD trims with approximate MAXLEN, and a publisher waits while any group's lag (entries the group
has not read yet, XINFO GROUPS) on the stream would exceed the lag bound, which never exceeds MAXLEN — so
trimming only removes entries that every group has read. ``offer`` returns ``False`` instead of waiting.
The ``results`` topic (display traffic) uses ``results_queue_size`` as its lag bound and a smaller MAXLEN.
A publish appends in chunks of ``batch_size`` records, each one MULTI/EXEC round trip. A group whose stage
no longer runs holds its publishers back for good: retire a stage by destroying its group (XGROUP DESTROY
on each room stream) and removing it from ``keys.stages(topic)``.
"""

from __future__ import annotations

import asyncio
import collections
import logging
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
#: MAXLEN of a ``results`` stream, in multiples of ``results_queue_size``.
RESULTS_MAXLEN_FACTOR = 10
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


@dataclass(slots=True)
class _Lag:
    """Last lag read for a stream, plus what this process appended since (the estimate between reads)."""

    lag: int = 0
    added: int = 0
    checked: float = float("-inf")


@dataclass(slots=True)
class _Sweep:
    """One consumer's XAUTOCLAIM pass over the streams of a topic (it may span several reads)."""

    last: float = float("-inf")
    todo: list[tuple[str, str]] = field(default_factory=list)  # (stream, room) still to sweep
    cursor: bytes = CURSOR_START


def _strs(members: Iterable[bytes | str]) -> set[str]:
    return {m.decode() if isinstance(m, bytes) else m for m in members}


def _stream_items(resp: Any) -> list[tuple[bytes, list[Any]]]:
    """XREADGROUP reply (RESP2 list or RESP3 dict) as ``[(stream, entries)]``."""
    if not resp:
        return []
    if isinstance(resp, dict):
        return list(resp.items())
    return [(name, entries) for name, entries in resp]


class RedisBus(Bus):
    """The bus on Redis Streams (see the module docstring)."""

    name = "redis"

    def __init__(self, url: str, settings: BusSettings | None = None) -> None:
        self.url = url
        self.settings = settings or BusSettings()
        #: Entries acknowledged without being delivered, by reason (``undecodable``, ``trimmed``).
        self.dropped: collections.Counter[str] = collections.Counter()
        self._r: aioredis.Redis | None = None
        self._topics: set[str] = set()
        self._declared: dict[str, set[str]] = {}
        self._registered: set[str] = set()  # streams this process listed in their room set
        self._grouped: set[tuple[str, str]] = set()  # (stream, stage) whose group is known to exist
        self._rooms: dict[str, tuple[float, list[str]]] = {}  # topic -> (read at, rooms)
        self._lags: dict[str, _Lag] = {}
        self._sweeps: dict[tuple[str, str, str], _Sweep] = {}
        self._turns: collections.Counter[tuple[str, str, str]] = collections.Counter()
        self._logged: dict[str, float] = {}

    # -- bounds ---------------------------------------------------------------------------------------

    def maxlen(self, topic: str) -> int:
        """Approximate MAXLEN of the streams of ``topic``."""
        if topic == RESULTS_TOPIC:
            return self.settings.results_queue_size * RESULTS_MAXLEN_FACTOR
        return self.settings.stream_maxlen

    def lag_bound(self, topic: str) -> int:
        """Unread entries per stream and group beyond which ``publish`` waits (never above MAXLEN)."""
        limit = self.settings.results_queue_size if topic == RESULTS_TOPIC else self.settings.max_lag
        return max(1, min(limit, self.maxlen(topic)))

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
        bound = self.lag_bound(topic)
        if not wait:
            if not await self._has_room(stream, len(records), bound, wait=False):
                return False
            await self._xadd(topic, stream, session_id, records)
            return True
        chunk = min(self.settings.batch_size, bound)  # a chunk always fits once the groups caught up
        for start in range(0, len(records), chunk):
            part = records[start : start + chunk]
            await self._has_room(stream, len(part), bound, wait=True)
            await self._xadd(topic, stream, session_id, part)
        return True

    async def _has_room(self, stream: str, n: int, bound: int, *, wait: bool) -> bool:
        """Whether ``n`` more entries keep each group's lag within ``bound``; with ``wait``: until they do."""
        waited_since: float | None = None
        while True:
            lag = await self._estimated_lag(stream, fresh=waited_since is not None)
            if lag + n <= bound:
                if waited_since is not None:
                    log.debug("publish to %s resumed after %.2fs", stream, time.monotonic() - waited_since)
                return True
            if not wait:
                return False
            if waited_since is None:
                waited_since = time.monotonic()
                self._warn(f"lag:{stream}", "publish to %s waits: lag %d + %d > %d", stream, lag, n, bound)
            await asyncio.sleep(self.settings.lag_wait_poll_s)

    async def _estimated_lag(self, stream: str, *, fresh: bool = False) -> int:
        """The groups' lag: read from Redis every ``lag_check_interval_s`` (or now, when ``fresh``, i.e.
        while a publisher waits), plus what this publisher appended since."""
        state = self._lags.setdefault(stream, _Lag())
        now = time.monotonic()
        if fresh or now - state.checked >= self.settings.lag_check_interval_s:
            state.lag = await self._group_lag(stream)
            state.added = 0
            state.checked = now
        return state.lag + state.added

    async def _group_lag(self, stream: str) -> int:
        """The largest lag of the groups on ``stream`` (0 without groups)."""
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

    async def _xadd(self, topic: str, stream: str, session_id: str, records: Sequence[Record]) -> None:
        now = time.time()
        maxlen = self.maxlen(topic)
        payloads = [
            orjson.dumps({"s": session_id, "t": now, **encode_record(rec)}, default=str) for rec in records
        ]
        # MULTI/EXEC: one round trip, and a blocked reader wakes up to the whole batch, not its first entry.
        async with self._redis.pipeline(transaction=True) as p:
            for payload in payloads:
                p.xadd(stream, {ENVELOPE_FIELD: payload}, maxlen=maxlen, approximate=True)
            await p.execute()
        state = self._lags.get(stream)
        if state is not None:
            state.added += len(payloads)

    # -- reading --------------------------------------------------------------------------------------

    async def read(self, topic: str, stage: str, consumer: str, count: int, block_ms: int) -> list[Delivery]:
        if stage not in self._declared.get(topic, ()):
            await self.declare(topic, stage)
        streams = await self._streams(topic, stage)
        if not streams:
            if block_ms > 0:
                await asyncio.sleep(block_ms / 1000)
            return []
        out = await self._reclaim(topic, stage, consumer, streams, count)
        if len(out) < count:
            out += await self._read_new(
                topic, stage, consumer, streams, count - len(out), 0 if out else block_ms
            )
        return out

    def _decode(self, room: str, entry_id: bytes, fields: dict[bytes, bytes] | None) -> Delivery | None:
        try:
            env = orjson.loads((fields or {})[ENVELOPE_FIELD])
            return Delivery(entry_id.decode(), room, str(env["s"]), decode_record(env), float(env["t"]))
        except Exception as exc:  # any malformed entry: drop it, never stop the reader
            self.dropped[DROP_UNDECODABLE] += 1
            self._warn(
                f"{DROP_UNDECODABLE}:{room}",
                "dropping undecodable bus entry %s in room %r (%s: %s); %d so far",
                entry_id,
                room,
                type(exc).__name__,
                exc,
                self.dropped[DROP_UNDECODABLE],
            )
            return None

    async def _read_new(
        self, topic: str, stage: str, consumer: str, streams: dict[str, str], want: int, block_ms: int
    ) -> list[Delivery]:
        """XREADGROUP ``>``: at most ``want`` deliveries, shared fairly between the room streams."""
        group = keys.group(stage)
        names = list(streams)
        turn = self._turns[(topic, stage, consumer)] % len(names)
        self._turns[(topic, stage, consumer)] += 1
        batch = (names[turn:] + names[:turn])[:want]  # at most `want` streams, rotating who comes first
        block: int | None = block_ms if block_ms > 0 else None
        out: list[Delivery] = []
        bad: dict[str, list[bytes]] = collections.defaultdict(list)
        for _ in range(MAX_READ_PASSES):
            share = max(1, (want - len(out)) // len(batch))  # share * len(batch) <= what is still wanted
            try:
                resp = await self._redis.xreadgroup(
                    group, consumer, dict.fromkeys(batch, ">"), count=share, block=block
                )
            except ResponseError as exc:
                if "NOGROUP" not in str(exc):
                    raise
                # A stream was deleted and re-created (e.g. FLUSHDB): make the groups again, read next time.
                self._grouped.difference_update((s, stage) for s in batch)
                await self._create_groups([(s, stage) for s in batch])
                break
            full: list[str] = []
            for raw_name, entries in _stream_items(resp):
                stream = raw_name.decode() if isinstance(raw_name, bytes) else raw_name
                for entry_id, fields in entries:
                    d = self._decode(streams[stream], entry_id, fields)
                    if d is None:
                        bad[stream].append(entry_id)
                    else:
                        out.append(d)
                if len(entries) >= share:
                    full.append(stream)
            left = want - len(out)
            if not full or left <= 0:
                break
            batch, block = full[:left], None  # those streams likely hold more: read them again now
        await self._ack_ids(group, bad)
        return out

    async def _reclaim(
        self, topic: str, stage: str, consumer: str, streams: dict[str, str], limit: int
    ) -> list[Delivery]:
        """XAUTOCLAIM entries idle longer than ``reclaim_idle_ms`` (a dead consumer's), every interval."""
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
        while sweep.todo and len(out) < limit:
            stream, room = sweep.todo[0]
            try:
                resp = await self._redis.xautoclaim(
                    stream,
                    group,
                    consumer,
                    min_idle_time=self.settings.reclaim_idle_ms,
                    start_id=sweep.cursor,
                    count=limit - len(out),
                )
            except ResponseError as exc:
                if "NOGROUP" not in str(exc):
                    raise
                resp = [CURSOR_START, [], []]
            cursor, claimed = resp[0], resp[1]
            deleted: list[bytes] = resp[2] if len(resp) > 2 else []
            for entry_id, fields in claimed:
                if entry_id is None:
                    continue
                d = self._decode(room, entry_id, fields)
                if d is None:
                    bad[stream].append(entry_id)
                else:
                    out.append(d)
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
        if out:
            log.info("%s/%s: %s reclaimed %d idle entries", topic, stage, consumer, len(out))
        return out

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
        ids: dict[str, list[str]] = collections.defaultdict(list)
        for d in deliveries:
            ids[keys.stream(topic, d.room)].append(d.id)
        await self._ack_ids(keys.group(stage), ids)

    async def _ack_ids(self, group: str, ids: dict[str, list[str]] | dict[str, list[bytes]]) -> None:
        """XACK, one command per stream, all in one round trip."""
        todo = [(stream, xs) for stream, xs in ids.items() if xs]
        if not todo:
            return
        async with self._redis.pipeline(transaction=False) as p:
            for stream, xs in todo:
                p.xack(stream, group, *xs)
            await p.execute()

    async def depths(self) -> dict[str, int]:
        """``{"topic/stage": unread + unacknowledged}`` summed over the rooms (all processes' stages)."""
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
        for (stream, names), groups in zip(plan, infos, strict=True):
            if isinstance(groups, Exception):
                continue  # stream gone
            for g in groups:
                label = names.get(g["name"])
                if label is not None:
                    out[label] += self._lag_of(stream, g) + int(g["pending"])
        return out

    def _warn(self, subject: str, msg: str, *args: object) -> None:
        """``log.warning`` at most once per ``LOG_EVERY_S`` per subject."""
        now = time.monotonic()
        if now - self._logged.get(subject, float("-inf")) >= LOG_EVERY_S:
            self._logged[subject] = now
            log.warning(msg, *args)
