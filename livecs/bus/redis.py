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

**Redis outages are survived; what was published is kept until it is acknowledged.** Every entry this process
appends to a ``comments`` stream stays in its *ledger* (the encoded entry, in memory) until every group on
the stream has read and acknowledged it (XINFO GROUPS + XPENDING, at each lag check and in
:meth:`RedisBus.outstanding`), so the ledger is bounded like the lag. When Redis cannot be reached (a
connection error or timeout) the bus is *down*: ``comments`` publishes go to the ledger unsent (the outage
buffer, ``outage_buffer`` records; beyond it :class:`BusUnavailable` is raised: the webhook answers 503, the
other sources pause), ``results`` publishes raise and offers return ``False``, reads, acks and depths raise
:class:`BusUnavailable` or report nothing. At every call while down, and every :data:`EPOCH_CHECK_S` while up,
the bus checks the ``keys.EPOCH`` token: gone or changed means the server lost its data (a restart without
persistence, a FLUSHDB). Then it declares its stages again, forgets which streams, rooms and groups it knew
(so they are created again), marks the ledger entries that Redis no longer holds as unsent, and re-sends
every unsent entry in order — logged, with the outage's length. Readers also re-create a missing group when
XREADGROUP answers NOGROUP. :meth:`RedisBus.status` says whether Redis is reachable, for the live panel;
:meth:`RedisBus.abandon` hands a stopping process its ledger while Redis is away, so it can record it.

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
import secrets
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import orjson
import redis.asyncio as aioredis
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError, ResponseError
from redis.exceptions import TimeoutError as RedisTimeoutError

from livecs import keys
from livecs.bus.base import Bus, BusUnavailable, Delivery
from livecs.config import BusSettings
from livecs.errors import ErrorCode, LivecsError
from livecs.models import Record, decode_record, encode_record

log = logging.getLogger(__name__)

#: The one field of a stream entry that holds the envelope.
ENVELOPE_FIELD = b"e"
# The display topic (``keys.RESULTS_TOPIC``) is bounded by ``results_queue_size`` like the in-process bus;
# the rooms of the topic ingest publishes to (``keys.COMMENTS_TOPIC``) are also listed in ``keys.ROOMS``.
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


#: Errors that mean "Redis cannot be reached now" (not a bad command): the bus goes down and recovers.
LOST_ERRORS: tuple[type[BaseException], ...] = (RedisConnectionError, RedisTimeoutError, OSError)
#: While Redis is up, the epoch token is checked this often (a restart that lost the data is found within it).
EPOCH_CHECK_S = 1.0
#: A command that fails on a lost connection is retried this often (short: an outage is handled above).
COMMAND_RETRIES = 2


class RedisBusError(LivecsError, ConnectionError):
    """The bus's Redis server cannot be used; the message names the URL (without its password)."""

    code = ErrorCode.UNAVAILABLE


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
class _Sent:
    """A ``comments`` entry this process published (or has still to send) and no stage acknowledged yet."""

    room: str
    payload: bytes  # the envelope, as XADDed
    records: int
    entry_id: bytes | None = None  # None: not in Redis (buffered in an outage, or lost with Redis's data)


def _entry_key(entry_id: bytes | str) -> tuple[int, int]:
    raw = entry_id.decode() if isinstance(entry_id, bytes) else entry_id
    ms, _, seq = raw.partition("-")
    return int(ms), int(seq or 0)


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


def _as_bytes(value: bytes | str) -> bytes:
    return value if isinstance(value, bytes) else value.encode()


def _opt_bytes(value: bytes | str | None) -> bytes | None:
    return None if value is None else _as_bytes(value)


def _chunks(records: Sequence[Record], size: int) -> list[Sequence[Record]]:
    return [records[i : i + size] for i in range(0, len(records), size)]


