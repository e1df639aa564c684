"""Every Redis key and stream name livecs uses, in one place (per room: ``livecs:{room}:…``).

Nothing else in the code base spells a Redis key; add new ones here.
"""

from __future__ import annotations

PREFIX = "livecs"

# Topics (one stream per topic and room) and the consumer groups (stages) that read them.
#: accepted comments and events, as the ingest sink publishes them
COMMENTS_TOPIC = "comments"
#: one result record per comment (comment, triage, suggestions), as the processor publishes them
RESULTS_TOPIC = "results"
#: the processor's group on ``comments``
PROCESS_STAGE = "process"
#: display groups of the benchmark and the soak on ``results`` (the console's: ``console.results_stage``)
BENCH_DISPLAY_STAGE = "bench-display"
SOAK_DISPLAY_STAGE = "soak-display"

#: Set of rooms that have an input stream (consumers discover streams from it).
ROOMS = f"{PREFIX}:rooms"


def stream(topic: str, room: str) -> str:
    """The stream carrying ``topic`` records (``comments``, ``results``…) of one room."""
    return f"{PREFIX}:{room}:{topic}"


def group(stage: str) -> str:
    """The consumer group of one pipeline stage (one group per stage, shared by all rooms)."""
    return f"{PREFIX}:g:{stage}"


def session(room: str) -> str:
    """Hash holding the current broadcast session of a room."""
    return f"{PREFIX}:{room}:session"


def dedup(room: str) -> str:
    """Set-like key space for message ids already accepted in a room (dedup across ingest workers)."""
    return f"{PREFIX}:{room}:seen"


def dead_letter(room: str) -> str:
    """Stream of the room's poison entries: delivered ``bus.max_deliveries`` times and never acknowledged,
    copied here (with their stream, entry id, group and delivery count) and acknowledged."""
    return f"{PREFIX}:{room}:dead-letter"


# The registries below keep a single ``:`` so no room name can make a per-room key (``livecs:{room}:…``)
# collide with them.

#: A token that exists while the bus's data survive: a bus that finds it gone (or changed) after a Redis
#: restart without persistence, or a FLUSHDB, re-creates its stages, rooms and groups and re-sends what it
#: published and no stage acknowledged.
EPOCH = f"{PREFIX}:epoch"

#: Set of topics that have streams (``depths`` walks them).
TOPICS = f"{PREFIX}:topics"


def rooms(topic: str) -> str:
    """Set of rooms that have a ``topic`` stream (consumers discover the streams of a topic from it)."""
    return f"{ROOMS}.{topic}"


def stages(topic: str) -> str:
    """Set of stages declared on ``topic`` (a publisher creates their groups on a new room's stream)."""
    return f"{PREFIX}:stages.{topic}"


def coupon_issued(room: str, rule_id: str) -> str:
    """Counter of coupons of one rule issued in a room (compared with the rule's stock)."""
    return f"{PREFIX}:{room}:coupon:{rule_id}:issued"


def coupon_users(room: str, rule_id: str) -> str:
    """Hash user id → coupons of one rule that user received in a room (per-user limit)."""
    return f"{PREFIX}:{room}:coupon:{rule_id}:users"


def coupon_cooldown(room: str, rule_id: str) -> str:
    """Flag set for the per-room cooldown after each issue of a rule (expires by itself)."""
    return f"{PREFIX}:{room}:coupon:{rule_id}:cooldown"
