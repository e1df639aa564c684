"""Clusters of repeated questions: near-duplicates of one intent within a sliding window share a cluster.

Per room and intent, open clusters sit in an ``OrderedDict`` ordered by their last join, so stale ones are
closed from the front in amortised O(1); joining is an exact key lookup, else a rapidfuzz ratio against the
(bounded) open keys of that intent. Memory is bounded by ``max_open_per_intent`` × intents × active rooms.
"""

from __future__ import annotations

import re
from collections import OrderedDict, deque
from dataclasses import dataclass, field

from rapidfuzz import fuzz, process

from livecs.triage.settings import ClusterSettings

# Words and particles that do not change which question is asked (主播 有S码吗 == 有S码吗呀).
_LEADING_FILLERS = (
    "主播", "宝宝", "宝贝", "请问", "姐妹们", "家人们", "亲", "老板", "小姐姐", "想问下", "问一下", "那个",
    "麻烦问下", "你好",
)  # fmt: skip
_TRAILING_FILLERS = ("主播", "宝宝", "宝贝")
_PARTICLES = "吗呢啊呀吧哦啦嘛么哈"
_FILLER_RE = re.compile(
    "^(?:" + "|".join(_LEADING_FILLERS) + ")+|(?:" + "|".join(_TRAILING_FILLERS) + ")$|"
    "[" + _PARTICLES + r"]+$|\[[^\]]{1,6}\]|[\W_]+"
)
_TRAILING = (*_TRAILING_FILLERS, *_PARTICLES)


def cluster_key(normalized: str) -> str:
    """The comparable core of a question (fillers, particles, emoji tags and punctuation removed)."""
    if (
        normalized.isalnum()
        and not normalized.startswith(_LEADING_FILLERS)
        and not normalized.endswith(_TRAILING)
    ):
        return normalized  # only word characters (no tag, no punctuation) and no filler at either end
    key = _FILLER_RE.sub("", normalized)
    return _FILLER_RE.sub("", key)


@dataclass(slots=True)
class Cluster:
    cluster_id: str
    room: str
    intent: str
    key: str
    representative: str
    first_ts: float
    last_ts: float
    count: int = 1
    members: deque[str] = field(default_factory=deque)
    keys: list[str] = field(default_factory=list)  # every key indexed to this cluster

    def age(self, now: float) -> float:
        return max(0.0, now - self.first_ts)


@dataclass(slots=True)
class _RoomClusters:
    by_intent: dict[str, OrderedDict[str, Cluster]] = field(default_factory=dict)
    key_index: dict[str, str] = field(default_factory=dict)  # key -> cluster id
    open_keys: dict[str, dict[str, str]] = field(default_factory=dict)  # intent -> cluster id -> key
    last_seen: float = 0.0  # comment time of the latest question
    last_wall: float = 0.0  # processing time (``wall``) of the latest question


