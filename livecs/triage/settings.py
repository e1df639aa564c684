"""The ``triage`` section of the settings tree (``Settings.triage``; its keys live in ``config/triage.yaml``).

Typed and validated at the boundary; the engine's parts copy what they need into plain attributes when they
are built, so nothing here is read per comment. Load it with :func:`livecs.config.load_settings`
(``.triage``); override a key with ``LIVECS_TRIAGE__<SECTION>__<KEY>``, e.g.
``LIVECS_TRIAGE__CLUSTER__WINDOW_S=60``.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class _Section(BaseModel):
    # user ids and keywords may be written as YAML numbers (12315, 844868159547143)
    model_config = ConfigDict(extra="forbid", coerce_numbers_to_str=True)


class NormaliseSettings(_Section):
    max_chars: int = Field(400, ge=1, description="text beyond this is ignored by the analysis")
    max_char_repeat: int = Field(3, ge=0, description="哈哈哈哈哈哈 -> 哈哈哈")
    max_punct_repeat: int = Field(2, ge=0, description="！！！！ -> !!")


class CacheSettings(_Section):
    text_analysis_size: int = Field(50_000, ge=0, description="LRU entries keyed by normalised text")
    normalise_size: int = Field(50_000, ge=0, description="LRU entries keyed by raw text")


class SpamSettings(_Section):
    gibberish_run: int = Field(
        12,
        ge=1,
        description="a run of one non-cheer character this long is gibberish (a Chinese one only when alone)",
    )
    punct_only_len: int = Field(8, ge=1, description="a comment of only punctuation this long is flooding")
    latin_gibberish_len: int = Field(
        7,
        ge=1,
        description="a latin token this long without vowels (or under 15 % once drawn-out runs are squeezed)",
    )
    handle_min_len: int = Field(5, ge=1, description="shortest contact handle after 微信/v/q")
    contact_digits: int = Field(6, ge=1, description="digit run read as a QQ/phone number with lure context")
    bare_digits: int = Field(9, ge=1, description="a digit run this long is a contact number on its own")


class FloodSettings(_Section):
    window_s: float = Field(60.0, gt=0, description="flood windows slide over this many seconds")
    same_user_same_text: int = Field(3, ge=1, description="same user, same text this many times: flood")
    same_user_same_text_min_chars: int = Field(10, ge=1, description="... when the text is this long")
    same_user_any_text: int = Field(
        20, ge=1, description="same user, this many comments in the window: flood"
    )
    same_text_many_users: int = Field(8, ge=1, description="identical text from this many users: copy-paste")
    same_text_min_chars: int = Field(12, ge=1, description="... only for texts at least this long")
    max_tracked_users: int = Field(50_000, ge=1, description="per room; the oldest windows are dropped")


class ClockSettings(_Section):
    use_comment_time: bool = Field(
        True, description="flood and cluster windows run on the comment's own time"
    )
    max_future_s: float = Field(300.0, ge=0, description="a ts this far ahead of processing time is ignored")


class ShopSettings(_Section):
    accounts: list[str] = Field(default_factory=list, description="user ids of the shop's own accounts")
    voice_replies: bool = Field(True, description="an @-reply in the shop's voice is the shop's")
    learn_after: int = Field(
        2, ge=0, description="this many such replies make an account the shop's (0: never)"
    )


class ClusterSettings(_Section):
    window_s: float = Field(120.0, gt=0, description="a cluster closes after this long without a question")
    similarity: float = Field(78.0, ge=0, le=100, description="rapidfuzz ratio of keys to join a cluster")
    max_open_per_intent: int = Field(64, ge=1, description="per room and intent; the stalest is closed")
    max_members_kept: int = Field(50, ge=1, description="member comment ids kept per cluster")
    intents: list[str] = Field(
        default_factory=lambda: ["product", "price_promo", "order", "logistics", "payment", "after_sales"]
    )


class PrioritySettings(_Section):
    sla_s: dict[str, float | None] = Field(
        default_factory=lambda: {"P0": 30.0, "P1": 60.0, "P2": 180.0, "P3": None, "mod": 60.0},
        description="seconds to first action per priority; null = no SLA",
    )
    high_tier_min: int = Field(3, description="from this member tier any question is P1, any negative P0")
    raise_tier_min: int = Field(2, description="from this tier a negative P3 comment is raised to P2")
    cluster_size_p1: int = Field(8, ge=1, description="an open cluster this big is P1")
    cluster_age_p1_s: float = Field(90.0, gt=0, description="an open cluster this old is P1")
    cluster_min_for_age: int = Field(3, ge=1, description="... when it has at least this many members")
    angry_p0_intents: list[str] = Field(
        default_factory=lambda: ["after_sales", "logistics", "order", "payment"]
    )
    blocking_p1_intents: list[str] = Field(default_factory=lambda: ["payment", "order"])
    coupon_failure_p1: bool = Field(True, description="negative price_promo (a coupon fails) is P1")
    stock_urgency_p1: bool = Field(True, description="product questions about stock running out are P1")


class IntentSettings(_Section):
    min_confidence: float = Field(0.0, ge=0, le=1, description="below this the intent falls back to chitchat")
    model_spam_min_confidence: float = Field(
        0.85, ge=0, le=1, description="the model alone calls spam this sure"
    )
    merchant_keyword_boost: float = Field(2.5, description="logit added per merchant keyword hit")
    merchant_example_similarity: float = Field(
        90.0, ge=0, le=100, description="ratio that decides the intent"
    )
    negative_odds: float = Field(0.5, gt=0, description="odds multiplier of a negative feeling")
    positive_odds: float = Field(1.0, gt=0, description="odds multiplier of a positive feeling")
    complaint_needs_evidence: bool = Field(True, description="the model's complaint needs a grievance cue")
    complaint_sure_without_evidence: float = Field(0.8, ge=0, le=1, description="... unless it is this sure")
    repeated_name_chitchat_below: float = Field(
        0.7,
        ge=0,
        le=1,
        description="a bare name typed repeatedly (钓台钓台) that the model calls chit-chat less surely "
        "than this is product (0: off)",
    )


class TriageSettings(_Section):
    normalise: NormaliseSettings = Field(default_factory=NormaliseSettings)
    cache: CacheSettings = Field(default_factory=CacheSettings)
    spam: SpamSettings = Field(default_factory=SpamSettings)
    flood: FloodSettings = Field(default_factory=FloodSettings)
    clock: ClockSettings = Field(default_factory=ClockSettings)
    shop: ShopSettings = Field(default_factory=ShopSettings)
    cluster: ClusterSettings = Field(default_factory=ClusterSettings)
    priority: PrioritySettings = Field(default_factory=PrioritySettings)
    intent: IntentSettings = Field(default_factory=IntentSettings)
    keywords: dict[str, list[str]] = Field(
        default_factory=dict, description="extra keywords per intent until the script library feeds them"
    )
    examples: dict[str, list[str]] = Field(default_factory=dict, description="extra examples per intent")

    def with_overrides(self, overrides: dict[str, Any]) -> TriageSettings:
        """A validated copy with ``{"section.key": value}`` overrides (``train --room-cv --variant``)."""
        data = self.model_dump()
        for dotted, value in overrides.items():
            *parents, key = dotted.split(".")
            node = data
            for part in parents:
                child = node.get(part)
                if not isinstance(child, dict):
                    raise ValueError(f"{dotted}: {part!r} is not a section of the triage settings")
                node = child
            node[key] = value
        return TriageSettings.model_validate(data)
