"""Domain lexicons scanned in one Aho-Corasick pass: sentiment (negation, intensifiers), emotion cues,
hostility toward the shop, spam cues, stock urgency and merchant keywords per intent.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import ahocorasick
import yaml

from livecs.paths import TRIAGE_DATA_DIR

LEXICON_FILE = TRIAGE_DATA_DIR / "lexicon.yaml"

NEGATION_WINDOW = 3  # a negation this many characters (or fewer) before a sentiment word flips it
INTENSIFIER_GAIN = 1.5  # weight of a sentiment word right after an intensifier
EMOTE_WEIGHT = 0.8  # weight of a sentiment-bearing emote tag ([哭], [赞]) relative to a word

# Categories in the automaton payload.
SENT_POS, SENT_NEG, SENT_NEUTRAL = "pos", "neg", "neutral"
NEGATION, INTENSIFIER = "negation", "intensifier"
EMOTION, COMPLAINT, SHOP_TARGET, STOCK, MERCHANT = "emotion", "complaint", "shop", "stock", "merchant"
ATTACK, JIBE = "attack", "jibe"
SPAM_CATEGORIES = ("lure", "ads", "ads_strong", "insults", "viewer_targets", "ime_mash")
_SENTIMENT_KINDS = (SENT_POS, SENT_NEG, SENT_NEUTRAL)

Payload = tuple[tuple[str, str], ...]  # (kind, label) of every lexicon a word is in


@dataclass(slots=True)
class LexiconHits:
    """What the lexicons found in one normalised text."""

    pos: float = 0.0
    neg: float = 0.0
    tags: list[str] = field(default_factory=list)  # feature tags for the learned model
    emotions: dict[str, int] = field(default_factory=dict)
    complaint_terms: list[str] = field(default_factory=list)
    shop_target: bool = False
    attacks: list[str] = field(default_factory=list)  # disparagement of a person (complaint.attacks)
    jibes: list[str] = field(default_factory=list)  # the same, only said to the streamer (complaint.jibes)
    addressed: bool = False  # the comment speaks to the streamer or the shop (complaint.addressees)
    teasing: bool = False  # laughter or a fond emote (complaint.teasing)
    third_party: bool = False  # about someone else than the shop (complaint.third_parties)
    spam: dict[str, list[str]] = field(default_factory=dict)
    stock_urgency: bool = False
    merchant: dict[str, int] = field(default_factory=dict)

    @property
    def attack_on_shop(self) -> bool:
        """Disparagement of the streamer or the shop (磨叽什么, 你可真烦人): hostility, not teasing nor talk
        about someone else; a jibe (飘了, 恶心) only when said to them."""
        if self.teasing or not (self.attacks or self.jibes):
            return False
        if self.addressed or self.shop_target:
            return True
        return bool(self.attacks) and not self.third_party

    @property
    def polarity(self) -> float:
        """-1 … 1 from the lexicon alone (0 when nothing matched)."""
        total = self.pos + self.neg
        return 0.0 if total == 0 else (self.pos - self.neg) / total


def _words(words: list[Any]) -> tuple[str, ...]:
    return tuple(w for w in (str(word).lower() for word in words) if w)


def load_lexicon_data(path: Path = LEXICON_FILE) -> dict[str, Any]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(data, dict):
        raise ValueError(f"{path}: expected a mapping")
    return data


class Lexicon:
    """Immutable scanner except for :meth:`add_merchant_keywords` (which rebuilds the automaton)."""

    def __init__(self, data: dict[str, Any]) -> None:
        self.data = data
        self.doubts = frozenset(_words(data.get("complaint", {}).get("doubts", [])))
        self._entries: dict[str, list[tuple[str, str]]] = {}
        sentiment = data.get("sentiment", {})
        for word in sentiment.get("pos", []):
            self._add(str(word), SENT_POS, "")
        for word in sentiment.get("neg", []):
            self._add(str(word), SENT_NEG, "")
        for word in sentiment.get("neutralisers", []):
            self._add(str(word), SENT_NEUTRAL, "")
        for word in sentiment.get("negations", []):
            self._add(str(word), NEGATION, "")
        for word in sentiment.get("intensifiers", []):
            self._add(str(word), INTENSIFIER, "")
        for polarity, tags in data.get("emote_sentiment", {}).items():
            for tag in tags:
                self._add(str(tag), SENT_POS if polarity == "pos" else SENT_NEG, "emote")
        for emotion, words in data.get("emotion", {}).items():
            for word in words:
                self._add(str(word), EMOTION, emotion)
        complaint = data.get("complaint", {})
        for word in complaint.get("strong", []):
            self._add(str(word), COMPLAINT, "")
        for word in complaint.get("shop_targets", []):
            self._add(str(word), SHOP_TARGET, "")
        for word in complaint.get("attacks", []):
            self._add(str(word), ATTACK, "")
        for word in complaint.get("jibes", []):
            self._add(str(word), JIBE, "")
        # Looked for only around an attack word (rare), not in every comment: 你 and 哈哈 are everywhere.
        self._addressees = _words(complaint.get("addressees", []))
        self._teasing = _words(complaint.get("teasing", []))
        self._third_parties = _words(complaint.get("third_parties", []))
        spam = data.get("spam", {})
        for category in SPAM_CATEGORIES:
            for word in spam.get(category, []):
                self._add(str(word), category, "")
        for word in data.get("stock_urgency", []):
            self._add(str(word), STOCK, "")
        self._merchant: dict[str, set[str]] = {}
        self._build()

    def _add(self, word: str, kind: str, label: str) -> None:
        word = word.lower()
        if word:
            self._entries.setdefault(word, []).append((kind, label))

    def _build(self) -> None:
        automaton = ahocorasick.Automaton()
        for word, payload in self._entries.items():
            automaton.add_word(word, (word, tuple(payload)))
        automaton.make_automaton()
        self._automaton = automaton

    def add_merchant_keywords(self, intent: str, keywords: list[str]) -> int:
        """Add keywords for an intent; returns how many were new."""
        known = self._merchant.setdefault(intent, set())
        added = 0
        for keyword in keywords:
            word = str(keyword).strip().lower()
            if word and word not in known:
                known.add(word)
                self._add(word, MERCHANT, intent)
                added += 1
        if added:
            self._build()
        return added

    def scan(self, text: str) -> LexiconHits:
        found: list[tuple[int, tuple[str, Payload]]] = list(self._automaton.iter(text)) if text else []
        if not found:
            return LexiconHits()
        sentiment_spans: list[tuple[int, int, str, str]] = []  # start, end, kind, label
        negations: list[tuple[int, int]] = []
        intensifier_ends: set[int] = set()
        spam: dict[str, list[str]] = {}
        emotions: dict[str, int] = {}
        complaint_terms: list[str] = []
        attacks: list[str] = []
        jibes: list[str] = []
        merchant: dict[str, int] = {}
        shop_target = stock_urgency = False
        for end, (word, payload) in found:
            start = end - len(word) + 1
            for kind, label in payload:
                if kind in _SENTIMENT_KINDS:
                    sentiment_spans.append((start, end, kind, label))
                elif kind == NEGATION:
                    negations.append((start, end))
                elif kind == INTENSIFIER:
                    intensifier_ends.add(end)
                elif kind == EMOTION:
                    emotions[label] = emotions.get(label, 0) + 1
                elif kind == COMPLAINT:
                    complaint_terms.append(word)
                elif kind == SHOP_TARGET:
                    shop_target = True
                elif kind == ATTACK:
                    attacks.append(word)
                elif kind == JIBE:
                    jibes.append(word)
                elif kind == STOCK:
                    stock_urgency = True
                elif kind == MERCHANT:
                    merchant[label] = merchant.get(label, 0) + 1
                else:
                    spam.setdefault(kind, []).append(word)
        tags: list[str] = []
        hits = LexiconHits(
            tags=tags,
            emotions=emotions,
            complaint_terms=complaint_terms,
            shop_target=shop_target,
            attacks=attacks,
            jibes=jibes,
            spam=spam,
            stock_urgency=stock_urgency,
            merchant=merchant,
        )
        if attacks or jibes:
            hits.addressed = any(word in text for word in self._addressees)
            hits.teasing = any(word in text for word in self._teasing)
            hits.third_party = any(word in text for word in self._third_parties)
        if sentiment_spans:  # negations and intensifiers only weigh sentiment words
            # "X不X" / "X没X" is a question form (甜不甜, 够不够), not a negation.
            negations = [
                (ns, ne)
                for ns, ne in negations
                if not (ns > 0 and ne + 1 < len(text) and text[ns - 1] == text[ne + 1])
            ]
            self._score_sentiment(hits, sentiment_spans, negations, intensifier_ends)
        for emotion in emotions:
            tags.append("#emo:" + emotion)
        if complaint_terms:
            tags.append("#complaint")
        if shop_target:
            tags.append("#shop")
        if stock_urgency:
            tags.append("#stock")
        for category in spam:
            tags.append("#spam:" + category)
        return hits

    @staticmethod
    def _score_sentiment(
        hits: LexiconHits,
        spans: list[tuple[int, int, str, str]],
        negations: list[tuple[int, int]],
        intensifier_ends: set[int],
    ) -> None:
        # Leftmost-longest, non-overlapping selection of sentiment words (不错 beats 错).
        spans.sort(key=lambda s: (s[0], -(s[1] - s[0])))
        chosen: list[tuple[int, int, str, str]] = []
        covered_until = -1
        for span in spans:
            if span[0] > covered_until:
                chosen.append(span)
                covered_until = span[1]
        covered = [(s, e) for s, e, _, _ in chosen]
        # Only maximal negation spans count (一点都不 is one negation, not two with its inner 不).
        negations = [
            (ns, ne)
            for ns, ne in negations
            if not any(os <= ns and ne <= oe and (os, oe) != (ns, ne) for os, oe in negations)
        ]
        for start, _end, kind, label in chosen:
            if kind == SENT_NEUTRAL:
                continue
            flips = 0
            for n_start, n_end in negations:
                if start - NEGATION_WINDOW <= n_end < start and not any(
                    s <= n_start and n_end <= e for s, e in covered
                ):
                    flips += 1
            weight = EMOTE_WEIGHT if label == "emote" else 1.0
            if (start - 1) in intensifier_ends:
                weight *= INTENSIFIER_GAIN
                hits.tags.append("#intens")
            positive = (kind == SENT_POS) != (flips % 2 == 1)
            if flips % 2 == 1:
                hits.tags.append("#negated_" + kind)
            else:
                hits.tags.append("#" + kind)
            if positive:
                hits.pos += weight
            else:
                hits.neg += weight