class ClusterTracker:
    def __init__(self, settings: ClusterSettings) -> None:
        self.window_s = float(settings.window_s)
        self.similarity = float(settings.similarity)
        self.max_open_per_intent = settings.max_open_per_intent
        self.max_members_kept = settings.max_members_kept
        self.intents = frozenset(settings.intents)
        self.rooms: dict[str, _RoomClusters] = {}
        self._seq = 0
        self._last_room_sweep = 0.0

    def observe(
        self,
        room: str,
        intent: str,
        normalized: str,
        comment_id: str,
        now: float,
        key: str | None = None,
        wall: float | None = None,
    ) -> Cluster | None:
        """Join (or open) the cluster for this question; None when the intent is not clustered.

        ``now`` is the comment's time (windows and ages run on it); ``wall`` the processing time (idle rooms
        are dropped by it; defaults to ``now``). ``key`` is :func:`cluster_key` of ``normalized`` when the
        caller has it already (cached)."""
        if intent not in self.intents:
            return None
        if key is None:
            key = cluster_key(normalized)
        if not key:
            return None
        if wall is None:
            wall = now
        self._sweep_rooms(wall)
        state = self.rooms.get(room)
        if state is None:
            state = self.rooms[room] = _RoomClusters()
        if now > state.last_seen:
            state.last_seen = now
        state.last_wall = wall
        open_clusters = state.by_intent.get(intent)
        if open_clusters is None:  # (setdefault would build a new OrderedDict on every call)
            open_clusters = state.by_intent[intent] = OrderedDict()
        self._expire(state, open_clusters, now)
        cluster = self._find(state, open_clusters, state.open_keys.get(intent), key)
        if cluster is None:
            self._seq += 1
            cluster = Cluster(
                cluster_id=f"{room}:c{self._seq}",
                room=room,
                intent=intent,
                key=key,
                representative=normalized,
                first_ts=now,
                last_ts=now,
                members=deque(maxlen=self.max_members_kept),
            )
            open_clusters[cluster.cluster_id] = cluster
            state.key_index[key] = cluster.cluster_id
            cluster.keys.append(key)
            state.open_keys.setdefault(intent, {})[cluster.cluster_id] = key
            if len(open_clusters) > self.max_open_per_intent:
                _, evicted = open_clusters.popitem(last=False)
                self._forget(state, evicted)
        else:
            cluster.count += 1
            if now > cluster.last_ts:
                cluster.last_ts = now
            open_clusters.move_to_end(cluster.cluster_id)
            if key not in state.key_index and len(cluster.keys) < self.max_members_kept:
                state.key_index[key] = cluster.cluster_id
                cluster.keys.append(key)
        cluster.members.append(comment_id)
        return cluster

    def _find(
        self,
        state: _RoomClusters,
        open_clusters: OrderedDict[str, Cluster],
        open_keys: dict[str, str] | None,
        key: str,
    ) -> Cluster | None:
        cluster_id = state.key_index.get(key)
        if cluster_id is not None and cluster_id in open_clusters:
            return open_clusters[cluster_id]
        if not open_keys:
            return None
        best = process.extractOne(key, open_keys, scorer=fuzz.ratio, score_cutoff=self.similarity)
        return open_clusters[best[2]] if best is not None else None

    def _expire(self, state: _RoomClusters, open_clusters: OrderedDict[str, Cluster], now: float) -> None:
        horizon = now - self.window_s
        while open_clusters:
            oldest = next(iter(open_clusters.values()))
            if oldest.last_ts >= horizon:
                break
            open_clusters.popitem(last=False)
            self._forget(state, oldest)

    @staticmethod
    def _forget(state: _RoomClusters, cluster: Cluster) -> None:
        for key in cluster.keys:
            if state.key_index.get(key) == cluster.cluster_id:
                del state.key_index[key]
        state.open_keys.get(cluster.intent, {}).pop(cluster.cluster_id, None)

    def _sweep_rooms(self, wall: float) -> None:
        """Drop whole rooms idle (in processing time) for longer than the window, expire the others'
        clusters on their own comment clocks (runs at most once a window)."""
        if wall - self._last_room_sweep < self.window_s:
            return
        self._last_room_sweep = wall
        horizon = wall - self.window_s
        for room in [r for r, s in self.rooms.items() if s.last_wall < horizon]:
            del self.rooms[room]
        for state in self.rooms.values():
            for open_clusters in state.by_intent.values():
                self._expire(state, open_clusters, self._room_clock(state, wall))

    @staticmethod
    def _room_clock(state: _RoomClusters, wall: float) -> float:
        """``wall`` on the room's comment clock: the latest comment time plus the processing time since."""
        return state.last_seen + max(0.0, wall - state.last_wall)

    def open_clusters(self, room: str, now: float) -> list[Cluster]:
        """Open clusters of a room, biggest first (for the console and the streamer view); ``now`` is the
        processing time, mapped onto the room's comment clock."""
        state = self.rooms.get(room)
        if state is None:
            return []
        horizon = self._room_clock(state, now) - self.window_s
        found = [c for oc in state.by_intent.values() for c in oc.values() if c.last_ts >= horizon]
        return sorted(found, key=lambda c: (-c.count, c.first_ts))

    def tracked(self) -> int:
        return sum(len(oc) for s in self.rooms.values() for oc in s.by_intent.values())
