"""Matching accuracy on labelled pairs and matching speed — what ``eval-scripts`` and ``scripts bench`` print.

A pairs file is JSON Lines: ``{"q": "165/110斤穿什么码", "expected": "size_advice", "on_air": 3}`` (``on_air``
optional: the link being shown when the question was asked; ``expected`` may be a list of acceptable ids).

Each question needs a :class:`~livecs.models.Triage`. :func:`make_triager` uses the project's triage engine
(``livecs.triage.engine.TriageEngine.from_config()``) when it exists and starts; otherwise
:class:`KeywordFallbackTriage`, documented below, and the output says which one was used.
"""

from __future__ import annotations

import importlib
import json
import random
import statistics
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from livecs.models import Comment, Emotion, Intent, Priority, Sentiment, Triage
from livecs.scripts.library import Library, Script
from livecs.scripts.matcher import ScriptMatcher, normalize
from livecs.scripts.settings import ScriptsSettings

LIBRARY_SUFFIXES = (".yaml", ".yml")
PAIRS_FILE = "match_pairs.jsonl"
EVAL_ROOM = "eval"
EVAL_NOW = 1_750_000_000.0  # a fixed clock so coupon windows do not make the evaluation drift
TOP_K = 3
DIGITS = 4
#: Sentiment scores the keyword stand-in reports (0 = very negative … 1 = very positive).
NEGATIVE_SCORE = 0.2
NEUTRAL_SCORE = 0.5
BENCH_SCRIPTS = 300
NS_PER_US = 1000.0
REFERENCE_LOOP = 1000
REFERENCE_RUNS = 200

Triager = Callable[[Comment, float], Triage]


class KeywordFallbackTriage:
    """Stand-in triage used only when ``livecs.triage.engine`` is missing.

    Intent: the intent of the best script when *every* script of the library competes (keywords, bigrams and
    fuzzy similarity to examples — the matcher with ``intent=None``); ``chitchat`` when nothing matches.
    Sentiment: ``neg`` when one of ``fallback_triage.negative_cues`` (config/scripts.yaml) occurs, with the
    first emotion whose cue occurs; ``neu`` otherwise.
    """

    name = "keyword fallback"

    def __init__(self, matcher: ScriptMatcher, config: ScriptsSettings | None = None) -> None:
        self.matcher = matcher
        cfg = (config or ScriptsSettings()).fallback_triage
        self.negative_cues = [normalize(c) for c in cfg.negative_cues]
        self.emotion_cues = {e: [normalize(c) for c in cues] for e, cues in cfg.emotion_cues.items()}

    def __call__(self, comment: Comment, now: float) -> Triage:
        text = normalize(comment.text)
        negative = any(c and c in text for c in self.negative_cues)
        sentiment = Sentiment.NEG if negative else Sentiment.NEU
        emotion = Emotion.NONE
        if negative:
            for name, cues in self.emotion_cues.items():
                if any(c and c in text for c in cues):
                    emotion = Emotion(name)
                    break
        ranked = self.matcher.rank(comment.text, None, sentiment)
        intent = self.matcher.script_of(ranked[0]).intents[0] if ranked else Intent.CHITCHAT
        return Triage(
            comment_id=comment.comment_id,
            room=comment.room,
            normalized=comment.text,
            intent=intent,
            intent_confidence=ranked[0].score if ranked else 0.0,
            sentiment=sentiment,
            sentiment_score=NEGATIVE_SCORE if negative else NEUTRAL_SCORE,
            emotion=emotion,
            priority=Priority.P2,
            reasons=["keyword fallback triage"],
        )


