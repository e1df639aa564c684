"""Priority rules: complaints P0, threats, tiers, blockers P1, questions P2, chit-chat P3, spam, clusters."""

from __future__ import annotations

from typing import Any

import pytest

from livecs.models import Emotion, Intent, MemberTier, Priority, Sentiment
from livecs.triage.priority import PriorityInput, PriorityRules
from livecs.triage.settings import TriageSettings

NOW = 1000.0


@pytest.fixture
def rules(base_config: TriageSettings) -> PriorityRules:
    return PriorityRules(base_config.priority)


def item(**overrides: Any) -> PriorityInput:
    values: dict[str, Any] = {
        "intent": Intent.PRODUCT, "sentiment": Sentiment.NEU, "emotion": Emotion.NONE, "spam": False,
        "spam_reason": "", "threat": False, "stock_urgency": False, "member_tier": MemberTier.NONE,
        "cluster_size": 1, "cluster_age_s": 0.0, "cluster_first_ts": None,
    }  # fmt: skip
    values.update(overrides)
    return PriorityInput(**values)


def test_complaint_is_p0_with_30s_sla(rules: PriorityRules) -> None:
    level, deadline, reasons = rules.decide(
        item(intent=Intent.COMPLAINT, sentiment=Sentiment.NEG, emotion=Emotion.ANGRY), NOW
    )
    assert level is Priority.P0 and deadline == NOW + 30 and "complaint" in reasons


def test_complaint_never_buried_even_when_flagged(rules: PriorityRules) -> None:
    level, _, _ = rules.decide(item(intent=Intent.COMPLAINT, spam=True, spam_reason="flood:repeat"), NOW)
    assert level is Priority.P0


def test_angry_after_sales_and_threats_are_p0(rules: PriorityRules) -> None:
    angry = item(intent=Intent.AFTER_SALES, sentiment=Sentiment.NEG, emotion=Emotion.ANGRY)
    assert rules.decide(angry, NOW)[0] is Priority.P0
    assert rules.decide(item(intent=Intent.LOGISTICS, threat=True), NOW)[0] is Priority.P0


def test_ordinary_question_p2_chitchat_p3_spam_mod(rules: PriorityRules) -> None:
    level, deadline, _ = rules.decide(item(), NOW)
    assert level is Priority.P2 and deadline == NOW + 180
    level, deadline, _ = rules.decide(item(intent=Intent.CHITCHAT), NOW)
    assert level is Priority.P3 and deadline is None
    level, deadline, reasons = rules.decide(item(intent=Intent.SPAM, spam=True, spam_reason="lure"), NOW)
    assert level is Priority.MOD and deadline == NOW + 60 and reasons == ["spam:lure"]


def test_blockers_are_p1(rules: PriorityRules) -> None:
    payment = item(intent=Intent.PAYMENT, sentiment=Sentiment.NEG, emotion=Emotion.CONFUSED)
    coupon = item(intent=Intent.PRICE_PROMO, sentiment=Sentiment.NEG, emotion=Emotion.CONFUSED)
    stock = item(stock_urgency=True)
    for case in (payment, coupon, stock):
        assert rules.decide(case, NOW)[0] is Priority.P1


def test_member_tier_raises_priority(rules: PriorityRules) -> None:
    level, _, reasons = rules.decide(item(member_tier=MemberTier.VIP), NOW)
    assert level is Priority.P1 and "tier>=VIP" in reasons
    negative = item(intent=Intent.LOGISTICS, sentiment=Sentiment.NEG, emotion=Emotion.ANXIOUS)
    assert rules.decide(negative, NOW)[0] is Priority.P2
    vip_negative = item(
        intent=Intent.LOGISTICS, sentiment=Sentiment.NEG, emotion=Emotion.ANXIOUS, member_tier=MemberTier.SVIP
    )
    assert rules.decide(vip_negative, NOW)[0] is Priority.P0


def test_cluster_rises_with_size_and_age(rules: PriorityRules) -> None:
    small = item(cluster_size=3, cluster_age_s=10.0, cluster_first_ts=NOW - 10)
    level, deadline, reasons = rules.decide(small, NOW)
    assert level is Priority.P2 and "cluster×3" in reasons
    assert deadline == NOW - 10 + 180  # SLA counts from the oldest member
    assert rules.decide(item(cluster_size=8, cluster_first_ts=NOW), NOW)[0] is Priority.P1
    # a repeated question is never an alarm by its size alone (issue 17): 40 or 400 askers stay P1
    assert rules.decide(item(cluster_size=40, cluster_first_ts=NOW), NOW)[0] is Priority.P1
    assert rules.decide(item(cluster_size=400, cluster_first_ts=NOW), NOW)[0] is Priority.P1
    old = item(cluster_size=3, cluster_age_s=120.0, cluster_first_ts=NOW - 120)
    level, _, reasons = rules.decide(old, NOW)
    assert level is Priority.P1 and any(r.startswith("age>") for r in reasons)
