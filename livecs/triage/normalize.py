"""Danmaku normalisation: width, traditional→simplified, emoji/kaomoji, slang, numbers, sizes, repeats.

:class:`Normalizer` turns raw comment text into two strings: ``folded`` (width-folded, simplified,
lower-cased, control characters removed; what the spam detector reads, disguises intact) and ``text`` (the
normalised form the rest of triage and the console use: emoji as tags, slang expanded, repeats collapsed).

Most comments are short plain Chinese, so each pass is skipped when a cheap check shows it cannot change the
text (no traditional character, no whitespace to fold, no repeated character): the result is the same.
"""

from __future__ import annotations

import re
import unicodedata
from functools import partial
from pathlib import Path
from typing import Any, NamedTuple

import opencc

from livecs.triage.settings import NormaliseSettings

OPENCC_CHAR_TABLE = Path(opencc.__file__).resolve().parent / "dictionary" / "TSCharacters.txt"

# Control and format characters (zero-width, bidi marks, BOM, variation selectors) are dropped.
_CONTROL_RE = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2060-\u206f\ufe0e\ufe0f\ufeff]"
)
_SPACE_RE = re.compile(r"\s+")
# Cheap guards that let most comments skip the emoji/latin/digit passes.
_SYMBOL_RE = re.compile(r"[^\w\s\u4e00-\u9fff,.!?;:，。！？、]")
_LATIN_RE = re.compile(r"[a-z]")
_DIGIT_RE = re.compile(r"\d")
# Pictographs not in the emoji table become one generic tag.
_OTHER_EMOJI_RE = re.compile("[\U0001f000-\U0001faff\u2600-\u27bf\u2b00-\u2bff]+")
_PUNCT_CHARS = "!?.,;:~。，、；：…·-—_=*#^/\\|'\"`"
_PUNCT_RUN_RE = re.compile("([" + re.escape(_PUNCT_CHARS) + "])\\1+")
_MULTI_REPEAT_RE = re.compile(r"(\S{2,4}?)\1{2,}")
_HEIGHT_WEIGHT_RE = re.compile(r"(1[4-9]\d)\s*(?:cm)?\s*[/,，、\s]\s*(\d{2,3})(?:\s*(斤|kg|公斤))?")
_SIZE_RE = re.compile(r"(?<![a-z0-9])(xxxl|xxl|xl|[2-6]xl|[sml])(?![a-z])")
CN_DIGITS = {  # Chinese numeral characters → digits (also used by the size-advice parser)
    "零": 0,
    "一": 1,
    "二": 2,
    "两": 2,
    "三": 3,
    "四": 4,
    "五": 5,
    "六": 6,
    "七": 7,
    "八": 8,
    "九": 9,
}
# Chinese numerals directly before one of these units become digits (三天 -> 3天, 两件 -> 2件).
_CN_NUMBER_RE = re.compile("([零一二两三四五六七八九十]+)(?=[天件单次号个斤周年月箱盒瓶套袋条码岁遍])")


def cn_number_to_int(numeral: str) -> int | None:
    """Value of a Chinese numeral up to 99 (三 3, 十二 12, 二十 20, 三十五 35); None if not one."""
    if "十" in numeral:
        tens, _, units = numeral.partition("十")
        if "十" in units or len(tens) > 1 or len(units) > 1:
            return None
        tens_value = CN_DIGITS.get(tens, None) if tens else 1
        units_value = CN_DIGITS.get(units, None) if units else 0
        if tens_value is None or units_value is None:
            return None
        return tens_value * 10 + units_value
    if len(numeral) == 1:
        return CN_DIGITS.get(numeral)
    return None


def _cn_number_sub(match: re.Match[str]) -> str:
    numeral = match.group(1)
    if numeral == "一":  # 一个/一件 read as "a", keep
        return numeral
    value = cn_number_to_int(numeral)
    return numeral if value is None else str(value)


def _height_weight_sub(match: re.Match[str]) -> str:
    return f"{match.group(1)}/{match.group(2)}{match.group(3) or '斤'}"


def _upper_group(match: re.Match[str]) -> str:
    return match.group(1).upper()


def _no_whitespace(text: str) -> bool:
    """True when ``text`` has no whitespace (every whitespace character but the space is unprintable)."""
    return " " not in text and text.isprintable()


def _any_char_re(table: dict[int, str]) -> re.Pattern[str]:
    """A search for any character of ``table`` (or, above U+FFFF, of their span: a gate, never a miss).

    Single BMP characters compile to a bitmap (one test per character); listing the astral ones too would
    turn the class into a list scanned for every character (~50× slower)."""
    bmp = "".join(re.escape(chr(c)) for c in sorted(table) if c <= 0xFFFF)
    astral = [c for c in table if c > 0xFFFF]
    span = f"{re.escape(chr(min(astral)))}-{re.escape(chr(max(astral)))}" if astral else ""
    return re.compile(f"[{bmp}{span}]")


def _alternation(keys: list[str]) -> str:
    return "|".join(re.escape(k) for k in sorted(keys, key=len, reverse=True))


def load_t2s_table() -> dict[int, str]:
    """A ``str.translate`` table from OpenCC's character dictionary (first candidate per character)."""
    table: dict[int, str] = {}
    with OPENCC_CHAR_TABLE.open(encoding="utf-8") as fh:
        for line in fh:
            parts = line.rstrip("\n").split("\t")
            if len(parts) == 2 and len(parts[0]) == 1:
                target = parts[1].split(" ")[0]
                if target and target != parts[0]:
                    table[ord(parts[0])] = target
    return table