def make_triager(matcher: ScriptMatcher, mode: str = "auto") -> tuple[Triager, str]:
    """``(triage function, description)``; ``mode``: ``auto`` | ``engine`` | ``keyword``."""
    if mode in ("auto", "engine"):
        try:
            module = importlib.import_module("livecs.triage.engine")
            engine = module.TriageEngine.from_config()
            return engine.triage, "triage engine (livecs.triage.engine.TriageEngine)"
        except Exception as exc:
            if mode == "engine":
                raise
            fallback = KeywordFallbackTriage(matcher)
            return fallback, f"{fallback.name} (livecs.triage.engine unavailable: {type(exc).__name__})"
    fallback = KeywordFallbackTriage(matcher)
    return fallback, f"{fallback.name} (--triage keyword)"


@dataclass(frozen=True, slots=True)
class Pair:
    question: str
    expected: tuple[str, ...]
    on_air: int | None = None


def load_pairs(path: str | Path) -> list[Pair]:
    pairs = []
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        obj = json.loads(line)
        expected = obj["expected"]
        pairs.append(
            Pair(obj["q"], tuple(expected) if isinstance(expected, list) else (expected,), obj.get("on_air"))
        )
    return pairs


def library_files_near(pairs_path: str | Path) -> list[Path]:
    """The YAML library files beside a pairs file (a sample library directory)."""
    directory = Path(pairs_path).parent
    return sorted(p for p in directory.iterdir() if p.suffix in LIBRARY_SUFFIXES)


def comment_for(text: str, i: int, room: str = EVAL_ROOM) -> Comment:
    return Comment(
        comment_id=f"q{i}",
        platform="eval",
        room=room,
        user_id=f"u{i}",
        nickname="观众",
        text=text,
        ts=EVAL_NOW,
    )


@dataclass(slots=True)
class EvalResult:
    top1: float
    top3: float
    n: int
    triage: str
    misses: list[dict[str, object]] = field(default_factory=list)

    def to_json(self) -> dict[str, object]:
        return {
            "top1": round(self.top1, DIGITS),
            "top3": round(self.top3, DIGITS),
            "n": self.n,
            "triage": self.triage,
        }


def evaluate(matcher: ScriptMatcher, pairs: list[Pair], triager: Triager, triage_name: str) -> EvalResult:
    hit1 = hit3 = 0
    misses: list[dict[str, object]] = []
    for i, pair in enumerate(pairs):
        comment = comment_for(pair.question, i)
        triage = triager(comment, EVAL_NOW)
        suggestions = matcher.match(comment, triage, on_air=pair.on_air, k=TOP_K, now=EVAL_NOW)
        ids = [s.script_id for s in suggestions]
        if ids[:1] and ids[0] in pair.expected:
            hit1 += 1
        if any(x in pair.expected for x in ids[:TOP_K]):
            hit3 += 1
        if not ids or ids[0] not in pair.expected:
            misses.append(
                {
                    "q": pair.question,
                    "expected": list(pair.expected),
                    "got": ids,
                    "intent": triage.intent.value,
                }
            )
    n = len(pairs)
    return EvalResult(hit1 / n if n else 0.0, hit3 / n if n else 0.0, n, triage_name, misses)


# --- real questions ----------------------------------------------------------------------------------
#: The label file of a real room's library directory (``scripts_library/real_rooms/<room>/labels.jsonl``).
REAL_LABELS_FILE = "labels.jsonl"
#: sets labelled by other annotators after the library was written (labels_r2.jsonl, labels_r3.jsonl…), each
#: measured once as held-out before the matcher or the library was changed on it (worked on since)
REAL_ROUNDS_GLOB = "labels_r*.jsonl"
#: questions labelled after the library and the matcher were frozen: never read while changing either
REAL_HELDOUT_FILE = "heldout.jsonl"


def real_label_files(directory: Path) -> list[Path]:
    """A real room's label files in the order they were made: the questions the library was written against,
    the earlier held-out rounds, the held-out set."""
    rounds = sorted(directory.glob(REAL_ROUNDS_GLOB), key=lambda p: (len(p.name), p.name))
    files = [directory / REAL_LABELS_FILE, *rounds, directory / REAL_HELDOUT_FILE]
    return [p for p in files if p.exists()]


