"""The hot path's shortcuts give exactly what the full passes give: normalise's skipped passes, cluster keys
without the filler regex, cue tags from one word-list pass, and the Unicode facts the checks rely on."""

from __future__ import annotations

import random
import re
import sys

import pytest

from livecs.triage import features, normalize
from livecs.triage.cluster import _FILLER_RE, cluster_key
from livecs.triage.lexicon import LexiconHits
from livecs.triage.normalize import NormalizedText, Normalizer
from livecs.triage.settings import NormaliseSettings

SAMPLES = [
    "",
    " ",
    "  有 货吗  ",
    "有Ｓ碼嗎？",
    "這個顏色還有貨嗎",
    "哈哈哈哈哈哈哈哈",
    "！！！！！",
    "拍了拍了拍了拍了",
    "yhq怎么领",
    "165 100斤穿什么码",
    "165/100 xl还是l",
    "三天了还没发货",
    "主播 有S码吗",
    "宝宝还有货吗呀",
    "几号链接[笑]",
    "😂😂😂太好笑了",
    "(╯°□°）╯",
    "a\tb\nc",
    "\u200b隐\ufeff藏\ufe0f",
    "𠮷野家",
    "啊啊啊啊啊啊",
    "为什么不行??",
    "等了好久 急死了",
    "没人理我",
    "又没抢到",
    "1234 5678",
    "5号链接",
    "一米七 120斤",
    "XL码",
    "哈哈哈哈哈哈哈哈哈哈哈哈哈哈哈哈哈哈哈",
    "好好好好",
    "了了了了",
    "abcabcabc",
    "主播宝贝",
    "亲",
    "哈",
]


def _samples(n: int = 3_000) -> list[str]:
    """The samples, plus random mixes of them with the characters the shortcuts look for."""
    rng = random.Random(7)
    alphabet = (
        " \t\n\u3000\xa0\u200b\ufe0f\ufeff\x7f!！?？。.~哈好嗯的了abcSMLX码斤号不没别未吗12345臺灣說🙏😂[]𠮷"
    )
    out = list(SAMPLES)
    for _ in range(n):
        parts = [rng.choice(SAMPLES)[: rng.randint(0, 8)] for _ in range(rng.randint(0, 3))]
        parts.append("".join(rng.choice(alphabet) for _ in range(rng.randint(0, 12))))
        rng.shuffle(parts)
        out.append("".join(parts))
    return out


def test_every_whitespace_but_the_space_is_unprintable() -> None:
    # normalise skips its whitespace passes when the text is printable and has no space
    chars = map(chr, range(sys.maxunicode + 1))
    assert [c for c in chars if c.isspace() and c != " " and c.isprintable()] == []


def test_the_dropped_control_characters_are_unprintable_but_two() -> None:
    chars = map(chr, range(sys.maxunicode + 1))
    printable = [c for c in chars if normalize._CONTROL_RE.match(c) and c.isprintable()]
    assert printable == ["\ufe0e", "\ufe0f"]  # the variation selectors, checked by name in fold()


def _full_normalize(n: Normalizer, raw: str) -> NormalizedText:
    """Every pass, none skipped (the reference for the shortcuts)."""
    text = normalize._CONTROL_RE.sub("", raw)[: n.max_chars]
    text = normalize.unicodedata.normalize("NFKC", text).translate(n._t2s).lower()
    folded = text = normalize._SPACE_RE.sub(" ", text).strip()
    if normalize._SYMBOL_RE.search(text) and n._kaomoji_re is not None:
        text = n._kaomoji_re.sub(lambda m: n._kaomoji[m.group(0)], text)
    if normalize._SYMBOL_RE.search(folded):
        text = normalize._OTHER_EMOJI_RE.sub("[表情]", text.translate(n._emoji_single))
    text = n._homophone_re.sub(lambda m: n._homophones[m.group(0)], text)
    latin = normalize._LATIN_RE.search(text) is not None
    if latin:
        text = n._abbreviation_re.sub(lambda m: n._abbreviations[m.group(1)], text)
    text = normalize._CN_NUMBER_RE.sub(normalize._cn_number_sub, text)
    if normalize._DIGIT_RE.search(text):
        text = normalize._HEIGHT_WEIGHT_RE.sub(normalize._height_weight_sub, text)
    if latin:
        text = normalize._SIZE_RE.sub(normalize._upper_group, text)
    text = n._char_run_re.sub(lambda m: m.group(1) * n.max_char_repeat, text)
    text = normalize._PUNCT_RUN_RE.sub(lambda m: m.group(1) * min(len(m.group(0)), n.max_punct_repeat), text)
    text = normalize._MULTI_REPEAT_RE.sub(r"\1\1", text)
    return NormalizedText(normalize._SPACE_RE.sub(" ", text).strip(), folded)


@pytest.mark.parametrize("max_char_repeat", [0, 1, 3])
def test_normalize_equals_every_pass(max_char_repeat: int) -> None:
    n = Normalizer.from_data(NormaliseSettings(max_char_repeat=max_char_repeat))
    for raw in _samples():
        assert n.normalize(raw) == _full_normalize(n, raw), raw


def test_traditional_gate_finds_every_table_character() -> None:
    n = Normalizer.from_data()
    assert all(n._traditional_re.search(chr(c)) for c in n._t2s)


def test_cluster_key_equals_the_filler_regex() -> None:
    for text in _samples():
        assert cluster_key(text) == _FILLER_RE.sub("", _FILLER_RE.sub("", text)), text


def test_cue_tags_equal_one_regex_per_cue() -> None:
    cues = {tag: re.compile("|".join(map(re.escape, words))) for tag, words in features.CUE_WORDS.items()}
    for text in _samples():
        if not text.replace(" ", ""):
            continue  # an empty text gets no cue tags
        found = set(features.text_features(text, LexiconHits())) & set(cues)
        assert found == {tag for tag, pattern in cues.items() if pattern.search(text)}, text
