"""The triage engine: ``Comment`` in, ``Triage`` out — pure, synchronous, no I/O after construction.

The text-only analysis (normalise, lexicons, learned heads, rules) is cached by text in LRU caches; the
per-user and per-room parts (flood windows, repeated-question clusters, priority) run for every comment and
keep bounded state that expires by ``now``.
"""

from __future__ import annotations

import logging
import math
from functools import lru_cache
from pathlib import Path

from livecs.config import load_settings
from livecs.models import Comment, Emotion, Intent, MemberTier, Priority, Sentiment, Triage
from livecs.triage.analyze import TextAnalysis, TextAnalyzer, load_analyzer_parts
from livecs.triage.cluster import Cluster, ClusterTracker
from livecs.triage.lexicon import load_lexicon_data
from livecs.triage.model import MODEL_FILE, LinearModel
from livecs.triage.normalize import NormalizedText
from livecs.triage.priority import PriorityInput, PriorityRules
from livecs.triage.settings import TriageSettings
from livecs.triage.shop import ShopVoice
from livecs.triage.spam import FloodTracker
from livecs.vocabulary import QUESTION_INTENTS

log = logging.getLogger(__name__)

# Intents a flood of one user's repeated text turns into spam (a repeated question stays a question).
_FLOODABLE_INTENTS = frozenset({Intent.CHITCHAT, Intent.BUY_SIGNAL, Intent.SPAM})


