"""Script matching: a triaged comment (or cluster) → ranked, filled reply suggestions. Pure and synchronous.

For one comment the matcher

1. normalises the text (full-width → half-width, lower case, no spaces) and resolves the product it is about
   (link number, product alias, else the product on air);
2. collects evidence per script — Aho-Corasick keyword hits (one scan for the whole library), an IDF-weighted
   character-bigram overlap with the script's keywords and example questions (an inverted index: this is the
   cheap prefilter), and rapidfuzz similarity to the example questions for the shortlisted scripts only;
3. scores them intent-scoped: scripts of the triaged intent count fully, others are damped by
   ``off_intent_factor`` (triage can be wrong), plus product-scope and sentiment fit; the intent's fallback
   script fills the list when evidence is thin;
4. fills the top ``k`` (variables, random variants through the injected RNG), wrapping replies to negative
   comments in 倾听-共情-引导-解决 unless the script already is, and attaches the best eligible coupon.

Steps 1–3 are cached per (text, intent, sentiment, link on air) — danmaku repeat a lot — so only filling is
paid again. A matcher is immutable once built; :class:`~livecs.scripts.versions.LibraryRegistry` swaps whole
matchers on hot reload.

Speed (``python run.py scripts bench``): everything that does not depend on the comment is prepared when the
matcher is built — one Aho-Corasick automaton holds the keywords *and* the index's bigrams (each bigram's IDF
weight and its postings per intent view), so one C-level scan of the comment yields both kinds of evidence in
text order; per-slot intent factors replace set lookups; product and sentiment notes are formatted once. Per
comment, rapidfuzz runs only for shortlisted scripts that can still win, and the per-suggestion parts (bound
templates, ``why``, rounded score) are built once per cached ranking, for the ``k`` returned only.
"""

from __future__ import annotations

import math
import random
import re
import time
import unicodedata
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, fields
from operator import itemgetter
from typing import NamedTuple

import ahocorasick
from rapidfuzz import fuzz, process

from livecs.models import Comment, Emotion, Intent, Sentiment, Suggestion, Triage
from livecs.scripts.catalogue import AliasHit, CatalogueIndex, Gap, QuestionFacts, longer_alias
from livecs.scripts.coupons import CouponCandidate, CouponEngine, EligibleCoupon
from livecs.scripts.library import Library, Product, Script
from livecs.scripts.nickname import reply_nickname
from livecs.scripts.settings import ScriptsSettings
from livecs.scripts.template import CompiledTemplate, Part, Variable, Variants, parse_template
from livecs.scripts.terms import TermGate, term_gate
from livecs.vocabulary import QUESTION_INTENTS

PERCENT = 100.0
SCORE_DIGITS = 4
#: Keyword strength by length: a 1-char keyword is weak evidence, 3+ chars is strong.
KEYWORD_STRENGTH_BASE = 0.35
KEYWORD_STRENGTH_PER_CHAR = 0.2
#: Keywords this long or longer may be said with ``answer.keyword_gap`` characters inside.
GAPPED_MIN_CHARS = 3
#: When the comment is this many times longer than an example, partial_ratio is tried too (a question
#: inside chatter), damped by PARTIAL_DAMPING.
PARTIAL_LENGTH_RATIO = 1.6
PARTIAL_DAMPING = 0.9
PRODUCT_SCOPE_MISMATCH_FACTOR = 0.5
#: A script whose score cannot reach ``min_score`` even with full fuzzy evidence and every bonus is skipped;
#: the bound is computed in floats, so it keeps this much slack.
_ROUNDING_MARGIN = 1e-9
FALLBACK_NOTE = "fallback for the intent"
NO_PRODUCT_NOTE = "no product resolved: set the product on air or name a link number"
#: Intents whose negative comments get the 倾听-共情-引导-解决 wrapper (not chit-chat, spam, buy signals).
SERVICE_INTENTS = QUESTION_INTENTS | {Intent.COMPLAINT}
#: Intents whose fallback script (an apology, a warning) may stand when nothing else matches; other fallbacks
#: answer only on evidence of their own (a keyword or an example).
ACKNOWLEDGING_INTENTS = frozenset({Intent.COMPLAINT, Intent.SPAM})
#: Scripts that only cheer or chat: never the answer to a negative comment about a service.
UPBEAT_INTENTS = frozenset({Intent.CHITCHAT, Intent.BUY_SIGNAL})
#: Intents for which a catalogue gap (a colour, a size, a product the shop does not sell) is the answer.
GAP_INTENTS = frozenset(
    {Intent.PRODUCT, Intent.PRICE_PROMO, Intent.BUY_SIGNAL, Intent.LOGISTICS, Intent.ORDER}
)
NO_MATCH_ID = ""
#: Catalogue gaps that tell what the shop sells ("这场没有面膜"): no answer to a question asking why or what
#: to do.
CATALOGUE_ANSWERS = frozenset({"product", "choice"})
#: How a product the comment itself names is explained in ``why`` (else it is the product on air).
NAMED_PRODUCT = ("link", "alias", "product word", "colour")
CANDIDATE_PREFIX = "候选 "
GAP_SCRIPT_PREFIX = "catalogue."
TERM_NOTE = "含违禁词「{term}」，已隐藏"
#: The streamer's line carries the answer in at most this many characters.
ON_AIR_MAX_CHARS = 30
PRODUCT_VARIABLES = frozenset(
    {"price", "original_price", "link", "name", "stock", "sizes", "colors", "skin_types", "specs"}
)
#: Variables that depend on the comment itself, never precomputed.
DYNAMIC_VARIABLES = frozenset({"size_advice", "coupon", "nickname"})
#: Variables the matcher fills itself; a library's ``variables`` section may add more or give defaults.
BUILTIN_VARIABLES = PRODUCT_VARIABLES | DYNAMIC_VARIABLES | {"ship_days"}
_DROP_CHARS = " \t\r\n\u3000,.!?;:~，。！？；：～、…\"'“”‘’()（）[]【】"
#: NFKC already folds full-width ASCII (Ｓ → S, ？ → ?) — no NFKC output holds a U+FF01–FF5E character — so
#: what is left is dropping whitespace and punctuation: one regex substitution (about twice as fast on CJK
#: text as ``str.translate`` with a table).
_DROP = re.compile("[" + re.escape(_DROP_CHARS) + "]+")
_nfkc = unicodedata.normalize


def normalize(text: str) -> str:
    """Lower-case, full-width → half-width, no whitespace or punctuation (what keywords and examples see)."""
    if not text:
        return ""
    text = _nfkc("NFKC", text)
    if not text.isalnum():  # every dropped character is neither a letter nor a digit
        text = _DROP.sub("", text)
    return text.lower()


#: Sentence-final particles: the one-character question forms taken off the *end* of a keyword (one of them).
PARTICLES = frozenset("吗嘛么呢吧呀啊哦啦")
_PARTICLE_CHARS = "".join(sorted(PARTICLES))
_HAS_ASCII = re.compile(r"[\x00-\x7f]")  # sizes, models and codes (150cm, ip68) are never said with a gap


