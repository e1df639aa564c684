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
"""

from __future__ import annotations

import math
import random
import time
import unicodedata
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import NamedTuple

import ahocorasick
from rapidfuzz import fuzz, process

from livecs.models import Comment, Emotion, Intent, Sentiment, Suggestion, Triage
from livecs.scripts.catalogue import CatalogueIndex
from livecs.scripts.coupons import CouponCandidate, CouponEngine, EligibleCoupon
from livecs.scripts.library import Library, Product, Script
from livecs.scripts.settings import ScriptsConfig, default_config
from livecs.scripts.template import CompiledTemplate, Variable

PERCENT = 100.0
SCORE_DIGITS = 4
#: Keyword strength by length: a 1-char keyword is weak evidence, 3+ chars is strong.
KEYWORD_STRENGTH_BASE = 0.35
KEYWORD_STRENGTH_PER_CHAR = 0.2
#: When the comment is this many times longer than an example, partial_ratio is tried too (a question
#: inside chatter), damped by PARTIAL_DAMPING.
PARTIAL_LENGTH_RATIO = 1.6
PARTIAL_DAMPING = 0.9
PRODUCT_SCOPE_MISMATCH_FACTOR = 0.5
FALLBACK_NOTE = "fallback for the intent"
NO_PRODUCT_NOTE = "no product resolved: set the product on air or name a link number"
#: Intents whose negative comments get the 倾听-共情-引导-解决 wrapper (not chit-chat, spam, buy signals).
SERVICE_INTENTS = frozenset(
    {
        Intent.PRODUCT,
        Intent.PRICE_PROMO,
        Intent.ORDER,
        Intent.LOGISTICS,
        Intent.PAYMENT,
        Intent.AFTER_SALES,
        Intent.COMPLAINT,
    }
)
PRODUCT_VARIABLES = frozenset(
    {"price", "original_price", "link", "name", "stock", "sizes", "colors", "skin_types", "specs"}
)
#: Variables that depend on the comment itself, never precomputed.
DYNAMIC_VARIABLES = frozenset({"size_advice", "coupon", "nickname"})
#: Variables the matcher fills itself; a library's ``variables`` section may add more or give defaults.
BUILTIN_VARIABLES = PRODUCT_VARIABLES | DYNAMIC_VARIABLES | {"ship_days"}
_DROP_CHARS = " \t\r\n\u3000,.!?;:~，。！？；：～、…\"'“”‘’()（）[]【】"


def _build_translation() -> dict[int, int | None]:
    table: dict[int, int | None] = {}
    for code in range(0xFF01, 0xFF5F):  # full-width ASCII block
        table[code] = code - 0xFEE0
    for ch in _DROP_CHARS:
        table[ord(ch)] = None
    return table


_TRANSLATION = _build_translation()


def normalize(text: str) -> str:
    """Lower-case, full-width → half-width, no whitespace or punctuation (what keywords and examples see)."""
    return unicodedata.normalize("NFKC", text).translate(_TRANSLATION).lower() if text else ""


def _by_score(r: Ranked) -> float:
    return r.score


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
        out: list[str] = []
        if self.intent:
            same = self.intent_factor == 1.0
            out.append(f"intent {self.intent}" if same else f"other intent ×{self.intent_factor:g}")
        if self.keywords:
            out.append("keyword " + "、".join(self.keywords))
        if self.example:
            out.append(f"example ≈ {self.example} ({round(self.fuzzy * PERCENT)})")
        out.extend(self.notes)
        return tuple(out)


@dataclass(frozen=True, slots=True)
class _IntentView:
    """What matching needs for one triaged intent (``members=None``: every script, no intent scoping)."""

    postings: dict[str, list[tuple[int, float]]]
    members: frozenset[int] | None
    fallbacks: tuple[Ranked, ...]
    label: str


@dataclass(frozen=True, slots=True)
class _Ranking:
    ranked: tuple[Ranked, ...]
    product: Product | None
    product_why: str
    coupons: tuple[CouponCandidate, ...] = ()
    whys: dict[int, list[str]] = field(default_factory=dict)  # formatted evidence, filled on first use


class ScriptMatcher:
    """Matches triaged comments against one library version (see module docstring).

    Safe to share between threads: the only mutable state is the ranking cache (an LRU of bounded size),
    whose races cost at most a recomputation."""

    def __init__(
        self,
        library: Library,
        config: ScriptsConfig | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self.library = library
        self.config = config or default_config()
        self.settings = self.config.matcher
        self.rng = rng or random.Random()
        self.catalogue = CatalogueIndex(library)
        self.coupons = CouponEngine(library.coupons)
        self._compiled: list[_Compiled] = []
        self._by_intent: dict[Intent, list[int]] = {i: [] for i in Intent}
        self._fallbacks: dict[Intent, list[int]] = {i: [] for i in Intent}
        for script in library.scripts:
            if not script.enabled:
                continue
            idx = len(self._compiled)
            examples = tuple(e for e in (normalize(x) for x in script.examples) if e)
            reply = CompiledTemplate.of(script.reply)
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
                )
            )
            for intent in script.intents:
                self._by_intent[intent].append(idx)
                if script.fallback:
                    self._fallbacks[intent].append(idx)
        self._damping = [self.settings.fallback_damping if c.script.fallback else 1.0 for c in self._compiled]
        self._listen = CompiledTemplate.of(self.config.negative_reply.listen)
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
        self._build_keyword_automaton()
        self._build_bigram_index()
        self._views: dict[int, _IntentView] = {id(None): _IntentView(self._postings, None, (), "")}
        for i in Intent:
            fallbacks = tuple(
                Ranked(idx, self.settings.fallback_score, i.value, notes=(FALLBACK_NOTE,))
                for idx in self._fallbacks[i]
            )
            self._views[id(i)] = _IntentView(
                self._intent_postings[i], frozenset(self._by_intent[i]), fallbacks, i.value
            )
        self._cache: OrderedDict[tuple[object, ...], _Ranking] = OrderedDict()

    # --- indices -----------------------------------------------------------------------------------------
    def _build_keyword_automaton(self) -> None:
        words: dict[str, list[int]] = {}
        for c in self._compiled:
            for kw in c.script.keywords:
                nk = normalize(kw)
                if nk and c.index not in words.setdefault(nk, []):
                    words[nk].append(c.index)
        self._keyword_automaton: ahocorasick.Automaton | None = None
        if words:
            automaton = ahocorasick.Automaton()
            for word, idxs in words.items():
                strength = min(1.0, KEYWORD_STRENGTH_BASE + KEYWORD_STRENGTH_PER_CHAR * len(word))
                automaton.add_word(word, (word, tuple(idxs), strength))
            automaton.make_automaton()
            self._keyword_automaton = automaton

    def _build_bigram_index(self) -> None:
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
        self._postings: dict[str, list[tuple[int, float]]] = {}
        self._intent_postings: dict[Intent, dict[str, list[tuple[int, float]]]] = {i: {} for i in Intent}
        for c, grams in zip(self._compiled, doc_grams, strict=True):
            norm = math.sqrt(sum(self._gram_weight[g] for g in grams)) or 1.0
            for g in grams:
                entry = (c.index, self._gram_weight[g] / norm)
                self._postings.setdefault(g, []).append(entry)
                for intent in c.script.intents:
                    self._intent_postings[intent].setdefault(g, []).append(entry)

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
        link = _link_of(on_air) if on_air is not None else self.library.on_air_link
        query = normalize(triage.normalized or comment.text)
        ranking = self._ranking(query, triage.intent, triage.sentiment, link)
        if not ranking.ranked:
            return []
        eligible = self.coupons.eligible_among(ranking.coupons, comment, triage, clock)
        best_coupon = eligible[0] if eligible else None
        out = []
        resolve = self._resolver(comment, ranking.product, best_coupon)
        for position, rank in enumerate(ranking.ranked[:k]):
            c = self._compiled[rank.slot]
            reply, on_air_line = self._fill(c, triage, ranking.product, resolve)
            why = ranking.whys.get(position)
            if why is None:
                why = list(rank.why)
                if ranking.product_why:
                    why.append(f"product: {ranking.product_why}")
                elif c.needs_product:
                    why.append(NO_PRODUCT_NOTE)
                ranking.whys[position] = why
            why = why + list(best_coupon.reasons) if best_coupon is not None else list(why)
            out.append(
                Suggestion(
                    suggestion_id=f"{comment.comment_id}:{c.script.id}",
                    room=comment.room,
                    comment_id=comment.comment_id,
                    priority=triage.priority,
                    reply=reply,
                    cluster_id=triage.cluster_id,
                    script_id=c.script.id,
                    on_air=on_air_line,
                    score=round(rank.score, SCORE_DIGITS),
                    why=why,
                    coupon_rule_id=best_coupon.rule.id if best_coupon else "",
                    created_at=clock,
                )
            )
        return out

    def rank(
        self,
        text: str,
        intent: Intent | None,
        sentiment: Sentiment = Sentiment.NEU,
        on_air: int | None = None,
    ) -> list[Ranked]:
        """Ranked scripts for raw text without filling (``intent=None``: every script counts equally)."""
        return list(self._ranking(normalize(text), intent, sentiment, on_air).ranked)

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
        s = self.settings
        view = self._views[id(intent)]
        product, product_why = self.catalogue.product_for(query, link)
        # keyword evidence: one Aho-Corasick scan over the whole library
        keyword_hits: dict[int, list[str]] = {}
        score: dict[int, float] = {}
        if self._keyword_automaton is not None and query:
            keyword_miss: dict[int, float] = {}
            for _end, (word, idxs, strength) in self._keyword_automaton.iter(query):
                for idx in idxs:
                    hits = keyword_hits.get(idx)
                    if hits is None:
                        keyword_hits[idx] = [word]
                    elif word in hits:
                        continue
                    else:
                        hits.append(word)
                    keyword_miss[idx] = keyword_miss.get(idx, 1.0) * (1.0 - strength)
            weight_keyword = s.weight_keyword
            for idx, miss in keyword_miss.items():
                score[idx] = weight_keyword * (1.0 - miss)
        # bigram prefilter over the intent's scripts (other intents come in through keywords only);
        # postings hold each bigram's IDF weight already divided by the script's norm
        postings = view.postings
        weights = self._gram_weight
        min_weight = self._min_walk_weight
        overlap: dict[int, float] = {}
        query_weight = 0.0
        for i in range(len(query) - 1):
            gram = query[i : i + 2]
            w = weights.get(gram)
            if w is None:
                continue
            query_weight += w
            if w < min_weight:
                continue  # a very common bigram (什么, 多少…): counts in the norm, not worth walking
            for idx, v in postings.get(gram, ()):
                overlap[idx] = overlap.get(idx, 0.0) + v
        if overlap:
            scale = s.weight_bigram / math.sqrt(query_weight)
            for idx, v in overlap.items():
                score[idx] = score.get(idx, 0.0) + scale * v
        if not score:
            return _Ranking(
                view.fallbacks,
                product,
                product_why,
                self._coupon_candidates(intent, sentiment, query, product),
            )
        members = view.members
        off = s.off_intent_factor
        damping = self._damping
        prescore = {
            idx: v * damping[idx] * (1.0 if members is None or idx in members else off)
            for idx, v in score.items()
        }
        shortlist = sorted(prescore, key=prescore.__getitem__, reverse=True)[: s.fuzzy_shortlist]
        weight_fuzzy = s.weight_fuzzy
        min_score = s.min_score
        compiled = self._compiled
        ranked: list[Ranked] = []
        # fuzzy evidence and bonuses add at most lift[idx]: below the leader's prescore after that, skip fuzzy
        floor = prescore[shortlist[0]] if shortlist else 0.0
        lift = self._lift
        for idx in shortlist:
            c = compiled[idx]
            fz, example = self._fuzzy(query, c.examples) if prescore[idx] + lift[idx] >= floor else (0.0, "")
            value = score[idx] + weight_fuzzy * fz
            notes: tuple[str, ...] = ()
            if c.products or c.sentiment is not None:
                value, notes = self._adjust(c, value, product, sentiment)
            factor = 1.0 if members is None or idx in members else off
            value *= factor * damping[idx]
            if value >= min_score:
                hits = keyword_hits.get(idx)
                ranked.append(
                    Ranked(
                        idx,
                        min(1.0, value),
                        view.label,
                        factor,
                        tuple(hits) if hits else (),
                        example,
                        fz,
                        notes,
                    )
                )
        ranked.sort(key=_by_score, reverse=True)
        for fallback in view.fallbacks:
            if all(r.slot != fallback.slot for r in ranked):
                ranked.append(fallback)
        return _Ranking(
            tuple(ranked), product, product_why, self._coupon_candidates(intent, sentiment, query, product)
        )

    def _coupon_candidates(
        self, intent: Intent | None, sentiment: Sentiment, query: str, product: Product | None
    ) -> tuple[CouponCandidate, ...]:
        return self.coupons.candidates(intent, sentiment, query, product) if intent is not None else ()

    def _adjust(
        self, c: _Compiled, score: float, product: Product | None, sentiment: Sentiment
    ) -> tuple[float, tuple[str, ...]]:
        """Product-scope and sentiment fit."""
        s = self.settings
        notes: tuple[str, ...] = ()
        if c.products and product is not None:
            if str(product.link) in c.products or product.sku in c.products:
                score += s.bonus_product_scope
                notes = (f"scoped to {product.link}号",)
            else:
                score *= PRODUCT_SCOPE_MISMATCH_FACTOR
                notes = (f"scoped to other products than {product.link}号",)
        wanted = c.sentiment
        if wanted is not None:
            if wanted is sentiment:
                score += s.bonus_sentiment_fit
                notes = (*notes, f"written for {sentiment.value} comments")
            else:
                score -= s.penalty_sentiment_mismatch
        return score, notes

    @staticmethod
    def _fuzzy(query: str, examples: tuple[str, ...]) -> tuple[float, str]:
        """Best similarity (0–1) of ``query`` to an example; partial match for a question in chatter."""
        if not examples or not query:
            return 0.0, ""
        best = process.extractOne(query, examples, scorer=fuzz.ratio, processor=None)
        value, example = float(best[1]), best[0]
        if len(query) >= PARTIAL_LENGTH_RATIO * len(example):
            partial = process.extractOne(query, examples, scorer=fuzz.partial_ratio, processor=None)
            if PARTIAL_DAMPING * partial[1] > value:
                value, example = PARTIAL_DAMPING * float(partial[1]), partial[0]
        return value / PERCENT, example

    # --- filling -----------------------------------------------------------------------------------------
    def _resolver(
        self, comment: Comment, product: Product | None, coupon: EligibleCoupon | None
    ) -> Callable[[str], str]:
        """Values of the variables left in a bound template (per-product ones are already written in):
        the comment's own (nickname, size advice, coupon) or a missing one, made once per comment."""
        values: dict[str, str] = {}

        def resolve(name: str) -> str:
            value = values.get(name)
            if value is None:
                value = self._dynamic_variable(name, comment, product, coupon)
                values[name] = value
            return value

        return resolve

    def _fill(
        self, c: _Compiled, triage: Triage, product: Product | None, resolve: Callable[[str], str]
    ) -> tuple[str, str]:
        key = (c.index, product.link if product is not None else None)
        bound = self._bound.get(key)
        if bound is None:  # templates with this product's (and the library's) fixed values written in
            static = self._static_values[key[1]]
            bound = self._bound[key] = (c.reply.bind(static), c.on_air.bind(static))
        reply = bound[0].render(resolve, self.rng)
        on_air_line = bound[1].render(resolve, self.rng) if bound[1].pattern else ""
        if triage.sentiment is Sentiment.NEG and triage.intent in SERVICE_INTENTS and not c.script.empathetic:
            reply = self._care_wrap(reply, triage.emotion, resolve)
        return reply, on_air_line

    def _care_wrap(self, reply: str, emotion: Emotion, resolve: Callable[[str], str]) -> str:
        """倾听 (heard you) + 共情 (empathy by emotion) + 引导 (next step) + 解决 (the script's reply)."""
        neg = self.config.negative_reply
        listen = self._listen.render(resolve, self.rng)
        empathy = neg.empathy.get(emotion.value or "none", neg.empathy.get("none", ""))
        return f"{listen}，{empathy}。{neg.guide}{reply}"

    def _build_static_values(self) -> dict[int | None, dict[str, str]]:
        """Per product link (and ``None`` = no product): library variables overlaid with product values."""
        base = {k: v for k, v in self.library.variables.items() if k not in DYNAMIC_VARIABLES}
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
            value = comment.nickname[: self.settings.nickname_max_chars] or None
        elif name == "size_advice":
            value = self.catalogue.advice_for(product, comment.text, self.config.size_advice)
        elif name == "coupon":
            if coupon is not None and not coupon.requires_approval:
                value = coupon.text
        if value is None:
            value = self.library.variables.get(name)
        if value is None:
            value = self.settings.missing_variable.format(name=name)
        return value


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