class TriageEngine:
    def __init__(self, config: TriageSettings, model: LinearModel | None = None) -> None:
        # The typed settings are read here, once: every part keeps plain attributes for the hot path.
        self.config = config
        lexicon_data = load_lexicon_data()
        normalizer, lexicon, spam_rules = load_analyzer_parts(lexicon_data, config)
        self.normalizer = normalizer
        self.analyzer = TextAnalyzer(
            normalizer, lexicon, model or LinearModel.load(MODEL_FILE), spam_rules, config.intent
        )
        self.flood = FloodTracker(config.flood)
        self.clusters = ClusterTracker(config.cluster)
        self.priority = PriorityRules(config.priority)
        self.shop = ShopVoice(config.shop)
        self.use_comment_time = config.clock.use_comment_time
        self.max_future_s = float(config.clock.max_future_s)
        self._raw_cache_size = config.cache.normalise_size
        self._analysis_cache_size = config.cache.text_analysis_size
        self._reset_analysis_cache()
        for intent, keywords in config.keywords.items():
            self.add_keywords(Intent(intent), list(keywords))
        for intent, examples in config.examples.items():
            self.add_keywords(Intent(intent), [], list(examples))

    @classmethod
    def from_config(cls, path: str | Path | None = None) -> TriageEngine:
        """Engine from the ``triage`` section of the settings (``config/livecs.yaml`` or ``path``, with its
        ``config/triage.yaml`` and ``LIVECS_TRIAGE__<SECTION>__<KEY>`` overrides)."""
        return cls(load_settings(path).triage)

    def _reset_analysis_cache(self) -> None:
        # Two levels: raw text -> analysis (one C-level lookup on the hot path), and on a miss normalised
        # text -> analysis (raw variants that normalise alike share one analysis).
        self._analyze_cached = lru_cache(maxsize=self._analysis_cache_size)(self.analyzer.analyze_normalized)
        self._analyze_raw = lru_cache(maxsize=self._raw_cache_size)(self._analyze_uncached)

    def _analyze_uncached(self, text: str) -> TextAnalysis:
        norm: NormalizedText = self.normalizer.normalize(text)
        return self._analyze_cached(norm)

    def add_keywords(
        self, intent: Intent | str, keywords: list[str], examples: list[str] | None = None
    ) -> int:
        """Merchant keywords (boost the intent) and examples (decide it on a near match); returns how many
        were new. Clears the text-analysis cache."""
        intent_value = Intent(intent).value
        added = self.analyzer.lexicon.add_merchant_keywords(intent_value, list(keywords))
        if examples:
            added += self.analyzer.add_examples(intent_value, list(examples))
        if added:
            self._reset_analysis_cache()
        return added

    def analyze_text(self, text: str) -> TextAnalysis:
        """The cached text-only analysis (no room or user state touched)."""
        return self._analyze_raw(text if isinstance(text, str) else str(text or ""))

    def triage(self, comment: Comment, now: float) -> Triage:
        try:
            return self._triage(comment, now)
        except Exception:  # never raise into the pipeline; a plain P3 record keeps the comment visible
            log.exception("triage failed for comment %r", getattr(comment, "comment_id", "?"))
            return Triage(
                comment_id=str(getattr(comment, "comment_id", "")),
                room=str(getattr(comment, "room", "")),
                normalized=str(getattr(comment, "text", ""))[:200],
                intent=Intent.CHITCHAT,
                intent_confidence=0.0,
                sentiment=Sentiment.NEU,
                sentiment_score=0.5,
                reasons=["triage_error"],
            )

    def event_time(self, comment: Comment, now: float) -> float:
        """The time the sliding windows use: the comment's own ``ts`` (a replay at max speed keeps the
        recording's pace), else ``now`` when ``ts`` is missing, not a positive finite number, or more than
        ``clock.max_future_s`` ahead of ``now`` (a broken platform clock)."""
        if not self.use_comment_time:
            return now
        ts = comment.ts
        if ts.__class__ is not float:
            try:
                ts = float(ts)
            except (TypeError, ValueError):
                return now
        if not (0.0 < ts <= now + self.max_future_s) or not math.isfinite(ts):
            return now
        return ts

    def _triage(self, comment: Comment, now: float) -> Triage:
        text = comment.text
        analysis = self._analyze_raw(text if isinstance(text, str) else str(text or ""))
        if self.shop.is_shop(comment.room, comment.user_id, analysis.shop_voice):
            return self._shop_triage(comment, analysis)
        intent, sentiment, emotion = analysis.intent, analysis.sentiment, analysis.emotion
        spam_reason = analysis.spam_reason
        at = self.event_time(comment, now)  # windows in comment time; SLA deadlines stay relative to now
        flood_reason = (
            ""
            if analysis.gift_notice  # "某某支持了2个打call": a gift, not a flood
            else self.flood.observe(
                comment.room,
                comment.user_id,
                analysis.normalized,
                at,
                # many viewers typing one line is a chant (a song line, 主播加油…), not spam, unless the
                # line itself carries a spam cue: a weak ad word pasted by many accounts is a bot wave
                copy_paste_candidate=intent in _FLOODABLE_INTENTS
                and (intent is Intent.SPAM or analysis.spam_cue),
            )
        )
        if flood_reason and intent is not Intent.COMPLAINT:
            if intent in _FLOODABLE_INTENTS or flood_reason == "flood:rate":
                intent, spam_reason = Intent.SPAM, spam_reason or flood_reason
                sentiment, emotion = Sentiment.NEU, Emotion.NONE
        spam = intent is Intent.SPAM
        cluster: Cluster | None = None
        if not spam and intent in QUESTION_INTENTS:
            cluster = self.clusters.observe(
                comment.room,
                intent.value,
                analysis.normalized,
                comment.comment_id,
                at,
                analysis.cluster_key,
                wall=now,
            )
        cluster_age = cluster.age(at) if cluster else 0.0
        tier = comment.member_tier
        if not isinstance(tier, MemberTier):
            try:
                tier = MemberTier(int(tier))
            except (TypeError, ValueError):
                tier = MemberTier.NONE
        level, deadline, reasons = self.priority.decide(
            PriorityInput(
                intent=intent,
                sentiment=sentiment,
                emotion=emotion,
                spam=spam,
                spam_reason=spam_reason,
                threat=analysis.threat,
                stock_urgency=analysis.stock_urgency,
                member_tier=tier,
                cluster_size=cluster.count if cluster else 1,
                cluster_age_s=cluster_age,
                cluster_first_ts=now - cluster_age if cluster else None,  # the oldest member, on now's clock
            ),
            now,
        )
        return Triage(
            comment_id=comment.comment_id,
            room=comment.room,
            normalized=analysis.normalized,
            intent=intent,
            intent_confidence=analysis.intent_confidence,
            sentiment=sentiment,
            sentiment_score=analysis.sentiment_score,
            emotion=emotion,
            spam=spam,
            spam_reason=spam_reason if spam else "",
            cluster_id=cluster.cluster_id if cluster else "",
            cluster_size=cluster.count if cluster else 1,
            priority=level,
            sla_deadline=deadline,
            reasons=reasons,
        )

    @staticmethod
    def _shop_triage(comment: Comment, analysis: TextAnalysis) -> Triage:
        """The shop's own comment: recorded as chit-chat, never an alarm, a cluster member or a flood."""
        return Triage(
            comment_id=comment.comment_id,
            room=comment.room,
            normalized=analysis.normalized,
            intent=Intent.CHITCHAT,
            intent_confidence=1.0,
            sentiment=Sentiment.NEU,
            sentiment_score=0.5,
            priority=Priority.P3,
            reasons=["shop_account"],
        )

    def open_clusters(self, room: str, now: float) -> list[Cluster]:
        """Open repeated-question clusters of a room, biggest first (``now`` is mapped onto the room's
        comment clock: its latest comment time plus the wall time since)."""
        return self.clusters.open_clusters(room, now)

    def state_size(self) -> dict[str, int]:
        """How much per-room state is held (bounded; for tests and the benchmark)."""
        return {
            "flood_windows": self.flood.tracked(),
            "open_clusters": self.clusters.tracked(),
            "shop_candidates": self.shop.tracked(),
        }


__all__ = ["Priority", "TriageEngine"]