NONE_LABEL = "none"
#: The link assumed on air while a real room's questions are replayed (the room's main product).
REAL_ON_AIR = 1


@dataclass(frozen=True, slots=True)
class RealPair:
    """A real question's label, keyed by room and row of the rooms file with a short hash of its text (the
    text itself never enters the repository): the scripts that should answer it (``none``: no script can),
    and the products it is about (empty: whatever is on air)."""

    room: str
    row: int
    text_sha1: str
    expected: tuple[str, ...]
    products: tuple[int, ...] = ()
    on_air: int | None = REAL_ON_AIR


def load_real_labels(path: str | Path) -> list[RealPair]:
    out = []
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        obj = json.loads(line)
        expected = obj["expected"]
        products = obj.get("product") or []
        out.append(
            RealPair(
                str(obj["room"]),
                int(obj["row"]),
                str(obj["text_sha1"]),
                tuple(expected) if isinstance(expected, list) else (str(expected),),
                tuple(int(p) for p in (products if isinstance(products, list) else [products])),
                obj.get("on_air", REAL_ON_AIR),
            )
        )
    return out


def join_real(
    pairs: list[RealPair], rooms_file: str | Path
) -> tuple[list[tuple[RealPair, str]], Counter[str]]:
    """The labelled questions with their text from the rooms file; labels whose row is missing or whose text
    hash differs (the file changed) are counted and skipped."""
    from livecs.triage.rooms import read_rooms, text_hash

    rows = {(r.room, r.row): r.text for r in read_rooms(rooms_file)}
    joined: list[tuple[RealPair, str]] = []
    skipped: Counter[str] = Counter()
    for pair in pairs:
        text = rows.get((pair.room, pair.row))
        if text is None:
            skipped["row_not_in_file"] += 1
        elif text_hash(text) != pair.text_sha1:
            skipped["text_changed"] += 1
        else:
            joined.append((pair, text))
    return joined, skipped


@dataclass(slots=True)
class RealResult:
    """Top-1/top-3 on real questions, and the shares of answers that must not happen: a reply about another
    product than the one asked about, and an answer where no script can answer (an invented answer)."""

    n: int
    top1: float
    top3: float
    wrong_product: float
    invented: float
    triage: str
    skipped: dict[str, int] = field(default_factory=dict)
    misses: list[dict[str, object]] = field(default_factory=list)

    def to_json(self) -> dict[str, object]:
        return {
            "n": self.n,
            "top1": round(self.top1, DIGITS),
            "top3": round(self.top3, DIGITS),
            "wrong_product": round(self.wrong_product, DIGITS),
            "invented": round(self.invented, DIGITS),
            "triage": self.triage,
            "skipped": self.skipped,
        }


def evaluate_real(
    matcher: ScriptMatcher, joined: list[tuple[RealPair, str]], triager: Triager, triage_name: str
) -> RealResult:
    hit1 = hit3 = wrong = invented = 0
    misses: list[dict[str, object]] = []
    for i, (pair, text) in enumerate(joined):
        comment = comment_for(text, i, room=pair.room)
        triage = triager(comment, EVAL_NOW)
        suggestions = matcher.match(comment, triage, on_air=pair.on_air, k=TOP_K, now=EVAL_NOW)
        ids = [s.script_id or NONE_LABEL for s in suggestions] or [NONE_LABEL]
        top = ids[0]
        if top in pair.expected:
            hit1 += 1
        if any(x in pair.expected for x in ids[:TOP_K]):
            hit3 += 1
        answered = top != NONE_LABEL
        if answered and top not in pair.expected and NONE_LABEL in pair.expected:
            invented += 1
        named = matcher.product_named(comment, triage, suggestions[0], pair.on_air) if answered else None
        if named is not None and pair.products and named.link not in pair.products:
            wrong += 1
        if top not in pair.expected:
            misses.append(
                {"room": pair.room, "row": pair.row, "q": text, "expected": list(pair.expected), "got": ids}
            )
    n = len(joined)
    return RealResult(
        n,
        hit1 / n if n else 0.0,
        hit3 / n if n else 0.0,
        wrong / n if n else 0.0,
        invented / n if n else 0.0,
        triage_name,
        misses=misses,
    )


