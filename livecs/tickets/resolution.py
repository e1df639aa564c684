"""Resolution (问题解决) and satisfaction (满意度) marks of the live panel. Pure.

An operator marks a card or cluster 已解决 / 未解决 (``resolve`` action, note ``resolved``/``unresolved``) and
may mark the viewer's follow-up 满意 / 不满意 (``satisfaction``, ``satisfied``/``unsatisfied``). A mark can be
changed: the last one on a card counts. :class:`Tally` keeps one room's marks and gives the rates overall, by
intent and by the operator who marked.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from livecs.errors import ErrorCode, LivecsError

RESOLVE = "resolve"
SATISFACTION = "satisfaction"
MARKS: dict[str, tuple[str, str]] = {  # kind -> (good, bad)
    RESOLVE: ("resolved", "unresolved"),
    SATISFACTION: ("satisfied", "unsatisfied"),
}
MARK_ZH = {"resolved": "已解决", "unresolved": "未解决", "satisfied": "满意", "unsatisfied": "不满意"}


class MarkError(LivecsError, ValueError):
    """A mark that is not one of its kind's two values."""

    code = ErrorCode.INVALID


def check_mark(kind: str, mark: str) -> str:
    good_bad = MARKS.get(kind)
    mark = (mark or "").strip()
    if good_bad is None or mark not in good_bad:
        raise MarkError(f"{kind} must be one of {good_bad}")
    return mark


def rate(good: int, total: int) -> float | None:
    return None if total == 0 else round(good / total, 4)


@dataclass(slots=True)
class _Mark:
    intent: str
    operator: str
    good: bool


@dataclass
class Tally:
    """One room's marks (the last per card and kind)."""

    marks: dict[str, dict[str, _Mark]] = field(default_factory=lambda: {k: {} for k in MARKS})

    def mark(self, kind: str, target: str, intent: str, operator: str, mark: str) -> None:
        mark = check_mark(kind, mark)
        self.marks[kind][target] = _Mark(intent, operator, mark == MARKS[kind][0])

    def summary(self) -> dict[str, Any]:
        """Per kind: ``good``, ``marked``, ``rate`` overall and ``by_intent`` / ``by_operator``."""
        out: dict[str, Any] = {}
        for kind, marks in self.marks.items():
            by_intent: dict[str, list[int]] = {}
            by_op: dict[str, list[int]] = {}
            for m in marks.values():
                for table, key in ((by_intent, m.intent), (by_op, m.operator)):
                    acc = table.setdefault(key, [0, 0])
                    acc[0] += m.good
                    acc[1] += 1
            good = sum(m.good for m in marks.values())

            def rows(table: dict[str, list[int]]) -> dict[str, dict[str, Any]]:
                return {
                    k: {"good": g, "marked": n, "rate": rate(g, n)} for k, (g, n) in sorted(table.items())
                }

            out[kind] = {
                "good": good,
                "marked": len(marks),
                "rate": rate(good, len(marks)),
                "by_intent": rows(by_intent),
                "by_operator": rows(by_op),
            }
        return out
