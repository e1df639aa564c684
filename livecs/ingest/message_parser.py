"""What the platform message parsers (Bilibili commands, Douyin webcast messages) share. Pure.

:class:`PlatformParser` holds a room's counters (``parsed``, ``unknown``, ``malformed``, ``skipped``, by
command or method name), counts and logs (once per name) what is not handled, reads a message so that
nothing raises on bad input (:meth:`PlatformParser.guarded`), and builds the :class:`Comment` and
:class:`LiveEvent` records from the viewer's standing (tier, fan level and the platform's extras).
:func:`stable_id` gives a message without an id of its own the same id each time it is delivered.
"""

from __future__ import annotations

import abc
import hashlib
import logging
from collections import Counter
from collections.abc import Callable, Mapping
from typing import Any, Final, Generic, Protocol, TypeVar

from livecs.models import Comment, EventKind, LiveEvent, MemberTier

Record = Comment | LiveEvent

#: hex digits of a hashed id
HASH_ID_CHARS: Final = 20


def stable_id(prefix: str, *parts: Any) -> str:
    """``prefix-<hash>`` of the parts: the same message delivered twice gets the same id."""
    digest = hashlib.blake2b(
        "\x1f".join(str(p) for p in parts).encode("utf-8", "surrogatepass"), digest_size=16
    )
    return f"{prefix}-{digest.hexdigest()[:HASH_ID_CHARS]}"


class Standing(Protocol):
    """A viewer's standing in the room, as far as the records need it (each platform adds its own)."""

    @property
    def tier(self) -> MemberTier: ...

    @property
    def fan_level(self) -> int: ...


StandingT = TypeVar("StandingT", bound=Standing)


class PlatformParser(abc.ABC, Generic[StandingT]):
    """Counters, the not-handled and could-not-read paths, and record building for one room's messages."""

    #: the platform as the log lines name it
    label: str
    #: what a message's name is called in the log lines (``command``, ``method``)
    name_kind: str
    logger: logging.Logger
    #: the handled names → their handlers (set by the subclass)
    _handlers: Mapping[str, object]

    def __init__(self, room: str, platform: str) -> None:
        self.room = room
        self.platform = platform
        self.parsed: Counter[str] = Counter()
        self.unknown: Counter[str] = Counter()
        self.malformed: Counter[str] = Counter()
        self.skipped: Counter[str] = Counter()

    @property
    def handled(self) -> frozenset[str]:
        return frozenset(self._handlers)

    @abc.abstractmethod
    def standing_extras(self, standing: StandingT) -> dict[str, Any]:
        """What a record's ``extras`` (or an event's ``data``) keep of the viewer's standing."""

    def not_handled(self, name: str) -> list[Record]:
        """Count a message nobody handles (logged the first time its name is seen); no records."""
        self.unknown[name] += 1
        if self.unknown[name] == 1:
            self.logger.info(
                "%s room %s: %s %r not handled (counted, logged once)",
                self.label,
                self.room,
                self.name_kind,
                name[:64],
            )
        return []

    def guarded(
        self, name: str, read: Callable[[], list[Record]], quiet: tuple[type[Exception], ...] = ()
    ) -> list[Record]:
        """``read()``'s records, counted as parsed; a message it cannot read is counted as malformed (and
        logged, unless its exception is one of ``quiet``): never raises."""
        try:
            records = read()
        except quiet:
            self.malformed[name] += 1
            return []
        except Exception as exc:  # defensive reading should make this unreachable; count it, never crash
            self.malformed[name] += 1
            self.logger.warning("%s room %s: %s could not be read: %r", self.label, self.room, name, exc)
            return []
        if records:
            self.parsed[name] += 1
        return records

    def comment(
        self,
        comment_id: str,
        *,
        user_id: str,
        nickname: str,
        text: str,
        ts: float,
        standing: StandingT,
        extras: dict[str, Any],
    ) -> Comment:
        """A comment of this room by a viewer of ``standing`` (``extras`` as given: call
        :meth:`standing_extras` to include the standing)."""
        return Comment(
            comment_id=comment_id,
            platform=self.platform,
            room=self.room,
            user_id=user_id,
            nickname=nickname,
            text=text,
            ts=ts,
            member_tier=standing.tier,
            fan_level=standing.fan_level,
            extras=extras,
        )

    def event(
        self,
        event_id: str,
        kind: EventKind,
        ts: float,
        *,
        user_id: str,
        nickname: str,
        standing: StandingT | None,
        data: dict[str, Any],
    ) -> LiveEvent:
        """An event of this room; the viewer's standing (when there is a viewer) joins ``data``."""
        if standing is not None:
            data.update(self.standing_extras(standing))
        return LiveEvent(
            event_id=event_id,
            platform=self.platform,
            room=self.room,
            kind=kind,
            ts=ts,
            user_id=user_id,
            nickname=nickname,
            member_tier=standing.tier if standing is not None else MemberTier.NONE,
            data=data,
        )
