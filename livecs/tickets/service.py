"""The ticket service of a console: creates tickets from escalated cards, applies changes, records each one as
a ``ticket`` action in the record, contacts the viewer through the outbound connector, and answers the
overdue flag of the live panel (counted in the store, so consoles sharing a record agree).

Store calls run in a worker thread (:func:`asyncio.to_thread`); one asyncio lock orders the changes of this
console. A ticket's changes go to the record under the session it was escalated in.
"""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from livecs.errors import ErrorCode
from livecs.models import ActionKind, OperatorAction
from livecs.review.mask import mask_nickname, mask_text
from livecs.store import Store, StoreBatch
from livecs.tickets.model import (
    DONE,
    Kind,
    Status,
    Ticket,
    TicketError,
    TicketSettings,
    apply,
    new_ticket,
)
from livecs.tickets.store import TicketStore

if TYPE_CHECKING:
    from livecs.console.outbound import DeliveryJob, Outbox
    from livecs.console.state import Item

COMMENTS_KEPT = 50  # comments of a cluster copied into its ticket
OVERDUE_CACHE_S = 1.0  # the live panel's overdue count is read from the store at most this often per room
VIEWS = ("all", "mine", "overdue")


class TicketService:
    def __init__(
        self,
        tickets: TicketStore,
        record: Store,
        settings: TicketSettings | None = None,
        outbox: Outbox | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.db = tickets
        self.record = record
        self.settings = settings or TicketSettings()
        self.outbox = outbox
        self.clock = clock
        self._lock = asyncio.Lock()
        self._overdue: dict[str | None, tuple[float, int]] = {}  # room -> (when counted, count)

    def close(self) -> None:
        self.db.close()

    # -- reads ------------------------------------------------------------------------------------------
    def overdue_count(self, room: str | None, now: float | None = None) -> int:
        """Tickets of ``room`` (every room when ``None``) past a due time and not resolved or closed — read
        from the store (another console on the same record may have changed them), at most once every
        :data:`OVERDUE_CACHE_S` per room."""
        now = self.clock() if now is None else now
        cached = self._overdue.get(room)
        if cached is not None and 0 <= now - cached[0] < OVERDUE_CACHE_S:
            return cached[1]
        n = self.db.count_overdue(now, room)
        self._overdue[room] = (now, n)
        return n

    async def get(self, ticket_id: str) -> Ticket:
        t = await asyncio.to_thread(self.db.get, ticket_id)
        if t is None:
            raise TicketError("没有这个工单", f"no ticket {ticket_id!r}", code=ErrorCode.NOT_FOUND)
        return t

    async def list(
        self, *, view: str = "all", user: str = "", status: str = "", room: str = "", session_id: str = ""
    ) -> list[Ticket]:
        if view not in VIEWS:
            raise TicketError("未知的筛选", f"view must be one of {VIEWS}")
        statuses = [status] if status else []
        if status and status not in {s.value for s in Status}:
            raise TicketError("未知的工单状态", f"unknown status {status!r}")
        return await asyncio.to_thread(
            self.db.query,
            owner=user if view == "mine" else None,
            statuses=statuses,
            room=room or None,
            session_id=session_id or None,
            overdue_at=self.clock() if view == "overdue" else None,
        )

    # -- changes ----------------------------------------------------------------------------------------
    async def create_from_item(self, item: Item, note: str, by: str) -> Ticket:
        """A ticket for an escalated card (its viewer and comments, the operator's note)."""
        now = self.clock()
        rep = item.first
        members = list(item.members)[-COMMENTS_KEPT:]
        t = new_ticket(
            "",
            room=item.room,
            session_id=item.session_id,
            item_id=item.item_id,
            target_id=item.target_id,
            source=item.kind,
            intent=item.intent.value,
            priority=item.priority.value,
            viewer={"user_id": rep.user_id, "nickname": rep.nickname, "member_tier": int(rep.member_tier)},
            comments=[m.to_dict() for m in members],
            note=note,
            by=by,
            now=now,
            settings=self.settings,
        )
        async with self._lock:
            await asyncio.to_thread(self.db.insert, t)
            self._overdue.clear()
            await self._record(t, by, now, Kind.CREATE.value, t.note)
        return t

    async def change(
        self, ticket_id: str, kind: str, by: str, *, text: str = "", owner: str = "", outcome: str = ""
    ) -> Ticket:
        async with self._lock:
            t = await self.get(ticket_id)  # as stored now (another console may have changed it)
            now = self.clock()
            change = apply(t, kind, by, now, text=text, owner=owner, outcome=outcome)
            await asyncio.to_thread(self.db.update, t)
            self._overdue.clear()
            note = change.kind.value
            if change.kind is Kind.REASSIGN:
                note += f" → {change.owner}"
            elif change.kind is Kind.CLOSE:
                note += f": {t.outcome}"
            action = await self._record(t, by, now, note, change.text)
        if change.kind is Kind.CONTACT:
            await self._contact(t, action)
        return t

    async def _record(self, t: Ticket, by: str, now: float, note: str, text: str) -> OperatorAction:
        action = OperatorAction(
            action_id=f"a-{secrets.token_hex(8)}",
            room=t.room,
            operator=by,
            kind=ActionKind.TICKET,
            target_id=t.ticket_id,
            ts=now,
            text=text,
            note=note,
            user_id=str(t.viewer.get("user_id", "")),
        )
        await self.record.write(StoreBatch(actions=[(t.session_id, action)]))
        return action

    async def _contact(self, t: Ticket, action: OperatorAction) -> None:
        """Send the reply to the viewer through the console's outbound connector; each delivery attempt is
        recorded like a reply's (``<action_id>.<attempt>`` with its ``delivery_status``)."""
        from livecs.console.outbound import RETRYING, DeliveryJob

        if self.outbox is None:
            return
        first = t.comments[0] if t.comments else {}
        message = {
            "type": "reply",
            "room": t.room,
            "text": action.text,
            "reply_to": first.get("comment_id", ""),
            "user_id": t.viewer.get("user_id", ""),
            "nickname": t.viewer.get("nickname", ""),
            "cluster_id": "",
            "ticket_id": t.ticket_id,
            "action_id": action.action_id,
            "operator": action.operator,
        }
        outbox = self.outbox

        async def on_status(job: DeliveryJob, status: str, error: str) -> None:
            now = self.clock()
            outcome = OperatorAction(
                action_id=f"{action.action_id}.{job.attempts}",
                room=action.room,
                operator=action.operator,
                kind=ActionKind.TICKET,
                target_id=action.target_id,
                ts=now,
                text=action.text,
                note=f"contact attempt {job.attempts}/{outbox.cfg.max_attempts}"
                + (f": {error}" if error else ""),
                user_id=action.user_id,
                delivery_status=status if status != RETRYING else "failed",
            )
            await self.record.write(StoreBatch(actions=[(t.session_id, outcome)]))
            if status != RETRYING:  # sent or gave up: shown on the ticket
                async with self._lock:
                    t.contact_status = status
                    await asyncio.to_thread(self.db.update, t)

        await outbox.submit(DeliveryJob(t.room, message, on_status))


def view_of(t: Ticket, now: float, *, masked: bool) -> dict[str, Any]:
    """A ticket for the API; ``masked`` (a merchant reading) hides the viewer's id and personal data."""
    d = t.to_dict(now)
    if masked:
        viewer = dict(t.viewer)
        viewer["user_id"] = ""
        viewer["nickname"] = mask_nickname(str(viewer.get("nickname", "")))
        d["viewer"] = viewer
        d["comments"] = [
            {
                **c,
                "user_id": "",
                "nickname": mask_nickname(str(c.get("nickname", ""))),
                "text": mask_text(str(c.get("text", ""))),
            }
            for c in t.comments
        ]
        d["note"] = mask_text(t.note)
        d["history"] = [{**h, "text": mask_text(str(h.get("text", "")))} for h in d["history"]]
        d["resolution"] = mask_text(t.resolution)
    d["done"] = t.status in DONE
    return d
