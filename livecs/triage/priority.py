"""Priority and SLA (DESIGN.md, Priority): P0 complaints and angry/threatening issues, P1 blockers and
high-tier questions, P2 ordinary questions (clusters rise to P1 with size and age, never to P0: a repeated
question is not an alarm), P3 buy signals and chit-chat,
``mod`` for spam. Thresholds come from ``config/triage.yaml`` (``priority``).
"""

from __future__ import annotations

from dataclasses import dataclass

from livecs.models import Emotion, Intent, MemberTier, Priority, Sentiment
from livecs.triage.settings import PrioritySettings
from livecs.vocabulary import QUESTION_INTENTS

_ORDER = (Priority.P0, Priority.P1, Priority.P2, Priority.P3)


@dataclass(slots=True)  # not frozen: built once per comment on the hot path
class PriorityInput:
    intent: Intent
    sentiment: Sentiment
    emotion: Emotion
    spam: bool
    spam_reason: str
    threat: bool  # 投诉/12315/举报… present
    stock_urgency: bool
    member_tier: MemberTier
    cluster_size: int
    cluster_age_s: float
    cluster_first_ts: float | None


class PriorityRules:
    def __init__(self, settings: PrioritySettings) -> None:
        self.sla_s: dict[Priority, float | None] = {
            Priority(name): (None if value is None else float(value))
            for name, value in settings.sla_s.items()
        }
        self.high_tier_min = settings.high_tier_min
        self.raise_tier_min = settings.raise_tier_min
        self.cluster_size_p1 = settings.cluster_size_p1
        self.cluster_age_p1_s = float(settings.cluster_age_p1_s)
        self.cluster_min_for_age = settings.cluster_min_for_age
        self.angry_p0_intents = frozenset(Intent(i) for i in settings.angry_p0_intents)
        self.blocking_p1_intents = frozenset(Intent(i) for i in settings.blocking_p1_intents)
        self.coupon_failure_p1 = settings.coupon_failure_p1
        self.stock_urgency_p1 = settings.stock_urgency_p1

    def decide(self, item: PriorityInput, now: float) -> tuple[Priority, float | None, list[str]]:
        """Priority, SLA deadline (epoch seconds or None) and the reasons that set it."""
        reasons: list[str] = []
        if item.spam and item.intent is not Intent.COMPLAINT:
            reasons.append("spam:" + (item.spam_reason or "text"))
            return Priority.MOD, self._deadline(Priority.MOD, now), reasons
        negative = item.sentiment is Sentiment.NEG
        high_tier = int(item.member_tier) >= self.high_tier_min
        question = item.intent in QUESTION_INTENTS
        level = Priority.P3
        if item.intent is Intent.COMPLAINT:
            level = Priority.P0
            reasons.append("complaint")
        if item.threat:
            level = Priority.P0
            reasons.append("threat")
        if negative and item.emotion is Emotion.ANGRY and item.intent in self.angry_p0_intents:
            level = Priority.P0
            reasons.append("angry")
        if high_tier and negative and (question or item.intent is Intent.COMPLAINT):
            level = Priority.P0
            reasons.append(f"tier>={MemberTier(self.high_tier_min).name}")
            reasons.append("negative")
        if level is not Priority.P0:
            level = self._below_p0(item, question, negative, high_tier, reasons)
        deadline = self._deadline(level, now)
        if item.cluster_first_ts is not None and deadline is not None and item.cluster_size > 1:
            deadline = min(deadline, item.cluster_first_ts + (self.sla_s.get(level) or 0.0))
        return level, deadline, reasons

    def _below_p0(
        self, item: PriorityInput, question: bool, negative: bool, high_tier: bool, reasons: list[str]
    ) -> Priority:
        level = Priority.P2 if question else Priority.P3
        if question:
            reasons.append(item.intent.value)
        if negative and item.intent in self.blocking_p1_intents:
            level = Priority.P1
            reasons.append("blocked")
        if (
            self.coupon_failure_p1
            and negative
            and item.intent is Intent.PRICE_PROMO
            and item.emotion
            in (
                Emotion.CONFUSED,
                Emotion.ANXIOUS,
            )
        ):
            level = Priority.P1
            reasons.append("coupon_failure")
        if self.stock_urgency_p1 and item.stock_urgency and item.intent is Intent.PRODUCT:
            level = Priority.P1
            reasons.append("stock")
        if high_tier and question:
            level = Priority.P1
            reasons.append(f"tier>={MemberTier(self.high_tier_min).name}")
        elif int(item.member_tier) >= self.raise_tier_min and level is Priority.P3 and negative:
            level = Priority.P2
            reasons.append(f"tier>={MemberTier(self.raise_tier_min).name}")
        if question and item.cluster_size > 1:
            reasons.append(f"cluster×{item.cluster_size}")
            # a repeated question is worth a P1 card at most: its size alone is never an alarm
            if item.cluster_size >= self.cluster_size_p1:
                level = _raise_to(level, Priority.P1)
            if (
                item.cluster_size >= self.cluster_min_for_age
                and item.cluster_age_s >= self.cluster_age_p1_s
                and level is not Priority.P0
            ):
                level = _raise_to(level, Priority.P1)
                reasons.append(f"age>{int(self.cluster_age_p1_s)}s")
        return level

    def _deadline(self, level: Priority, now: float) -> float | None:
        sla = self.sla_s.get(level)
        return None if sla is None else now + sla


def _raise_to(level: Priority, target: Priority) -> Priority:
    return target if _ORDER.index(target) < _ORDER.index(level) else level