class NormalizedText(NamedTuple):
    text: str  # normalised: emoji tags, slang expanded, repeats collapsed
    folded: str  # width-folded, simplified, lower-case; disguises intact (for spam rules)


class Normalizer:
    """Stateless after construction; ``normalize`` never raises on str input."""

    def __init__(self, lexicon: dict[str, Any], settings: NormaliseSettings) -> None:
        self.max_chars = settings.max_chars
        self.max_char_repeat = settings.max_char_repeat
        self.max_punct_repeat = settings.max_punct_repeat
        self._char_run_re = re.compile(r"(.)\1{" + str(self.max_char_repeat) + ",}")
        self._t2s = load_t2s_table()
        self._traditional_re = _any_char_re(self._t2s)
        fold = self._fold_only
        emoji = {fold(k): v for k, v in lexicon.get("emoji", {}).items()}
        self._emoji_single = {ord(k): v for k, v in emoji.items() if len(k) == 1}
        self._emoji_multi = {k: v for k, v in emoji.items() if len(k) > 1}
        kaomoji: dict[str, str] = {fold(k): v for k, v in lexicon.get("kaomoji", {}).items()}
        kaomoji.update(self._emoji_multi)
        self._kaomoji = kaomoji
        self._kaomoji_re = re.compile(_alternation(list(kaomoji))) if kaomoji else None
        self._homophones: dict[str, str] = {fold(k): v for k, v in lexicon.get("homophones", {}).items()}
        self._homophone_re = re.compile(_alternation(list(self._homophones)))
        self._abbreviations: dict[str, str] = {
            fold(k): v for k, v in lexicon.get("abbreviations", {}).items()
        }
        self._abbreviation_re = re.compile(
            "(?<![a-z])(" + _alternation(list(self._abbreviations)) + ")(?![a-z])"
        )
        # substitutions with their replacement functions bound once (not a new lambda per comment)
        kaomoji_re = self._kaomoji_re
        self._kaomoji_sub = None if kaomoji_re is None else partial(kaomoji_re.sub, self._kaomoji_repl)
        self._homophone_sub = partial(self._homophone_re.sub, self._homophone_repl)
        self._abbreviation_sub = partial(self._abbreviation_re.sub, self._abbreviation_repl)
        self._char_run_sub = partial(self._char_run_re.sub, self._char_run_repl)
        self._punct_run_sub = partial(_PUNCT_RUN_RE.sub, self._punct_run_repl)

    def _kaomoji_repl(self, match: re.Match[str]) -> str:
        return self._kaomoji[match.group(0)]

    def _homophone_repl(self, match: re.Match[str]) -> str:
        return self._homophones[match.group(0)]

    def _abbreviation_repl(self, match: re.Match[str]) -> str:
        return self._abbreviations[match.group(1)]

    def _char_run_repl(self, match: re.Match[str]) -> str:
        return match.group(1) * self.max_char_repeat

    def _punct_run_repl(self, match: re.Match[str]) -> str:
        return match.group(1) * min(len(match.group(0)), self.max_punct_repeat)

    @classmethod
    def from_data(cls, settings: NormaliseSettings | None = None) -> Normalizer:
        from livecs.triage.lexicon import load_lexicon_data

        return cls(load_lexicon_data(), settings or NormaliseSettings())

    @staticmethod
    def _fold_only(text: str) -> str:
        return unicodedata.normalize("NFKC", text).lower()

    def fold(self, raw: str) -> str:
        """Control characters out, NFKC (full→half width), traditional→simplified, lower case."""
        text = raw
        if not text.isprintable() or "\ufe0e" in text or "\ufe0f" in text:  # the only printable ones dropped
            text = _CONTROL_RE.sub("", text)
        if len(text) > self.max_chars:
            text = text[: self.max_chars]
        text = unicodedata.normalize("NFKC", text)
        if self._traditional_re.search(text) is not None:
            text = text.translate(self._t2s)
        text = text.lower()
        if _no_whitespace(text):
            return text
        return _SPACE_RE.sub(" ", text).strip()

    def normalize(self, raw: str) -> NormalizedText:
        if not isinstance(raw, str):
            raw = "" if raw is None else str(raw)
        folded = self.fold(raw)
        text = folded
        has_symbols = _SYMBOL_RE.search(text) is not None
        if has_symbols and self._kaomoji_sub is not None:
            text = self._kaomoji_sub(text)
        if has_symbols:
            text = text.translate(self._emoji_single)
            text = _OTHER_EMOJI_RE.sub("[表情]", text)
        text = self._homophone_sub(text)
        has_latin = _LATIN_RE.search(text) is not None
        if has_latin:
            text = self._abbreviation_sub(text)
        text = _CN_NUMBER_RE.sub(_cn_number_sub, text)
        if _DIGIT_RE.search(text):
            text = _HEIGHT_WEIGHT_RE.sub(_height_weight_sub, text)
        if has_latin:
            text = _SIZE_RE.sub(_upper_group, text)
        # Runs and repeats need repeated characters: a run of max_char_repeat + 1, a punctuation pair, a unit
        # of 2-4 characters three times (2 × 2 repeated characters at least); none without any repeat.
        repeated = len(text) - len(set(text))
        if repeated >= self.max_char_repeat:
            text = self._char_run_sub(text)
        if repeated:
            text = self._punct_run_sub(text)
        if repeated >= 4:
            text = _MULTI_REPEAT_RE.sub(r"\1\1", text)
        if _no_whitespace(text):
            return NormalizedText(text, folded)
        text = _SPACE_RE.sub(" ", text).strip()
        return NormalizedText(text, folded)
