"""Every Redis key and stream name livecs uses, in one place (per room: ``livecs:{room}:…``).

Nothing else in the code base spells a Redis key; add new ones here.
"""

from __future__ import annotations

PREFIX = "livecs"

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