class RedisBus(Bus):
    """The bus on Redis Streams (see the module docstring)."""

    name = "redis"
    durable = True

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
        #: ``comments`` entries published and not yet acknowledged by every group, per stream, in order
        self._ledger: dict[str, collections.deque[_Sent]] = {}
        self._unsent = 0  # records in ledger entries not in Redis
        self._down_since: float | None = None  # monotonic time Redis became unreachable
        self._down_reason = ""
        self._epoch: bytes | None = None
        self._epoch_checked = float("-inf")
        self._recovering = asyncio.Lock()
        #: times Redis became unreachable, and times its data were found lost (groups re-created)
        self.outages = 0
        self.resyncs = 0

    # -- bounds ---------------------------------------------------------------------------------------

    def maxlen(self, topic: str) -> int:
        """Records a stream of ``topic`` keeps, approximately (see :meth:`maxlen_entries`)."""
        if topic == keys.RESULTS_TOPIC:
            return self.settings.results_queue_size * RESULTS_MAXLEN_FACTOR
        return self.settings.stream_maxlen

    def lag_bound(self, topic: str) -> int:
        """Unread records per stream and group beyond which ``publish`` waits (never above MAXLEN)."""
        limit = self.settings.results_queue_size if topic == keys.RESULTS_TOPIC else self.settings.max_lag
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
            client = aioredis.Redis.from_url(
                self.url,
                decode_responses=False,
                retry=Retry(ExponentialBackoff(cap=0.2, base=0.02), COMMAND_RETRIES),
            )
        except ValueError as exc:
            raise RedisBusError(f"Redis bus: invalid URL {where}: {exc}") from exc
        try:
            await client.ping()
            await client.set(keys.EPOCH, secrets.token_hex(8), nx=True)
            self._epoch = _opt_bytes(await client.get(keys.EPOCH))
        except (RedisError, OSError) as exc:
            await client.aclose(close_connection_pool=True)
            raise RedisBusError(f"Redis bus: cannot reach Redis at {where}: {exc}") from exc
        self._epoch_checked = time.monotonic()
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
        try:
            await self._ensure()
            await self._declare(topic, stage)
        except LOST_ERRORS as exc:
            raise self._down(exc) from exc

    async def _declare(self, topic: str, stage: str) -> None:
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
            if topic == keys.COMMENTS_TOPIC:
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
        ledgered = topic == keys.COMMENTS_TOPIC
        parts = _chunks(records, self.chunk(topic))  # a chunk always fits once the groups caught up
        try:
            await self._ensure()
        except BusUnavailable:
            if not ledgered:
                if wait:
                    raise
                return False
            self._buffer(room, session_id, parts, force=False)
            return True
        sent = 0
        try:
            stream = await self._register(topic, room)
            if not wait:  # all or nothing: every chunk in one MULTI/EXEC
                if not await self._has_room(topic, stream, [len(p) for p in parts], wait=False):
                    return False
                ids = await self._xadd(topic, stream, session_id, parts)
                self._keep(stream, room, parts, ids)
                return True
            for part in parts:
                await self._has_room(topic, stream, [len(part)], wait=True)
                ids = await self._xadd(topic, stream, session_id, [part])
                self._keep(stream, room, [part], ids)
                sent += 1
        except LOST_ERRORS as exc:
            err = self._down(exc)
            if not ledgered:
                if wait:
                    raise err from exc
                return False
            # what was sent is in the ledger; the rest waits in the outage buffer (all of it once a part
            # went out: a publish is never half refused)
            self._buffer(room, session_id, parts[sent:], force=sent > 0, cause=err)
        return True

    def _keep(
        self, stream: str, room: str, parts: Sequence[Sequence[Record]], ids: list[tuple[bytes, bytes]]
    ) -> None:
        """Remember published ``comments`` entries until every group acknowledged them."""
        if keys.stream(keys.COMMENTS_TOPIC, room) != stream:
            return
        ledger = self._ledger.setdefault(stream, collections.deque())
        for part, (entry_id, payload) in zip(parts, ids, strict=True):
            ledger.append(_Sent(room, payload, len(part), entry_id))

    def _buffer(
        self,
        room: str,
        session_id: str,
        parts: Sequence[Sequence[Record]],
        *,
        force: bool,
        cause: BusUnavailable | None = None,
    ) -> None:
        """Keep ``comments`` records in memory until Redis is back; :class:`BusUnavailable` (nothing kept)
        when the outage buffer is full, unless ``force``."""
        n = sum(len(p) for p in parts)
        if not force and self._unsent + n > self.settings.outage_buffer:
            raise BusUnavailable(
                f"Redis at {redact_url(self.url)} unreachable ({self._down_reason}); "
                f"outage buffer full ({self._unsent} records)"
            ) from cause
        ledger = self._ledger.setdefault(keys.stream(keys.COMMENTS_TOPIC, room), collections.deque())
        now = time.time()
        for part in parts:
            ledger.append(_Sent(room, self._payload(session_id, now, part), len(part)))
        self._unsent += n

    @staticmethod
    def _payload(session_id: str, now: float, part: Sequence[Record]) -> bytes:
        return orjson.dumps(
            {"s": session_id, "t": now, "r": [encode_record(rec) for rec in part]}, default=str
        )

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
            if self._ledger.get(stream):
                await self._confirm(stream)
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
    ) -> list[tuple[bytes, bytes]]:
        """One entry per part; several parts go in one MULTI/EXEC (all or nothing, one round trip).
        Returns ``(entry id, payload)`` of each."""
        now = time.time()
        payloads = [self._payload(session_id, now, part) for part in parts]
        state = self._stream_state(stream)
        sizes = [len(part) for part in parts]
        state.per_entry = _ewma(state.per_entry, sizes)
        maxlen = self.maxlen_entries(topic, state.per_entry)
        if len(payloads) == 1:
            ids = [
                await self._redis.xadd(stream, {ENVELOPE_FIELD: payloads[0]}, maxlen=maxlen, approximate=True)
            ]
        else:
            async with self._redis.pipeline(transaction=True) as p:
                for payload in payloads:
                    p.xadd(stream, {ENVELOPE_FIELD: payload}, maxlen=maxlen, approximate=True)
                ids = await p.execute()
        state.added += len(payloads)
        state.added_records += sum(sizes)
        return [(_as_bytes(i), payload) for i, payload in zip(ids, payloads, strict=True)]

    # -- reading --------------------------------------------------------------------------------------

    async def read(self, topic: str, stage: str, consumer: str, count: int, block_ms: int) -> list[Delivery]:
        try:
            await self._ensure()
            return await self._read(topic, stage, consumer, count, block_ms)
        except LOST_ERRORS as exc:
            raise self._down(exc) from exc

    async def _read(self, topic: str, stage: str, consumer: str, count: int, block_ms: int) -> list[Delivery]:
        if stage not in self._declared.get(topic, ()):
            await self._declare(topic, stage)
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
        try:
            await self._ack_ids(keys.group(stage), {stream: list(xs) for stream, xs in ids.items()})
        except LOST_ERRORS as exc:  # the entries stay pending (or are gone with Redis's data)
            raise self._down(exc) from exc

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
        stages): entries counted by Redis times the stream's records-per-entry estimate. ``{}`` while Redis
        is away (:meth:`status` says so)."""
        try:
            await self._ensure()
            return await self._depths()
        except BusUnavailable:
            return {}
        except LOST_ERRORS as exc:
            self._down(exc)
            return {}

    async def _depths(self) -> dict[str, int]:
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

    # -- outages ----------------------------------------------------------------------------------------

    def _down(self, exc: BaseException) -> BusUnavailable:
        """Note that Redis cannot be reached (logged once per outage); the error to raise."""
        if isinstance(exc, BusUnavailable):  # already noted (by _ensure)
            return exc
        self._down_reason = f"{type(exc).__name__}: {exc}"
        if self._down_since is None:
            self._down_since = time.monotonic()
            self.outages += 1
            log.warning(
                "Redis bus: %s unreachable (%s); comments are buffered (up to %d records), readers retry",
                redact_url(self.url),
                self._down_reason,
                self.settings.outage_buffer,
            )
        return BusUnavailable(f"Redis at {redact_url(self.url)} unreachable ({self._down_reason})")

    async def _ensure(self) -> None:
        """While down: is Redis back? While up, every :data:`EPOCH_CHECK_S`: did it lose its data? Either
        way re-create what is missing and re-send what is unsent. :class:`BusUnavailable` while down."""
        if self._down_since is None and time.monotonic() - self._epoch_checked < EPOCH_CHECK_S:
            return
        async with self._recovering:
            if self._down_since is None and time.monotonic() - self._epoch_checked < EPOCH_CHECK_S:
                return
            try:
                epoch = _opt_bytes(await self._redis.get(keys.EPOCH))
                if epoch is None or epoch != self._epoch:
                    await self._resync()
                self._epoch_checked = time.monotonic()
                if self._down_since is not None:
                    log.warning(
                        "Redis bus: %s reachable again after %.1fs; resuming (%d buffered records to send)",
                        redact_url(self.url),
                        time.monotonic() - self._down_since,
                        self._unsent,
                    )
                    self._down_since = None
                if self._unsent:
                    await self._resend()
            except LOST_ERRORS as exc:
                raise self._down(exc) from exc

    async def _resync(self) -> None:
        """Redis lost its data: declare the stages again, forget the streams, rooms and groups known to
        exist, and mark the ledger entries it no longer holds as unsent."""
        r = self._redis
        await r.set(keys.EPOCH, secrets.token_hex(8), nx=True)
        epoch = _opt_bytes(await r.get(keys.EPOCH))  # ours only once the ledger is checked (see _confirm)
        self._registered.clear()
        self._grouped.clear()
        self._rooms.clear()
        self._sweeps.clear()
        for state in self._state.values():
            state.lag = state.added = state.added_records = 0
            state.checked = float("-inf")
        for topic, stages in list(self._declared.items()):
            for stage in sorted(stages):
                await self._declare(topic, stage)
        sent = [
            (stream, e, e.entry_id)
            for stream, ledger in self._ledger.items()
            for e in ledger
            if e.entry_id is not None
        ]
        missing = 0
        if sent:
            async with r.pipeline(transaction=False) as p:
                for stream, _, entry_id in sent:
                    p.xrange(stream, min=entry_id, max=entry_id, count=1)
                found = await p.execute(raise_on_error=False)
            for (_, e, _), got in zip(sent, found, strict=True):
                if not got or isinstance(got, Exception):
                    e.entry_id = None
                    self._unsent += e.records
                    missing += e.records
        self._epoch = epoch
        self.resyncs += 1
        log.warning(
            "Redis bus: the server lost its data (restart or flush): stages, streams and groups re-created; "
            "%d published records it no longer holds will be sent again",
            missing,
        )

    async def _resend(self) -> None:
        """XADD the unsent ledger entries, in order, stream by stream."""
        sent = 0
        for stream, ledger in list(self._ledger.items()):
            todo = [e for e in ledger if e.entry_id is None]
            if not todo:
                continue
            await self._register(keys.COMMENTS_TOPIC, todo[0].room)
            state = self._stream_state(stream)
            maxlen = self.maxlen_entries(keys.COMMENTS_TOPIC, state.per_entry)
            for e in todo:
                entry_id = await self._redis.xadd(
                    stream, {ENVELOPE_FIELD: e.payload}, maxlen=maxlen, approximate=True
                )
                e.entry_id = _as_bytes(entry_id)
                self._unsent -= e.records
                sent += e.records
        if sent:
            log.warning("Redis bus: %d buffered records sent; work resumes", sent)

    async def _confirm(self, stream: str) -> None:
        """Drop from the ledger the entries every group on ``stream`` has read and acknowledged."""
        ledger = self._ledger.get(stream)
        if not ledger:
            return
        async with self._recovering:  # never while a resync is re-checking the ledger
            await self._confirm_locked(stream, ledger)

    async def _confirm_locked(self, stream: str, ledger: collections.deque[_Sent]) -> None:
        async with self._redis.pipeline(transaction=False) as p:
            p.get(keys.EPOCH)
            p.xinfo_groups(stream)
            epoch, groups = await p.execute(raise_on_error=False)
        if isinstance(epoch, Exception) or _opt_bytes(epoch) != self._epoch:
            # Redis lost its data since the last check: the ids it shows now say nothing about ours
            self._epoch_checked = float("-inf")  # the next call re-creates and re-sends
            return
        if isinstance(groups, Exception) or not groups:  # no stream or no group yet
            return
        bounds: list[tuple[tuple[int, int], tuple[int, int] | None]] = []  # (last delivered, min pending)
        for g in groups:
            last = _entry_key(g["last-delivered-id"])
            low = None
            if int(g["pending"]):
                summary = await self._redis.xpending(stream, g["name"])
                low = _entry_key(summary["min"]) if summary.get("min") else None
            bounds.append((last, low))
        while ledger and ledger[0].entry_id is not None:
            key = _entry_key(ledger[0].entry_id)
            if all(key <= last and (low is None or key < low) for last, low in bounds):
                ledger.popleft()
            else:
                break

    async def outstanding(self, topic: str) -> int:
        """Records this process published on ``topic`` (``comments`` only) not yet acknowledged by every
        group, including those still to send."""
        if topic != keys.COMMENTS_TOPIC:
            return 0
        try:
            await self._ensure()
            for stream in [s for s, ledger in self._ledger.items() if ledger]:
                await self._confirm(stream)
        except BusUnavailable:
            pass
        except LOST_ERRORS as exc:
            self._down(exc)
        return sum(e.records for ledger in self._ledger.values() for e in ledger)

    async def abandon(self, topic: str) -> list[Delivery]:
        """While Redis is away: the ledger (sent and unsent), as deliveries, for a stop to record; it is
        cleared. While Redis is up, nothing (what is there is delivered to the workers)."""
        if topic != keys.COMMENTS_TOPIC or self._down_since is None:
            return []
        out: list[Delivery] = []
        for stream, ledger in self._ledger.items():
            for e in ledger:
                out.extend(self._expand(stream, e.room, e.entry_id or b"0-0", {ENVELOPE_FIELD: e.payload}))
            ledger.clear()
        self._unsent = 0
        return out

    def status(self) -> dict[str, object]:
        """Reachability for the live panel: ``state`` ok/down, how long down, buffered and unacknowledged
        records, outages and data losses seen."""
        down = self._down_since
        return {
            "state": "ok" if down is None else "down",
            "down_s": 0.0 if down is None else round(time.monotonic() - down, 1),
            "buffered": self._unsent,
            "unacknowledged": sum(e.records for ledger in self._ledger.values() for e in ledger),
            "outages": self.outages,
            "resyncs": self.resyncs,
        }

    def _warn(self, subject: str, msg: str, *args: object) -> None:
        """``log.warning`` at most once per ``LOG_EVERY_S`` per subject."""
        now = time.monotonic()
        if now - self._logged.get(subject, float("-inf")) >= LOG_EVERY_S:
            self._logged[subject] = now
            log.warning(msg, *args)
