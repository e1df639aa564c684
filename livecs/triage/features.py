"""Sparse binary features of a normalised comment: character 1–3-grams, shape tags and lexicon tags.

The cue tags (question words, waiting, urgency…) are word lists found in one Aho-Corasick pass; the shape
patterns that need a digit, a size letter or a unit character are only searched when that character is in
the text (the same tags as one regex per cue, fewer passes over the text).
"""

from __future__ import annotations

import re
from operator import add

import ahocorasick

from livecs.triage.lexicon import LexiconHits

_LINK_NUMBER_RE = re.compile(r"\d{1,3}号")
_HEIGHT_WEIGHT_RE = re.compile(r"1[4-9]\d/\d{2,3}斤|\d{2,3}斤|一米[五六七八]")
_SIZE_RE = re.compile(r"(?<![A-Za-z])(?:XXXL|XXL|XL|[2-6]XL|S|M|L)(?![A-Za-z])|\d{2}码|均码|大码|小码")
_DIGITS_RE = re.compile(r"[\d\s]+")
_LATIN_RE = re.compile(r"[a-z]")
# Cue tags: "#q" for question words; the others generalise across phrasings (the emotion head's main signals
# besides the lexicon). A tag is set when any of its words is in the text.
CUE_WORDS: dict[str, tuple[str, ...]] = {
    "#q": tuple(
        "吗 呢 么 多少 几 怎么 什么 哪 是不是 有没有 能不能 可不可以 会不会 要不要 如何 "
        "为什么 为何 ? 咋 求".split()
    ),
    "#wait": tuple("还没 还不 怎么还 什么时候才 多久 等了 等半天 几天了 天了 好久 一直没 到现在".split()),
    "#urgent": tuple("急 快点 赶紧 马上 明天就 等不及 来不及 催".split()),
    "#unable": tuple(
        "不了 不能 不行 失败 找不到 没反应 不会 不懂 看不懂 搜不到 没显示 报错 转圈 点不 在哪 "
        "怎么弄 咋弄 为什么 为啥 怎么回事".split()
    ),
    "#letdown": tuple(
        "又没 又是 就这 没中 没抢到 抢不到 失望 算了 唉 哎 白等 白蹲 可惜 不如 亏了 寒心 心累".split()
    ),
    "#ignored": tuple("不理 不回 没人理 没人回 无视 回复太慢 半天才回 只回".split()),
    "#negation": tuple("不 没 别 未".split()),
}


def _cue_automaton() -> ahocorasick.Automaton:
    tags: dict[str, tuple[str, ...]] = {}
    for tag, words in CUE_WORDS.items():
        for word in words:
            tags[word] = (*tags.get(word, ()), tag)
    automaton = ahocorasick.Automaton()
    for word, word_tags in tags.items():
        automaton.add_word(word, word_tags)
    automaton.make_automaton()
    return automaton


_CUES = _cue_automaton()
_LENGTH_BUCKETS = (1, 2, 4, 8, 16, 40)  # upper bounds of the length-bucket tags
INTENT_FEATURE_PREFIX = "I:"


def length_bucket(n: int) -> str:
    for bound in _LENGTH_BUCKETS:
        if n <= bound:
            return f"#len<={bound}"
    return f"#len>{_LENGTH_BUCKETS[-1]}"


_LENGTH_TAGS = tuple(length_bucket(n) for n in range(_LENGTH_BUCKETS[-1] + 1))
_LONG_TAG = length_bucket(_LENGTH_BUCKETS[-1] + 1)


def text_features(text: str, hits: LexiconHits) -> list[str]:
    """Deduplicated feature names (order irrelevant)."""
    feats: set[str] = set(hits.tags)
    compact = text.replace(" ", "_")
    padded = "^" + compact + "$"
    feats.update(compact)
    bigrams = list(map(add, padded, padded[1:]))  # C-level pairwise concatenation: padded[i : i + 2]
    feats.update(bigrams)
    feats.update(map(add, bigrams, padded[2:]))  # padded[i : i + 3]
    n = len(compact)
    feats.add(_LENGTH_TAGS[n] if n <= _LENGTH_BUCKETS[-1] else _LONG_TAG)
    if not compact:
        feats.add("#empty")
        return list(feats)
    for _end, tags in _CUES.iter(text):
        feats.update(tags)
    if "??" in text:
        feats.add("#qq")
    if "!" in text:
        feats.add("#excl")
    first = text[0]
    if (first.isdecimal() or first.isspace()) and _DIGITS_RE.fullmatch(text):  # \d is isdecimal, \s isspace
        feats.add("#digits")
    if "号" in text and _LINK_NUMBER_RE.search(text):
        feats.add("#linkno")
    if ("斤" in text or "一米" in text) and _HEIGHT_WEIGHT_RE.search(text):
        feats.add("#hw")
    if ("码" in text or "S" in text or "M" in text or "L" in text) and _SIZE_RE.search(text):
        feats.add("#size")  # every size alternative has S, M, L or 码
    if _LATIN_RE.search(text):
        feats.add("#latin")
    if hits.pos > hits.neg:
        feats.add("#lex_pos")
    elif hits.neg > hits.pos:
        feats.add("#lex_neg")
    return list(feats)