# --- speed ------------------------------------------------------------------------------------------


def scaled_library(library: Library, target_scripts: int = BENCH_SCRIPTS) -> Library:
    """A library of ``target_scripts`` scripts: the original plus product-scoped variants
    (``{alias}{keyword}``), as a shop with per-product scripts has: speed measured at a realistic size."""
    scripts: list[Script] = list(library.scripts)
    products = [p for p in library.products if p.aliases]
    base = [s for s in library.scripts if s.keywords and not s.fallback]
    i = 0
    while len(scripts) < target_scripts and base and products:
        src = base[i % len(base)]
        product = products[(i // len(base)) % len(products)]
        alias = product.aliases[0]
        scripts.append(
            src.model_copy(
                update={
                    "id": f"{src.id}.p{product.link}.{i}",
                    "keywords": [f"{alias}{k}" for k in src.keywords],
                    "examples": [f"{alias}{e}" for e in src.examples],
                    "products": [str(product.link)],
                }
            )
        )
        i += 1
    return library.model_copy(update={"scripts": scripts[:target_scripts]})


@dataclass(slots=True)
class BenchResult:
    scripts: int
    comments: int
    median_us_unique: float
    p99_us_unique: float
    median_us_cached: float
    triage: str
    reference_us: float = 0.0  # sum(range(1000)) on the same clock: how fast the machine was meanwhile

    def to_json(self) -> dict[str, object]:
        return {
            "scripts": self.scripts,
            "comments": self.comments,
            "median_us_unique": round(self.median_us_unique, 1),
            "p99_us_unique": round(self.p99_us_unique, 1),
            "median_us_cached": round(self.median_us_cached, 1),
            "triage": self.triage,
            "reference_us": round(self.reference_us, 1),
        }


def bench(library: Library, questions: list[str], rounds: int = 5, seed: int = 7) -> BenchResult:
    """Median µs per ``match`` call (k=3, filled) with a cold cache (every comment unique) and a warm one.

    Triage is precomputed (keyword fallback) so only matching is timed. Time is this thread's CPU time
    (``time.thread_time_ns``), so other processes on a shared machine do not inflate the figure."""
    lib = scaled_library(library)
    matcher = ScriptMatcher(lib, rng=random.Random(seed))
    triager = KeywordFallbackTriage(matcher)
    comments = [comment_for(q, i) for i, q in enumerate(questions)]
    triages = [triager(c, EVAL_NOW) for c in comments]
    link = next((p.link for p in lib.products), None)
    unique: list[float] = []
    cached: list[float] = []
    clock = time.thread_time_ns
    for _ in range(rounds):
        matcher._cache.clear()
        for c, t in zip(comments, triages, strict=True):
            t0 = clock()
            matcher.match(c, t, on_air=link, now=EVAL_NOW)
            unique.append((clock() - t0) / NS_PER_US)
        for c, t in zip(comments, triages, strict=True):
            t0 = clock()
            matcher.match(c, t, on_air=link, now=EVAL_NOW)
            cached.append((clock() - t0) / NS_PER_US)
    unique.sort()
    reference = []
    for _ in range(REFERENCE_RUNS):
        t0 = clock()
        sum(range(REFERENCE_LOOP))
        reference.append((clock() - t0) / NS_PER_US)
    p99 = unique[min(len(unique) - 1, int(len(unique) * 0.99))]
    return BenchResult(
        len(lib.scripts),
        len(comments),
        statistics.median(unique),
        p99,
        statistics.median(cached),
        "precomputed",
        statistics.median(reference),
    )
