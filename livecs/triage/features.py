"""Sparse binary features of a normalised comment: character 1–3-grams, shape tags and lexicon tags.

The shape patterns that need a digit, a size letter or a unit character are only searched when that character
is in the text (the same tags, fewer regex passes on plain comments).
"""

from __future__ import annotations

import re
from operator import add

from livecs.triage.lexicon import LexiconHits

_QUESTION_RE = re.compile(
    r"吗|呢|么|多少|几|怎么|什么|哪|是不是|有没有|能不能|可不可以|会不会|要不要|如何|为什么|为何|\?|咋|求"
)
_LINK_NUMBER_RE = re.compile(r"\d{1,3}号")
_HEIGHT_WEIGHT_RE = re.compile(r"1[4-9]\d/\d{2,3}斤|\d{2,3}斤|一米[五六七八]")
_SIZE_RE = re.compile(r"(?<![A-Za-z])(?:XXXL|XXL|XL|[2-6]XL|S|M|L)(?![A-Za-z])|\d{2}码|均码|大码|小码")
_DIGITS_RE = re.compile(r"[\d\s]+")
_LATIN_RE = re.compile(r"[a-z]")
# Cue tags that generalise across phrasings (the emotion head's main signals besides the lexicon).
_WAITING_RE = re.compile(r"还没|还不|怎么还|什么时候才|多久|等了|等半天|几天了|天了|好久|一直没|到现在")
_URGENT_RE = re.compile(r"急|快点|赶紧|马上|明天就|等不及|来不及|催")
_INABILITY_RE = re.compile(
    r"不了|不能|不行|失败|找不到|没反应|不会|不懂|看不懂|搜不到|没显示|报错|转圈|点不|在哪|怎么弄|咋弄|为什么|为啥|怎么回事"
)
_LETDOWN_RE = re.compile(
    r"又没|又是|就这|没中|没抢到|抢不到|失望|算了|唉|哎|白等|白蹲|可惜|不如|亏了|寒心|心累"
)
_IGNORED_RE = re.compile(r"不理|不回|没人理|没人回|无视|回复太慢|半天才回|只回")
_NEGATION_RE = re.compile(r"[不没别未]")
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
    if _QUESTION_RE.search(text):
        feats.add("#q")
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
    if _WAITING_RE.search(text):
        feats.add("#wait")
    if _URGENT_RE.search(text):
        feats.add("#urgent")
    if _INABILITY_RE.search(text):
        feats.add("#unable")
    if _LETDOWN_RE.search(text):
        feats.add("#letdown")
    if _IGNORED_RE.search(text):
        feats.add("#ignored")
    if _NEGATION_RE.search(text):
        feats.add("#negation")
    if hits.pos > hits.neg:
        feats.add("#lex_pos")
    elif hits.neg > hits.pos:
        feats.add("#lex_neg")
    return list(feats)