class QuestionForms:
    """What a keyword is about once the words that only frame a question are taken out
    (``answer.question_forms`` of config/scripts.yaml): ``topic("有吗") == ""``, ``topic("什么码") == "码"``,
    ``topic("性能") == "性能"``."""

    __slots__ = ("_end", "_long", "_start")

    def __init__(self, forms: list[str]) -> None:
        normalized = {normalize(f) for f in forms}
        self._long = tuple(sorted((f for f in normalized if len(f) > 1), key=len, reverse=True))
        self._start = frozenset(f for f in normalized if len(f) == 1 and f not in PARTICLES)
        self._end = frozenset(f for f in normalized if f in PARTICLES)

    def _without_long_forms(self, text: str) -> str:
        for form in self._long:
            if form in text:
                text = text.replace(form, "")
        return text

    def strip(self, text: str) -> str:
        """``text`` without any question form or particle, wherever it stands (what it is about)."""
        text = self._without_long_forms(text)
        return "".join(c for c in text if c not in self._start and c not in self._end and c != "了")

    def topic(self, text: str) -> str:
        text = self._without_long_forms(text)
        while text and text[0] in self._start:
            text = text[1:]
        if text and text[-1] in self._end:
            text = text[:-1]
        return text


#: An emoji tag as platforms write it and triage keeps it ([捂脸], [呲牙]): not part of the question.
_EMOJI_TAG = re.compile(r"\[[\u4e00-\u9fff]{1,6}\]")


def question_text(text: str) -> str:
    """A comment as the matcher compares it: emoji tags dropped, then :func:`normalize`d (a tag's characters
    would otherwise count as words of the question)."""
    if "[" in text:
        text = _EMOJI_TAG.sub("", text)
    return normalize(text)


_by_score = itemgetter(1)  # Ranked.score
_new_tuple = tuple.__new__  # builds a Ranked without NamedTuple's Python-level __new__


def _bigrams(text: str) -> set[str]:
    if len(text) < 2:
        return {text} if text else set()
    return {text[i : i + 2] for i in range(len(text) - 1)}


@dataclass(frozen=True, slots=True)
class _Compiled:
    """A script prepared for matching."""

    index: int
    script: Script
    reply: CompiledTemplate
    on_air: CompiledTemplate
    examples: tuple[str, ...]
    products: frozenset[str]
    needs_product: bool
    sentiment: Sentiment | None
    script_id: str
    empathetic: bool
    exclude: tuple[str, ...] = ()  # normalised 排除词


class _Gapped(NamedTuple):
    """A keyword that may be said with a word or two inside: its scripts, miss, and the ways to split it."""

    word: str
    slots: tuple[int, ...]
    miss: float
    splits: tuple[tuple[str, str], ...]


class Ranked(NamedTuple):
    """One ranked script before filling (what the cache holds); evidence is formatted only when shown."""

    slot: int  # position of the script in the matcher's compiled list
    score: float
    intent: str = ""  # the triaged intent ("" when matching across every intent)
    intent_factor: float = 1.0
    keywords: tuple[str, ...] = ()
    example: str = ""
    fuzzy: float = 0.0
    notes: tuple[str, ...] = ()

    @property
    def why(self) -> tuple[str, ...]:
        return tuple(_why_list(self))


def _intent_note(intent: str, factor: float) -> str:
    return f"intent {intent}" if factor == 1.0 else f"other intent ×{factor:g}"


def _why_list(r: Ranked, view: _IntentView | None = None) -> list[str]:
    """``Ranked.why`` as a new list (a suggestion's ``why`` starts with it); ``view``: the view ``r`` was
    ranked in, whose intent notes are already formatted."""
    out: list[str] = []
    if r.intent:
        if view is not None and r.intent == view.label:
            out.append(view.same_note if r.intent_factor == 1.0 else view.off_note)
        else:
            out.append(_intent_note(r.intent, r.intent_factor))
    if r.keywords:
        out.append("keyword " + "、".join(r.keywords))
    if r.example:
        out.append(f"example ≈ {r.example} ({round(r.fuzzy * PERCENT)})")
    if r.notes:
        out.extend(r.notes)
    return out


class _IntentView:
    """What matching needs for one triaged intent (``intent=None``: every script, no intent scoping).

    ``number`` indexes the per-view postings held in the automaton; ``factor[slot]`` is 1.0 for the intent's
    own scripts and ``off_intent_factor`` for the others."""

    __slots__ = ("factor", "fallbacks", "label", "number", "off_note", "same_note")

    def __init__(
        self, number: int, factor: list[float], fallbacks: tuple[Ranked, ...], label: str, off: float
    ) -> None:
        self.number = number
        self.factor = factor
        self.fallbacks = fallbacks
        self.label = label
        self.same_note = _intent_note(label, 1.0)
        self.off_note = _intent_note(label, off)


#: The parts of a suggestion at one position of a ranking that do not depend on the comment: bound reply and
#: on-air templates, whether the script is empathetic, ``why`` (copied into each suggestion), script id and
#: rounded score, and the product it talks about. A plain tuple: built once per cached ranking and position,
#: unpacked on every match.
_Prepared = tuple[CompiledTemplate, CompiledTemplate, bool, list[str], str, float, Product | None]


class _Ranking:
    """A cached ranking; ``prepared`` (per position, from the top) is filled on first use by
    :meth:`ScriptMatcher.match`."""

    __slots__ = (
        "answers",
        "asks_cause",
        "coupons",
        "gap",
        "prepared",
        "product",
        "product_why",
        "ranked",
        "view",
    )

    def __init__(
        self,
        view: _IntentView,
        ranked: tuple[Ranked, ...],
        product: Product | None,
        product_why: str,
        coupons: tuple[CouponCandidate, ...] = (),
        gap: Gap | None = None,
        asks_cause: bool = False,
    ) -> None:
        self.view = view
        self.ranked = ranked
        self.product = product
        self.product_why = product_why
        self.coupons = coupons
        self.gap = gap
        self.asks_cause = asks_cause  # the comment asks why, or what to do (怎么办, 为什么…)
        self.prepared: list[_Prepared] = []
        # position → whether the script ranked there answers the question (filled on first use)
        self.answers: dict[int, bool] = {}


#: Suggestion's fields in the order match() passes them positionally (keywords cost twice as much); if
#: the model's order ever changes, suggestions are built with keywords instead.
_SUGGESTION_ORDER = (
    "suggestion_id",
    "room",
    "comment_id",
    "priority",
    "reply",
    "cluster_id",
    "script_id",
    "on_air",
    "score",
    "why",
    "coupon_rule_id",
    "created_at",
)


def _suggestion_by_keywords(*values: object) -> Suggestion:
    return Suggestion(**dict(zip(_SUGGESTION_ORDER, values, strict=True)))  # type: ignore[arg-type]


_make_suggestion: Callable[..., Suggestion] = (
    Suggestion if tuple(f.name for f in fields(Suggestion)) == _SUGGESTION_ORDER else _suggestion_by_keywords
)
_SENTIMENT_NOTES = {id(s): f"written for {s.value} comments" for s in Sentiment}


def _keyword_found(
    keyword_hits: dict[int, list[str]],
    keyword_miss: dict[int, float],
    word: str,
    idxs: tuple[int, ...],
    miss: float,
) -> None:
    """Keyword ``word`` found for the scripts ``idxs``: listed once per script, its ``miss`` (the chance
    it is not what the script is about) multiplied into the script's."""
    for idx in idxs:
        hits = keyword_hits.get(idx)
        if hits is None:
            keyword_hits[idx] = [word]
        elif word in hits:
            continue
        else:
            hits.append(word)
        keyword_miss[idx] = keyword_miss.get(idx, 1.0) * miss


class ScriptMatcher:
    """Matches triaged comments against one library version (see module docstring).

    Safe to share between threads: the only mutable state is the ranking cache (an LRU of bounded size)
    and memo dicts filled on first use, whose races cost at most a recomputation."""

    def __init__(
        self,
        library: Library,
        config: ScriptsSettings | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self.library = library
        self.config = config or ScriptsSettings()
        self.settings = self.config.matcher
        self.rng = rng or random.Random()
        self.catalogue = CatalogueIndex(library)
        self.coupons = CouponEngine(library.coupons)
        self.facts = QuestionFacts(library, self.config.answer.product_words)
        self.voice = self.config.voice
        self.register = library.library.tone or self.voice.tone
        self.address = "亲" if self.register == "casual" else "您"
        self.gate: TermGate = term_gate(self.config, library.library.taboo)
        answer = self.config.answer
        self._forms = QuestionForms(answer.question_forms)
        self._cause_forms = tuple(f for f in (normalize(x) for x in answer.cause_forms) if f)
        self._negations = frozenset(n for n in answer.negations if len(n) == 1)
        self._gap_fillers = frozenset(answer.keyword_gap_fillers)
        self._defect_words = tuple(f for f in (normalize(x) for x in answer.defect_words) if f)
        self._example_topics: dict[str, frozenset[str]] = {}  # example → its bigrams without question forms
        self._compiled: list[_Compiled] = []
        self._by_intent: dict[Intent, list[int]] = {i: [] for i in Intent}
        self._fallbacks: dict[Intent, list[int]] = {i: [] for i in Intent}
        for script in library.scripts:
            if not script.enabled:
                continue
            idx = len(self._compiled)
            examples = tuple(e for e in (normalize(x) for x in script.examples) if e)
            reply = self._voiced(script.reply)
            on_air = CompiledTemplate.of(script.on_air)
            used = {p.name for p in (*reply.slots, *on_air.slots) if isinstance(p, Variable)}
            self._compiled.append(
                _Compiled(
                    index=idx,
                    script=script,
                    reply=reply,
                    on_air=on_air,
                    examples=examples,
                    products=frozenset(script.products),
                    needs_product=bool(used & PRODUCT_VARIABLES) or "size_advice" in used,
                    sentiment=script.sentiment,
                    script_id=script.id,
                    empathetic=script.empathetic,
                    exclude=tuple(w for w in (normalize(x) for x in script.exclude) if w),
                )
            )
            for intent in script.intents:
                self._by_intent[intent].append(idx)
                if script.fallback:
                    self._fallbacks[intent].append(idx)
        # a script answering a question about products: a catalogue gap is its answer too
        self._gap_script = [bool(set(c.script.intents) & GAP_INTENTS) for c in self._compiled]
        # a script said before buying (a spec, a size, a material): no answer to an after-sales question
        self._presale = [set(c.script.intents) == {Intent.PRODUCT} for c in self._compiled]
        self._upbeat = [
            Intent.BUY_SIGNAL in c.script.intents
            or (c.script.fallback and set(c.script.intents) <= UPBEAT_INTENTS)
            for c in self._compiled
        ]
        by_key = {**{p.sku: p for p in library.products}, **{str(p.link): p for p in library.products}}
        self._own_product = [
            by_key.get(c.script.products[0]) if len(c.script.products) == 1 else None for c in self._compiled
        ]
        self._damping = [self.settings.fallback_damping if c.script.fallback else 1.0 for c in self._compiled]
        self._static_values = self._build_static_values()
        self._bound: dict[tuple[int, int | None], tuple[CompiledTemplate, CompiledTemplate]] = {}
        ms = self.settings
        # the most fuzzy evidence and bonuses can add to each script's score
        self._lift = [
            ms.weight_fuzzy
            + (ms.bonus_product_scope if c.products else 0.0)
            + (ms.bonus_sentiment_fit if c.sentiment is not None else 0.0)
            for c in self._compiled
        ]
        # view 0 = every script (intent=None), then one per intent
        view_intents: list[Intent | None] = [None, *Intent]
        self._build_automaton(view_intents)
        self._weights = (
            ms.weight_keyword,
            ms.weight_bigram,
            ms.weight_fuzzy,
            ms.min_score,
            ms.fuzzy_shortlist,
            ms.bonus_product_scope,
            ms.bonus_sentiment_fit,
            ms.penalty_sentiment_mismatch,
        )
        self._views: dict[int, _IntentView] = {}
        n = len(self._compiled)
        off = ms.off_intent_factor
        for number, scoped in enumerate(view_intents):
            if scoped is None:
                self._views[id(None)] = _IntentView(number, [1.0] * n, (), "", off)
                continue
            members = set(self._by_intent[scoped])
            fallbacks = tuple(
                Ranked(idx, ms.fallback_score, scoped.value, notes=(FALLBACK_NOTE,))
                for idx in self._fallbacks[scoped]
            )
            factor = [1.0 if idx in members else off for idx in range(n)]
            self._views[id(scoped)] = _IntentView(number, factor, fallbacks, scoped.value, off)
        # product-scope evidence, formatted once per catalogue product: (link, sku, in-scope note, other note)
        self._product_notes = {id(p): _product_notes(p) for p in library.products}
        neg = self.config.negative_reply
        self._empathy = {
            id(e): self._voiced_text(neg.empathy.get(e.value or "none", neg.empathy.get("none", "")))
            for e in Emotion
        }
        self._framed_emotions = frozenset(self.voice.framed_emotions)
        self._framed_intents = frozenset(self.voice.framed_intents)
        self._address_words = tuple(
            sorted({*self.voice.address_words, self.voice.formal_address, "您"}, key=len)
        )[::-1]
        self._cache: OrderedDict[tuple[object, ...], _Ranking] = OrderedDict()

    # --- indices -----------------------------------------------------------------------------------------
    def _build_automaton(self, view_intents: list[Intent | None]) -> None:
        """One Aho-Corasick automaton over the keywords and the bigrams of the index, the catalogue's product
        aliases and the coupon rules' trigger keywords: one scan of the comment finds them all.

        A key's value is ``(keyword, slots, 1 - strength, bigram weight, postings per view, other)``: the
        first three are None for a bigram that is no keyword, the weight is None for a keyword that is no
        bigram (not two characters). Postings hold each bigram's IDF weight already divided by the script's
        norm; a very common bigram (什么, 多少…) keeps its weight (it counts in the query's norm) but no
        postings (not worth walking). ``other`` is None, or ``(alias hit or None, coupon trigger keyword?)``.
        The automaton reports matches by end position (longer first), so bigrams come in text order, as a
        scan would see them, and keywords and aliases in the order their own automata would report them.
        """
        words: dict[str, list[int]] = {}
        for c in self._compiled:
            for kw in c.script.keywords:
                nk = normalize(kw)
                if nk and c.index not in words.setdefault(nk, []):
                    words[nk].append(c.index)
        doc_grams: list[set[str]] = []
        df: dict[str, int] = {}
        for c in self._compiled:
            grams: set[str] = set()
            for text in (*c.examples, *(normalize(k) for k in c.script.keywords)):
                grams |= _bigrams(text)
            doc_grams.append(grams)
            for g in grams:
                df[g] = df.get(g, 0) + 1
        n = max(1, len(self._compiled))
        self._gram_weight = {g: math.log(1.0 + n / d) ** 2 for g, d in df.items()}
        common_df = max(2.0, self.settings.common_bigram_share * n)
        self._min_walk_weight = math.log(1.0 + n / common_df) ** 2
        view_of = {id(intent): number for number, intent in enumerate(view_intents)}
        postings: dict[str, list[list[tuple[int, float]]]] = {}
        for c, grams in zip(self._compiled, doc_grams, strict=True):
            norm = math.sqrt(sum(self._gram_weight[g] for g in grams)) or 1.0
            for g in grams:
                w = self._gram_weight[g]
                if len(g) != 2 or w < self._min_walk_weight:
                    continue
                entry = (c.index, w / norm)
                lists = postings.get(g)
                if lists is None:
                    lists = postings[g] = [[] for _ in view_intents]
                lists[0].append(entry)
                for intent in dict.fromkeys(c.script.intents):  # a script counts once per intent
                    lists[view_of[id(intent)]].append(entry)
        no_postings: tuple[tuple[tuple[int, float], ...], ...] = tuple(() for _ in view_intents)
        aliases = self.catalogue.aliases
        coupon_words = self.coupons.trigger_keywords or frozenset()
        self._sees_coupon_words = self.coupons.trigger_keywords is not None
        keys = {g for g in self._gram_weight if len(g) == 2} | set(words) | set(aliases) | coupon_words
        self._automaton: ahocorasick.Automaton | None = None
        self._gapped: dict[str, tuple[_Gapped, ...]] = {}  # by first character
        if not keys:
            return
        automaton = ahocorasick.Automaton()
        gapped: list[_Gapped] = []
        gap = self.config.answer.keyword_gap
        fillers = self._gap_fillers
        for key in sorted(keys):
            idxs = words.get(key)
            word: str | None = None
            slots: tuple[int, ...] | None = None
            miss: float | None = None
            bare = False
            if idxs is not None:
                # a keyword is worth its topic (什么码 counts as 码); one that is only a question form (有吗,
                # 还有没有) is evidence only when the comment names a product: then that product is the topic
                topic = self._forms.topic(key)
                bare = not topic
                strength = min(1.0, KEYWORD_STRENGTH_BASE + KEYWORD_STRENGTH_PER_CHAR * len(topic or key))
                word, slots, miss = key, tuple(idxs), 1.0 - strength
                if (
                    gap
                    and len(key) >= GAPPED_MIN_CHARS
                    and not _HAS_ASCII.search(key)
                    and any(ch not in fillers for ch in topic)
                ):
                    # split where both sides say something (开了|吗 does not: 开美颜了吗 is no 开了吗)
                    splits = tuple(
                        (key[:i], key[i:])
                        for i in range(1, len(key))
                        if key[:i].strip(_PARTICLE_CHARS) and key[i:].strip(_PARTICLE_CHARS)
                    )
                    if splits:
                        gapped.append(_Gapped(key, tuple(idxs), 1.0 - strength, splits))
            weight = self._gram_weight.get(key) if len(key) == 2 else None
            lists = postings.get(key)
            by_view = tuple(tuple(x) for x in lists) if lists is not None else no_postings
            alias = aliases.get(key)
            other = (alias, key in coupon_words) if alias is not None or key in coupon_words else None
            automaton.add_word(key, (word, slots, miss, weight, by_view, other, bare))
        automaton.make_automaton()
        self._automaton = automaton
        by_first: dict[str, list[_Gapped]] = {}
        for gapped_word in gapped:
            by_first.setdefault(gapped_word.word[0], []).append(gapped_word)
        self._gapped = {first: tuple(gs) for first, gs in by_first.items()}

    # --- matching ----------------------------------------------------------------------------------------
    def match(
        self,
        comment: Comment,
        triage: Triage,
        on_air: int | str | None = None,
        k: int = 3,
        now: float | None = None,
    ) -> list[Suggestion]:
        """Ranked suggestions (best first, at most ``k``) for a triaged comment or cluster representative."""
        clock = time.time() if now is None else now
        if on_air is None:
            link = self.library.on_air_link
        elif type(on_air) is int:
            link = on_air
        else:
            link = _link_of(on_air)
        query = question_text(triage.normalized or comment.text)
        ranking = self._ranking(query, triage.intent, triage.sentiment, link)
        ranked = ranking.ranked
        intent = triage.intent
        gap = ranking.gap
        if not ranked and gap is None and intent not in SERVICE_INTENTS:
            return []
        coupon = self.coupons.best_among(ranking.coupons, comment, triage, clock) if ranking.coupons else None
        resolve = self._resolver(comment, ranking.product, coupon, triage.cluster_size > 1)
        frame = self._frames(triage)
        rng = self.rng
        n = len(ranked) if k >= len(ranked) else len(ranked[:k])
        prepared = ranking.prepared
        if len(prepared) < n:  # first use of this ranking (or a bigger k): a new list, so no thread sees half
            prepared = ranking.prepared = self._prepare(ranking, n)
        comment_id = comment.comment_id
        room = comment.room
        priority = triage.priority
        cluster_id = triage.cluster_id
        coupon_id = coupon.rule.id if coupon else ""
        coupon_reasons = coupon.reasons if coupon is not None else None
        out: list[Suggestion] = []
        blocked: list[str] = []
        answers: bool | None = None  # whether the first suggestion kept answers the question
        for position, (
            reply_template,
            on_air_template,
            empathetic,
            why,
            script_id,
            score,
            about,
        ) in enumerate(prepared if len(prepared) == n else prepared[:n]):
            reply = reply_template.render(resolve, rng)
            on_air_line = on_air_template.render(resolve, rng) if on_air_template.pattern else ""
            on_air_line = clip_line(self._answer_line(intent, about, on_air_line))
            if frame and not empathetic:
                reply = self._compose(reply, triage.emotion, resolve)
            hits = self.gate.hits(reply) or self.gate.hits(on_air_line)
            if hits:  # a suggestion never carries an error-level term
                blocked.append(TERM_NOTE.format(term=hits[0]))
                continue
            if answers is None:
                answers = ranking.answers.get(position)
                if answers is None:
                    top = ranked[position]
                    # a fault told (黑点, 坏了…) is after-sales: a product script does not answer it
                    answers = self._answers(top, query, ranking) and not (
                        self._presale[top.slot] and self._tells_fault(query)
                    )
                    ranking.answers[position] = answers
            out.append(
                _make_suggestion(
                    f"{comment_id}:{script_id}",
                    room,
                    comment_id,
                    priority,
                    reply,
                    cluster_id,
                    script_id,
                    on_air_line,
                    score,
                    [*why, *coupon_reasons] if coupon_reasons is not None else why.copy(),
                    coupon_id,
                    clock,
                )
            )
        if (
            gap is not None
            and (intent in GAP_INTENTS or (bool(ranked) and self._gap_script[ranked[0].slot]))
            and not (ranking.asks_cause and gap.kind in CATALOGUE_ANSWERS)
        ):
            told = self._gap_suggestion(gap, comment, triage, resolve, frame, clock)
            if told is not None:
                return [told, *out][:k]
        if answers:
            return out
        return [self._no_match(comment, triage, out, blocked, clock), *out][:k]

    def _gapped_keywords(
        self, query: str, keyword_hits: dict[int, list[str]], keyword_miss: dict[int, float]
    ) -> None:
        """Keywords said with a filler word or two inside (什么时候到 in 什么时候才能到, 几天发货 in
        几天才能发货; ``answer.keyword_gap_fillers``): a hit as if said whole. Anything else inside — a
        negation (能不发货), another word (充电多少 is not 充电宝是多少) — and it is not the keyword."""
        chars = set(query)
        gap = self.config.answer.keyword_gap
        fillers = self._gap_fillers
        gapped = self._gapped
        for first in chars.intersection(gapped):
            for g in gapped[first]:
                if (
                    g.word[-1] in chars
                    and g.word not in query
                    and any(
                        _said_with_gap(query, prefix, suffix, gap, fillers) for prefix, suffix in g.splits
                    )
                ):
                    _keyword_found(keyword_hits, keyword_miss, g.word, g.slots, g.miss)

    def _asks_cause(self, text: str) -> bool:
        """Whether normalised ``text`` asks for a cause or a remedy (``answer.cause_forms``: 怎么办…)."""
        return any(form in text for form in self._cause_forms)

    def _tells_fault(self, text: str) -> bool:
        """Whether normalised ``text`` tells of a fault in goods already bought (``answer.defect_words``)."""
        return any(word in text for word in self._defect_words)

    def _same_topic(self, topic: str, example: str) -> bool:
        """Whether ``topic`` (a comment, question forms taken out) shares two bigrams or more with ``example``
        once its question forms are taken out too."""
        if not example:
            return False
        topics = self._example_topics
        theirs = topics.get(example)
        if theirs is None:
            theirs = topics[example] = frozenset(_bigrams(self._forms.strip(example)))
        return len(theirs.intersection(_bigrams(topic))) >= 2

    def _answers(self, r: Ranked, query: str, ranking: _Ranking) -> bool:
        """Whether the script ranked ``r`` answers the question (else the card says 无匹配话术)."""
        compiled = self._compiled[r.slot]
        script = compiled.script
        if compiled.exclude and any(word in query for word in compiled.exclude):
            return False  # the merchant's 排除词: not a question this script answers
        if script.fallback and r.intent and Intent(r.intent) in ACKNOWLEDGING_INTENTS:
            return True
        if script.fallback and not (r.keywords or r.example):  # the generic reply, on no evidence
            return False
        if not r.keywords:  # like an example in its form only: a near repeat or a shared topic is evidence
            topic = self._forms.strip(query)
            if not topic:
                return False  # nothing asked about (什么时候？, 多少): no example can say what
            if r.fuzzy < self.config.answer.near_example and not self._same_topic(topic, r.example):
                return False
        if (
            compiled.products
            and ranking.product is not None
            and ranking.product_why.startswith(NAMED_PRODUCT)
            and not (compiled.products & {str(ranking.product.link), ranking.product.sku})
        ):
            return False  # written for other products than the one the comment names: 4号 is not 1号
        return r.score >= self.config.answer.min_answer_score

    def _no_match(
        self, comment: Comment, triage: Triage, closest: list[Suggestion], blocked: list[str], clock: float
    ) -> Suggestion:
        """The 无匹配话术 card: no reply, the closest scripts to pick from (``候选 id：reply`` in ``why``)."""
        a = self.config.answer
        why = [a.no_match]
        why.extend(f"{CANDIDATE_PREFIX}{s.script_id}：{s.reply}" for s in closest[: a.closest])
        why.extend(blocked)
        top = closest[0].score if closest else 0.0
        return _make_suggestion(
            f"{comment.comment_id}:none",
            comment.room,
            comment.comment_id,
            triage.priority,
            "",
            triage.cluster_id,
            NO_MATCH_ID,
            "",
            min(1.0, round(top + 10**-SCORE_DIGITS, SCORE_DIGITS)),
            why,
            "",
            clock,
        )

    def _gap_suggestion(
        self,
        gap: Gap,
        comment: Comment,
        triage: Triage,
        resolve: Callable[[str], str],
        frame: bool,
        clock: float,
    ) -> Suggestion | None:
        """The catalogue's "no": the colour, size or product asked about does not exist; offers what does."""
        a = self.config.answer
        address = self._address_word()
        p = gap.product
        others = ""
        if gap.others:
            others = a.others.format(
                value=gap.value, links="、".join(f"{o.link}号{o.name}" for o in gap.others)
            )
        if gap.kind == "choice":
            reply = a.product_choice.format(address=address, value=gap.value, options="、".join(gap.options))
            lines = [f"{gap.value}有{'、'.join(o.split('号')[0] + '号' for o in gap.options)}"]
            note = f"catalogue: 几款{gap.value}，未在讲解"
        elif p is None:
            reply = f"{address}，这场没有{gap.value}哦，想看的款式报链接号"
            lines = [f"这场没有{gap.value}"]
            note = f"catalogue: 没有{gap.value}"
        elif gap.kind == "product":
            reply = a.product_gap.format(
                address=address, value=gap.value, link=p.link, name=p.name, price=_money(p.price)
            )
            lines = [f"这场没有{gap.value}，在讲{p.link}号{_money(p.price)}元", f"这场没有{gap.value}"]
            note = f"catalogue: 没有{gap.value}"
        else:
            joiner = "、" if gap.kind == "colour" else "/"
            options = joiner.join(gap.options)
            template = a.colour_gap if gap.kind == "colour" else a.size_gap
            reply = template.format(
                address=address, link=p.link, name=p.name, value=gap.value, options=options, others=others
            )
            lines = [f"{p.link}号没有{gap.value}，有{options}", f"{p.link}号没有{gap.value}"]
            note = f"catalogue: {p.link}号没有{gap.value}"
        if frame:
            reply = self._compose(reply, triage.emotion, resolve)
        on_air_line = next((x for x in lines if len(x) <= ON_AIR_MAX_CHARS), lines[-1][:ON_AIR_MAX_CHARS])
        if self.gate.hits(reply) or self.gate.hits(on_air_line):
            return None
        return _make_suggestion(
            f"{comment.comment_id}:{GAP_SCRIPT_PREFIX}{gap.kind}",
            comment.room,
            comment.comment_id,
            triage.priority,
            reply,
            triage.cluster_id,
            GAP_SCRIPT_PREFIX + gap.kind,
            on_air_line,
            1.0,
            [note],
            "",
            clock,
        )

    # --- one voice ---------------------------------------------------------------------------------------
    def _address_word(self) -> str:
        if self.register == "formal":
            return self.voice.formal_address
        return ("宝宝", "亲")[int(self.rng.random() * 2)]

    def _frames(self, triage: Triage) -> bool:
        """Empathy framing only for negative comments about a service (an angry, anxious or disappointed
        viewer, or a complaint)."""
        if triage.sentiment is not Sentiment.NEG or triage.intent not in SERVICE_INTENTS:
            return False
        if triage.emotion.value in self._framed_emotions:
            return True
        return triage.emotion is Emotion.NONE and triage.intent.value in self._framed_intents

    def _strip_address(self, text: str) -> str:
        for word in self._address_words:
            if text.startswith(word) and len(text) > len(word) and text[len(word)] in "，,！! ":
                return text[len(word) + 1 :].lstrip()
        return text

    def _compose(self, answer: str, emotion: Emotion, resolve: Callable[[str], str]) -> str:
        """One sentence: who (the nickname when safe, else the shop's address), empathy by emotion, the answer
        (its own leading 宝宝/亲 dropped)."""
        empathy = self._empathy.get(id(emotion)) or self._empathy[id(Emotion.NONE)]
        lead = resolve("nickname")
        return f"{lead}，{empathy}，{self._strip_address(answer)}"

    def _voiced_text(self, text: str) -> str:
        if self.register == "formal":
            return re.sub("你(?!们)", "您", text)
        return text.replace("您", "你")

    def _voiced(self, template: str) -> CompiledTemplate:
        """A template in the shop's register: 您 or 你 throughout; formal: address variants such as
        ``{宝宝/亲}`` and a leading ``宝宝，`` become ``formal_address`` (您好)."""
        words = set(self.voice.address_words)
        formal = self.register == "formal"
        parts: list[Part] = []
        for i, p in enumerate(parse_template(template)):
            if isinstance(p, str):
                text = self._voiced_text(p)
                if formal and i == 0:
                    for word in sorted(words, key=len, reverse=True):
                        if text.startswith(word) and text[len(word) : len(word) + 1] in ("，", ","):
                            text = self.voice.formal_address + text[len(word) :]
                            break
                parts.append(text)
            elif formal and isinstance(p, Variants) and all(o in words for o in p.options):
                parts.append(self.voice.formal_address)
            else:
                parts.append(p)
        merged: list[Part] = []
        for p in parts:
            if isinstance(p, str) and merged and isinstance(merged[-1], str):
                merged[-1] += p
            else:
                merged.append(p)
        return CompiledTemplate.from_parts(tuple(merged))

    def _answer_line(self, intent: Intent, product: Product | None, line: str) -> str:
        """The streamer's line carries the answer: the price, the link number or the shipping promise."""
        if product is None:
            return line
        link = f"{product.link}号"
        price = f"{_money(product.price)}元"
        if intent in (Intent.PRICE_PROMO, Intent.BUY_SIGNAL):
            if price in line and link in line:
                return line
            head = f"{link}{price}"
        elif intent is Intent.LOGISTICS and product.ship_days is not None:
            promise = f"{product.ship_days}天内发"
            if promise in line:
                return line
            head = f"{link}付款后{promise}"
        elif intent is Intent.PRODUCT:
            if link in line:
                return line
            head = link
        else:
            return line
        for candidate in (f"{head}，{line}" if line else head, head):
            if len(candidate) <= ON_AIR_MAX_CHARS:
                return candidate
        return head[:ON_AIR_MAX_CHARS]

    def rank(
        self,
        text: str,
        intent: Intent | None,
        sentiment: Sentiment = Sentiment.NEU,
        on_air: int | None = None,
    ) -> list[Ranked]:
        """Ranked scripts for raw text without filling (``intent=None``: every script counts equally)."""
        return list(self._ranking(question_text(text), intent, sentiment, on_air).ranked)

    def product_named(
        self, comment: Comment, triage: Triage, suggestion: Suggestion, on_air: int | None = None
    ) -> Product | None:
        """The product ``suggestion`` (made by :meth:`match` for this comment) talks about, or None when its
        reply names no product (a script without product variables, the 无匹配话术 card) — for evaluation."""
        link = self.library.on_air_link if on_air is None else on_air
        ranking = self._ranking(
            question_text(triage.normalized or comment.text), triage.intent, triage.sentiment, link
        )
        if suggestion.script_id.startswith(GAP_SCRIPT_PREFIX):
            return ranking.gap.product if ranking.gap is not None else None
        for c in self._compiled:
            if c.script_id == suggestion.script_id:
                if not c.needs_product:
                    return None
                own = self._own_product[c.index]
                if own is not None and not ranking.product_why.startswith(NAMED_PRODUCT):
                    return own
                return ranking.product
        return None

    def script_of(self, ranked: Ranked) -> Script:
        return self._compiled[ranked.slot].script

    def _ranking(self, query: str, intent: Intent | None, sentiment: Sentiment, link: int | None) -> _Ranking:
        # enum members are singletons: id() keys avoid Enum's Python-level __hash__ on the hot path
        key = (query, id(intent), id(sentiment), link)
        cache = self._cache
        cached = cache.get(key)
        if cached is not None:
            try:
                cache.move_to_end(key)
            except KeyError:  # evicted meanwhile by another thread: harmless
                pass
            return cached
        ranking = self._compute(query, intent, sentiment, link)
        cache[key] = ranking
        if len(cache) > self.settings.cache_size:
            try:
                cache.popitem(last=False)
            except KeyError:
                pass
        return ranking

    def _compute(self, query: str, intent: Intent | None, sentiment: Sentiment, link: int | None) -> _Ranking:
        view = self._views[id(intent)]
        # one scan: keyword hits across the library and the bigram prefilter over the intent's scripts (other
        # intents come in through keywords only), product aliases and coupon trigger keywords
        keyword_hits: dict[int, list[str]] = {}
        keyword_miss: dict[int, float] = {}
        overlap: dict[int, float] = {}
        query_weight = 0.0
        alias: AliasHit | None = None
        coupon_word = False
        bare_hits: list[tuple[str, tuple[int, ...], float]] = []
        automaton = self._automaton
        if automaton is not None and query:
            number = view.number
            negations = self._negations
            negated_from = negated_end = -1  # the last negated keyword: keywords inside it are negated too
            for end, (word, idxs, miss, weight, by_view, other, bare) in automaton.iter(query):
                if other is not None:
                    if other[0] is not None:
                        alias = longer_alias(alias, other[0])
                    if other[1]:
                        coupon_word = True
                if bare:
                    bare_hits.append((word, idxs, miss))
                elif (
                    idxs is not None
                    and negations
                    and end - len(word) + 1 >= negated_from >= 0
                    and (end <= negated_end)
                ):
                    pass  # 游戏 inside a negated 打游戏
                elif idxs is not None and negations and _negated(query, end, word, negations):
                    negated_from, negated_end = end - len(word) + 1, end
                elif idxs is not None:
                    _keyword_found(keyword_hits, keyword_miss, word, idxs, miss)
                if weight is not None:
                    query_weight += weight
                    for idx, v in by_view[number]:
                        overlap[idx] = overlap.get(idx, 0.0) + v
        if self._gapped and query:
            self._gapped_keywords(query, keyword_hits, keyword_miss)
        product, product_why = self.catalogue.product_given(query, link, alias)
        product, product_why, gap = self.facts.resolve(query, product, product_why)
        if bare_hits and product_why.startswith(NAMED_PRODUCT):
            # 阔腿裤还有货吗: the question form asks about the product the comment names
            for word, idxs, miss in bare_hits:
                _keyword_found(keyword_hits, keyword_miss, word, idxs, miss)
        coupons: tuple[CouponCandidate, ...] = ()
        if intent is not None:
            seen = coupon_word if self._sees_coupon_words else None
            coupons = self.coupons.candidates(intent, sentiment, query, product, keyword_seen=seen)
        (
            weight_keyword,
            weight_bigram,
            weight_fuzzy,
            min_score,
            shortlist_size,
            bonus_scope,
            bonus_sentiment,
            penalty_sentiment,
        ) = self._weights
        if keyword_miss:
            score = {idx: weight_keyword * (1.0 - miss) for idx, miss in keyword_miss.items()}
            if overlap:
                scale = weight_bigram / math.sqrt(query_weight)
                for idx, v in overlap.items():
                    score[idx] = score.get(idx, 0.0) + scale * v
        elif overlap:
            scale = weight_bigram / math.sqrt(query_weight)
            score = {idx: scale * v for idx, v in overlap.items()}  # 0.0 + x is x
        else:
            quiet = view.fallbacks
            if sentiment is Sentiment.NEG:
                quiet = tuple(r for r in quiet if not self._upbeat[r[0]])
            return _Ranking(view, quiet, product, product_why, coupons, gap, self._asks_cause(query))
        factor = view.factor
        damping = self._damping
        prescore = {idx: v * damping[idx] * factor[idx] for idx, v in score.items()}
        shortlist = sorted(prescore, key=prescore.__getitem__, reverse=True)[:shortlist_size]
        compiled = self._compiled
        label = view.label
        ranked: list[Ranked] = []
        # fuzzy evidence and bonuses add at most lift[idx]: below the leader's prescore after that, skip
        # fuzzy; below min_score even with all of it, skip the script (the margin covers float rounding)
        floor = prescore[shortlist[0]]
        lowest = min_score - _ROUNDING_MARGIN
        lift = self._lift
        scope: tuple[str, str, tuple[str], tuple[str]] | None = None
        for idx in shortlist:
            f = factor[idx]
            d = damping[idx]
            base = score[idx]
            if (base + lift[idx]) * (f * d) < lowest:
                continue
            c = compiled[idx]
            if prescore[idx] + lift[idx] >= floor:
                fz, example = _fuzzy(query, c.examples)
                value = base + weight_fuzzy * fz
            else:
                fz, example = 0.0, ""
                value = base  # + weight_fuzzy * 0.0
            notes: tuple[str, ...] = ()
            # product-scope and sentiment fit
            if c.products and product is not None:
                if scope is None:
                    scope = self._product_notes.get(id(product)) or _product_notes(product)
                if scope[0] in c.products or scope[1] in c.products:
                    value += bonus_scope
                    notes = scope[2]
                else:
                    value *= PRODUCT_SCOPE_MISMATCH_FACTOR
                    notes = scope[3]
            wanted = c.sentiment
            if wanted is not None:
                if wanted is sentiment:
                    value += bonus_sentiment
                    note = _SENTIMENT_NOTES.get(id(sentiment)) or f"written for {sentiment.value} comments"
                    notes = (*notes, note)
                else:
                    value -= penalty_sentiment
            value *= f * d
            if value >= min_score:
                hits = keyword_hits.get(idx)
                ranked.append(
                    _new_tuple(
                        Ranked,
                        (
                            idx,
                            value if value < 1.0 else 1.0,
                            label,
                            f,
                            tuple(hits) if hits else (),
                            example,
                            fz,
                            notes,
                        ),
                    )
                )
        ranked.sort(key=_by_score, reverse=True)
        fallbacks = view.fallbacks
        if sentiment is Sentiment.NEG:
            # an upbeat line (a buy-signal cheer, the chit-chat thanks) never answers an unhappy viewer
            ranked = [r for r in ranked if not self._upbeat[r[0]]]
            fallbacks = tuple(r for r in fallbacks if not self._upbeat[r[0]])
        if fallbacks:
            slots = [r[0] for r in ranked]
            for fallback in fallbacks:
                if fallback.slot not in slots:
                    ranked.append(fallback)
                    slots.append(fallback.slot)
        return _Ranking(view, tuple(ranked), product, product_why, coupons, gap, self._asks_cause(query))

    # --- filling -----------------------------------------------------------------------------------------
    def _resolver(
        self, comment: Comment, product: Product | None, coupon: EligibleCoupon | None, many: bool = False
    ) -> Callable[[str], str]:
        """Values of the variables left in a bound template (per-product ones are already written in):
        the comment's own (nickname, size advice, coupon) or a missing one, made once per comment. A reply
        to many viewers (a cluster) names nobody: ``{nickname}`` is the shop's address (亲 or 您)."""
        values: dict[str, str] = {"nickname": self.address} if many else {}

        def resolve(name: str) -> str:
            value = values.get(name)
            if value is None:
                value = self._dynamic_variable(name, comment, product, coupon)
                values[name] = value
            return value

        return resolve

    def _prepare(self, ranking: _Ranking, n: int) -> list[_Prepared]:
        """``ranking.prepared`` extended to the first ``n`` positions: what a suggestion needs besides the
        comment — templates with this product's (and the library's) fixed values written in, the evidence,
        the rounded score."""
        out = list(ranking.prepared)
        product = ranking.product
        link = product.link if product is not None else None
        product_note = f"product: {ranking.product_why}" if ranking.product_why else ""
        view = ranking.view
        compiled = self._compiled
        bound_cache = self._bound
        named = ranking.product_why.startswith(NAMED_PRODUCT)
        for rank in ranking.ranked[len(out) : n]:
            c = compiled[rank.slot]
            about, about_link, note = product, link, product_note
            own = self._own_product[c.index]
            if own is not None and own is not product and not named:
                # a script written for one product answers about it unless the comment named another
                about, about_link, note = own, own.link, f"product: scope {own.link}"
            key = (c.index, about_link)
            bound = bound_cache.get(key)
            if bound is None:
                static = self._static_values[about_link]
                bound = bound_cache[key] = (c.reply.bind(static), c.on_air.bind(static))
            why = _why_list(rank, view)
            if note:
                why.append(note)
            elif c.needs_product:
                why.append(NO_PRODUCT_NOTE)
            out.append(
                (bound[0], bound[1], c.empathetic, why, c.script_id, round(rank.score, SCORE_DIGITS), about)
            )
        return out

    def _build_static_values(self) -> dict[int | None, dict[str, str]]:
        """Per product link (and ``None`` = no product): library variables overlaid with product values."""
        # the library's own texts speak in the shop's register too (您 or 你, never both in one reply)
        base = {
            k: self._voiced_text(v) for k, v in self.library.variables.items() if k not in DYNAMIC_VARIABLES
        }
        out: dict[int | None, dict[str, str]] = {None: base}
        for p in self.library.products:
            values = dict(base)
            for name in PRODUCT_VARIABLES:
                value = _product_value(name, p)
                if value is not None:
                    values[name] = value
            if p.ship_days is not None:
                values["ship_days"] = str(p.ship_days)
            out[p.link] = values
        return out

    def _dynamic_variable(
        self, name: str, comment: Comment, product: Product | None, coupon: EligibleCoupon | None
    ) -> str:
        value: str | None = None
        if name == "nickname":
            value = reply_nickname(comment.nickname, self.settings.nickname_max_chars)
            if value is None:
                value = self.library.variables.get(name) or (
                    self.settings.nickname_fallback if self.register == "casual" else self.address
                )
        elif name == "size_advice":
            value = self._voiced_text(
                self.catalogue.advice_for(product, comment.text, self.config.size_advice)
            )
        elif name == "coupon":
            if coupon is not None and not coupon.requires_approval:
                value = coupon.text
        if value is None:
            value = self.library.variables.get(name)
        if value is None:
            value = self.settings.missing_variable.format(name=name)
        return value


def _said_with_gap(query: str, prefix: str, suffix: str, gap: int, fillers: frozenset[str]) -> bool:
    """Whether ``query`` holds ``prefix``, then 1…``gap`` characters all in ``fillers``, then ``suffix``."""
    start = query.find(prefix)
    while start >= 0:
        after = start + len(prefix)
        end = query.find(suffix, after + 1, after + gap + len(suffix))
        if end >= 0 and all(ch in fillers for ch in query[after:end]):
            return True
        start = query.find(prefix, start + 1)
    return False


def _negated(query: str, end: int, word: str, negations: frozenset[str]) -> bool:
    """Whether the keyword ``word`` ending at ``end`` is negated in a statement, not asked about: right
    after a negation (不打游戏) and followed by more than a particle (…平时拍拍照行吗). Not an A-not-A
    question (会不会上, 卡不卡), not a tag question about it (不掉色吧, 不起球吗), not a keyword starting
    with the negation."""
    start = end - len(word) + 1
    if start < 1 or query[start - 1] not in negations or word[0] in negations:
        return False
    if start >= 2 and query[start - 2] == word[0]:  # 会不会: A-not-A
        return False
    rest = query[end + 1 :]
    return len(rest) > 1 or (len(rest) == 1 and rest not in PARTICLES)


#: Where a streamer's line may be cut (after a clause), and the least of it kept when cutting there.
_CLAUSE_ENDS = "，；、：,;"


def clip_line(line: str, limit: int = ON_AIR_MAX_CHARS) -> str:
    """The streamer's line in at most ``limit`` characters: cut after the last whole clause that fits (a spec
    list filled from the catalogue can run long), else at the limit."""
    if len(line) <= limit:
        return line
    head = line[:limit]
    cut = max(head.rfind(c) for c in _CLAUSE_ENDS)
    return head[:cut] if cut >= limit // 2 else head


def _fuzzy(query: str, examples: tuple[str, ...]) -> tuple[float, str]:
    """Best similarity (0–1) of ``query`` to an example; partial match for a question in chatter."""
    if not examples or not query:
        return 0.0, ""
    if len(examples) == 1:  # same as extractOne over one choice, without its set-up
        example = examples[0]
        value = _ratio(query, example)
    else:
        best = _extract_one(query, examples, scorer=_ratio, processor=None)
        value, example = best[1], best[0]
    if len(query) >= PARTIAL_LENGTH_RATIO * len(example):
        partial = _extract_one(query, examples, scorer=_partial_ratio, processor=None)
        if PARTIAL_DAMPING * partial[1] > value:
            value, example = PARTIAL_DAMPING * float(partial[1]), partial[0]
    return float(value) / PERCENT, example


_ratio = fuzz.ratio
_partial_ratio = fuzz.partial_ratio
_extract_one = process.extractOne


def _product_notes(p: Product) -> tuple[str, str, tuple[str], tuple[str]]:
    """How a product-scoped script refers to ``p``: its link as text, its SKU, and the two possible notes."""
    return (
        str(p.link),
        p.sku,
        (f"scoped to {p.link}号",),
        (f"scoped to other products than {p.link}号",),
    )


def _money(v: float) -> str:
    return str(int(v)) if float(v).is_integer() else f"{v:.2f}".rstrip("0").rstrip(".")


def _product_value(name: str, p: Product) -> str | None:
    if name == "price":
        return _money(p.price)
    if name == "original_price":
        return _money(p.original_price) if p.original_price is not None else None
    if name == "link":
        return str(p.link)
    if name == "name":
        return p.name
    if name == "stock":
        return str(p.stock)
    if name == "sizes":
        return "/".join(p.sizes) or None
    if name == "colors":
        return "、".join(p.colors) or None
    if name == "skin_types":
        return "、".join(p.skin_types) or None
    if name == "specs":
        return "，".join(f"{k}{v}" for k, v in p.specs.items()) or None
    return None


def _link_of(value: int | str) -> int | None:
    try:
        return int(str(value).strip().removesuffix("号"))
    except ValueError:
        return None
