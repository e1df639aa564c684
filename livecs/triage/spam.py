"""Spam and abuse: text rules (traffic luring and its disguises, links, ads, insults at viewers, gibberish)
and :class:`FloodTracker`, the per-room sliding windows for floods (same user / same text N times).
"""

from __future__ import annotations

import re
from collections import OrderedDict, deque
from dataclasses import dataclass, field
from typing import Any

from livecs.triage.lexicon import LexiconHits
from livecs.triage.normalize import NormalizedText
from livecs.triage.settings import FloodSettings, SpamSettings

_LINK_RE = re.compile(
    r"https?://|www\.|(?<![a-z0-9])[a-z0-9\-]{2,}\.(?:com|cn|cc|net|top|xyz|shop|vip|me|io|link|site|club)(?![a-z])"
)
_LURE_PREFIX = r"(?:微信号?|威信|薇信|v信|vx|wx|(?<![a-z])v|(?<![a-z])q|qq|扣扣|企鹅号?|q群|群号|薇|威|微)"
_DIGIT_LURE_CONTEXT_RE = re.compile(r"加|私|联系|q|群|v|微|威|薇|扣扣|企鹅|🐧|电话|手机|号码|call")
# A number spelled out in numerals (企鹅 八八六七五五三) is a contact only beside these words.
_SPELLED_CONTEXT_RE = re.compile(r"q|v|微|威|薇|扣扣|企鹅|🐧|电话|手机|号码")
_SPELLED_DIGITS = str.maketrans("零〇一二三四五六七八九", "00123456789")
_TRAILING_PRIVATE_ENDINGS = ("私", "滴滴", "dd")
_TRAILING_PRIVATE_RE = re.compile(r"(?:^|\s)(?:私|滴滴|dd)$")  # "…有货 私": message me
_DIGIT_EXEMPT_CONTEXT_RE = re.compile(r"订单|单号|快递|运单|尾号|编号|物流")
# A size written as a product of numbers (480*330*270mm, 30x40cm) is a measurement, not a contact number.
_DIMENSIONS_RE = re.compile(r"\d+(?:\.\d+)?(?:\s*[*x×]\s*\d+(?:\.\d+)?)+")
_PHONE_RE = re.compile(r"(?<!\d)1[3-9]\d(?:[\s\-]?\d){8}(?!\d)")
_PUNCT_ONLY_RE = re.compile(r"[\W_]+")
_REACTION_MARKS_RE = re.compile(r"[?？!！~～]+")
_LATIN_TOKEN_RE = re.compile(r"[a-z]+")
_VOWELS = set("aeiou")
_CJK_RE = re.compile(r"[\u4e00-\u9fff]")
# A contact word that is no invitation: a third party (客服, 商家, 有人…) contacted or added the writer, or
# told the writer to add them (还要加微信); the writer asks why (加微信干嘛) or how to join the shop's group
# (怎么加群); a wish that a prize comes to the writer's home (福袋来我家).
_NO_INVITATION_RE = re.compile(
    r"(?:客服|商家|店家|卖家|快递|官方|小助理|助手|他|她|有人)(?:又|也|都|就|会|没|没有|主动|私下|刚)?"
    r"(?:联系我|加我|私信我|私我)"
    r"|(?:让我|叫我|要我|还要|非要|非让|说要)(?:加微信|加微|加v|加vx|加群|进群)"
    r"|(?:加微信|加微|加v|加vx|加我|加群|进群|私信|私我)(?:干哈|干嘛|干啥|干什么|做什么|为什么|为啥)"
    r"|(?:怎么|怎样|如何|咋|在哪|哪里|去哪)(?:才能|能|可以)?(?:加群|进群|加粉丝群|进粉丝群)"
    r"|(?:福袋|好运|锦鲤|红包|奖品|大奖)快?来我家"
)
# A long latin token with almost no vowels is a key-mash (dgdgfgfdgudugjd, hghivvhjj); pinyin and English
# words run at a third vowels or more, abbreviations (xswl, yyds) are short.
_LETTER_RUN_RE = re.compile(r"(.)\1+")
MASH_MAX_VOWEL_SHARE = 0.15
_KEYBOARD_ROWS = (frozenset("qwertyuiop"), frozenset("asdfghjkl"), frozenset("zxcvbnm"))
_BOPOMOFO_RUN_RE = re.compile(r"[\u3105-\u312f\u31a0-\u31bf]{3,}")  # ㄅㄆㄇㄈ… typed as noise
_MASH_SYMBOLS = frozenset("@#$%^&*`|\\{}[];'<>/")
_CHEER_SYMBOLS = frozenset("/\\")  # \o/ arms: repeated in cheers, not mash on their own
_EMOTE_TAG_RE = re.compile(r"\[[^\]]{1,6}\]")  # [爱心] is an emote, not two brackets
MASH_SYMBOL_KINDS = 4  # this many different keyboard symbols (@#&*^…) in one comment is a key-mash,
MASH_SYMBOLS_TOTAL = 6  # ... and so is this many of them in all (%%%&&&)
IME_MASH_MIN_WORDS = 2  # distinct pinyin key-mash words (阿斯顿, 撒旦, 士大夫…) that make gibberish
_SHILL_WORDS = frozenset(
    {"托儿", "是托", "都是托", "全是托", "托吧", "这些托", "一群托", "水军"}
)  # calling someone a shill: spam at viewers, a grievance at the shop
CONTACT_MIN_DISTINCT_DIGITS = 3  # a contact number uses at least this many different digits
HANDLE_MIN_DIGITS = (
    3  # a handle after 微/v/q with this many digits reads as an account even with no separator
)


@dataclass(frozen=True, slots=True)
class SpamRules:
    """Thresholds (from config ``spam``) and cue lists (from the lexicon) for the text-only spam rules."""

    gibberish_run: int
    punct_only_len: int
    latin_gibberish_len: int
    handle_min_len: int
    contact_digits: int
    bare_digits: int
    keyboard_runs: tuple[str, ...]
    cheer_chars: frozenset[str]
    abbreviations: frozenset[str] = frozenset()  # latin shorthands (kf 客服, zb 主播): typed over, not mash
    handle_re: re.Pattern[str] = field(init=False)
    digits_re: re.Pattern[str] = field(init=False)
    char_run_re: re.Pattern[str] = field(init=False)
    keyboard_both_ways: tuple[str, ...] = field(init=False)  # the runs and their reverses (fdsa)

    def __post_init__(self) -> None:
        sep = r"[\W_]{0,3}"
        handle = (
            _LURE_PREFIX + "(" + sep + r"[:：]?" + sep + r")([a-z0-9_\-]{" + str(self.handle_min_len) + ",})"
        )
        object.__setattr__(self, "handle_re", re.compile(handle))
        digits = r"(?<!\d)\d(?:[\s\-_.·,，。*|]{0,2}\d){" + str(self.contact_digits - 1) + ",}"
        object.__setattr__(self, "digits_re", re.compile(digits))
        runs = tuple(dict.fromkeys((*self.keyboard_runs, *(r[::-1] for r in self.keyboard_runs))))
        object.__setattr__(self, "keyboard_both_ways", runs)
        object.__setattr__(self, "char_run_re", re.compile(r"(.)\1{" + str(self.gibberish_run - 1) + ",}"))

    @classmethod
    def from_config(cls, settings: SpamSettings, lexicon: dict[str, Any]) -> SpamRules:
        spam_lex = lexicon.get("spam", {})
        return cls(
            gibberish_run=settings.gibberish_run,
            punct_only_len=settings.punct_only_len,
            latin_gibberish_len=settings.latin_gibberish_len,
            handle_min_len=settings.handle_min_len,
            contact_digits=settings.contact_digits,
            bare_digits=settings.bare_digits,
            keyboard_runs=tuple(str(r) for r in spam_lex.get("keyboard_runs", [])),
            cheer_chars=frozenset(str(spam_lex.get("cheer_chars", ""))),
            abbreviations=frozenset(str(a).lower() for a in lexicon.get("abbreviations", {})),
        )

    def reason(self, norm: NormalizedText, hits: LexiconHits) -> str:
        """The spam reason for this text (``""`` when the text alone is not spam)."""
        folded = norm.folded
        if not folded:
            return ""
        if _LINK_RE.search(folded):
            return "link"
        trailing_private = folded.endswith(_TRAILING_PRIVATE_ENDINGS) and _TRAILING_PRIVATE_RE.search(folded)
        lure = hits.spam.get("lure")
        if lure and "[" in folded:  # a platform emote ([互粉], [来看我]) is not an invitation
            untagged = _EMOTE_TAG_RE.sub(" ", folded)
            lure = [w for w in lure if w in untagged]
        if lure:  # 客服又联系我, 加微信干嘛: no invitation (one pass: the text without it)
            rest, found = _NO_INVITATION_RE.subn(" ", folded)
            if found:
                lure = [w for w in lure if w in rest]
        if lure or trailing_private or self._has_contact(folded):
            return "lure"
        if hits.spam.get("ads_strong") or len(hits.spam.get("ads", ())) >= 2:
            return "ad"
        if self._is_insult(hits, folded):
            return "insult"
        if len(set(hits.spam.get("ime_mash", ()))) >= IME_MASH_MIN_WORDS or self._is_gibberish(folded):
            return "gibberish"
        return ""

    def _has_contact(self, folded: str) -> bool:
        for match in self.handle_re.finditer(folded):
            separator, handle = match.group(1), match.group(2)
            digits = sum(ch.isdigit() for ch in handle)
            if digits >= HANDLE_MIN_DIGITS or "_" in handle or separator.strip():
                return True
        if _SPELLED_CONTEXT_RE.search(folded):
            folded = folded.translate(_SPELLED_DIGITS)
        if "*" in folded or "x" in folded or "×" in folded:
            folded = _DIMENSIONS_RE.sub(" ", folded)
        if _PHONE_RE.search(folded):
            return not _DIGIT_EXEMPT_CONTEXT_RE.search(folded)
        for digits in self.digits_re.finditer(folded):
            digit_chars = [ch for ch in digits.group(0) if ch.isdigit()]
            n_digits = len(digit_chars)
            if len(set(digit_chars)) < CONTACT_MIN_DISTINCT_DIGITS:
                continue  # 111111 / 666666 are cheers, not numbers
            if _DIGIT_EXEMPT_CONTEXT_RE.search(folded):
                return False
            if n_digits >= self.bare_digits:
                return True
            if _DIGIT_LURE_CONTEXT_RE.search(folded):
                return True
        return False

    @staticmethod
    def _is_insult(hits: LexiconHits, folded: str) -> bool:
        insults = [
            word
            for word in hits.spam.get("insults", ())
            if not word.isascii() or re.search(r"(?<![a-z])" + re.escape(word) + r"(?![a-z])", folded)
        ]  # a latin insult (sb, tmd) only as a whole word: not inside "bsby"
        viewers = hits.spam.get("viewer_targets", [])
        if hits.complaint_terms:
            return False  # a grievance against the shop: complaint, not spam
        named_viewers = [v for v in viewers if v not in _SHILL_WORDS]
        if named_viewers and insults:
            return True
        if viewers and not hits.shop_target and (insults or any(v in _SHILL_WORDS for v in viewers)):
            return True
        if named_viewers and any(v in _SHILL_WORDS for v in viewers):
            return True
        return bool(insults) and not hits.shop_target

    def _is_gibberish(self, folded: str) -> bool:
        compact = folded.replace(" ", "")
        if (
            len(compact) >= self.punct_only_len
            and _PUNCT_ONLY_RE.fullmatch(compact)
            and not _REACTION_MARKS_RE.fullmatch(compact)
        ):
            return True  # 。。。。。。。。 floods; ???!!! is a viewer's reaction (chit-chat, confused)
        if _BOPOMOFO_RUN_RE.search(compact):
            return True
        if not _MASH_SYMBOLS.isdisjoint(compact):
            symbols = [ch for ch in _EMOTE_TAG_RE.sub("", compact) if ch in _MASH_SYMBOLS]
            if len(set(symbols)) >= MASH_SYMBOL_KINDS:
                return True
            if sum(ch not in _CHEER_SYMBOLS for ch in symbols) >= MASH_SYMBOLS_TOTAL:
                return True  # %%%&&& (but not a row of \小宇/ cheering arms)
        for run in self.char_run_re.finditer(compact):
            char = run.group(1)
            if char in self.cheer_chars or char.isdigit():
                continue
            if _PUNCT_ONLY_RE.fullmatch(char):
                continue  # 洗面奶…………: a trailing ellipsis or dashes after words (punctuation alone is above)
            if _CJK_RE.match(char) and set(_NOT_WORD_RE.sub("", compact)) != {char}:
                continue  # emphasis inside a phrase (帅哥哥哥哥…, 牛牛牛…逼); 刷刷刷… alone is a flood
            return True
        for token in _LATIN_TOKEN_RE.findall(folded):
            if set(token) <= self.cheer_chars:
                continue  # hhhhhhh is laughter
            unit = _REPEATED_UNIT_RE.fullmatch(token)
            if unit is not None and unit.group(1) in self.abbreviations:
                continue  # kfkfkfkf: 客服 called over and over, not a key-mash
            keyboard = sum(token.count(r) for r in self.keyboard_both_ways)
            if keyboard >= 2:
                return True
            if len(token) >= self.latin_gibberish_len and any(set(token) <= row for row in _KEYBOARD_ROWS):
                return True  # typed along one keyboard row (fdsafdsa, poiuyt)
            if len(token) >= self.latin_gibberish_len and not (_VOWELS & set(token)):
                return True  # qqqqqqqq, rwkkrwkk (but nooooo, ohhhhh, zuzuzuzu are exclamations)
            squeezed = _LETTER_RUN_RE.sub(r"\1", token)  # ohhhhhhh → oh: drawn out, not mashed
            vowels = sum(ch in _VOWELS for ch in squeezed)
            if len(squeezed) >= self.latin_gibberish_len and vowels <= MASH_MAX_VOWEL_SHARE * len(squeezed):
                return True
        return False


_NOT_WORD_RE = re.compile(r"[\W_]+")
_REPEATED_UNIT_RE = re.compile(r"(.+?)\1+")


def _core_length(text: str) -> int:
    """Length of a text without punctuation, and of its unit when it is one phrase repeated (X!!X!! → X)."""
    core = _NOT_WORD_RE.sub("", text)
    whole = _REPEATED_UNIT_RE.fullmatch(core)
    return len(whole.group(1)) if whole else len(core)


@dataclass(slots=True)
class _UserWindow:
    events: deque[tuple[float, str]] = field(default_factory=deque)
    text_counts: dict[str, int] = field(default_factory=dict)


@dataclass(slots=True)
class _RoomFlood:
    users: OrderedDict[str, _UserWindow] = field(default_factory=OrderedDict)
    texts: OrderedDict[str, deque[tuple[float, str]]] = field(default_factory=OrderedDict)
    last_sweep: float = 0.0


class FloodTracker:
    """Sliding windows per room: a user repeating a text, a user posting too fast, a copy-paste wave."""

    def __init__(self, settings: FloodSettings) -> None:
        self.window_s = float(settings.window_s)
        self.same_user_same_text = settings.same_user_same_text
        self.same_user_same_text_min_chars = settings.same_user_same_text_min_chars
        self.same_user_any_text = settings.same_user_any_text
        self.same_text_many_users = settings.same_text_many_users
        self.same_text_min_chars = settings.same_text_min_chars
        self.max_tracked_users = settings.max_tracked_users
        self.rooms: dict[str, _RoomFlood] = {}

    def observe(self, room: str, user: str, text_key: str, now: float, copy_paste_candidate: bool) -> str:
        """Record one comment; returns a flood reason or ``""``."""
        state = self.rooms.get(room)
        if state is None:
            state = self.rooms[room] = _RoomFlood(last_sweep=now)
        horizon = now - self.window_s
        if abs(now - state.last_sweep) > self.window_s:  # a clock jump either way sweeps too
            self._sweep(state, horizon)
            state.last_sweep = now
        reason = ""
        if user:
            window = state.users.get(user)
            if window is None:
                window = state.users[user] = _UserWindow()
                if len(state.users) > self.max_tracked_users:
                    state.users.popitem(last=False)
            else:
                state.users.move_to_end(user)
            events, counts = window.events, window.text_counts
            while events and events[0][0] < horizon:
                _, old_text = events.popleft()
                left = counts[old_text] - 1
                if left:
                    counts[old_text] = left
                else:
                    del counts[old_text]
            events.append((now, text_key))
            repeats = counts[text_key] = counts.get(text_key, 0) + 1
            if len(events) >= self.same_user_any_text:
                reason = "flood:rate"
            elif (
                repeats >= self.same_user_same_text
                and _core_length(text_key) >= self.same_user_same_text_min_chars
            ):
                reason = "flood:repeat"  # a short text repeated (1111, 一个产品名!!) is a viewer's cheer
        if copy_paste_candidate and len(text_key) >= self.same_text_min_chars:
            senders = state.texts.get(text_key)
            if senders is None:
                senders = state.texts[text_key] = deque()
                if len(state.texts) > self.max_tracked_users:
                    state.texts.popitem(last=False)
            else:
                state.texts.move_to_end(text_key)
            while senders and senders[0][0] < horizon:
                senders.popleft()
            senders.append((now, user))
            if (
                not reason
                and len(senders) >= self.same_text_many_users  # fewer sends cannot be that many users
                and len({u for _, u in senders}) >= self.same_text_many_users
            ):
                reason = "flood:copy_paste"
        return reason

    @staticmethod
    def _sweep(state: _RoomFlood, horizon: float) -> None:
        stale = [key for key, w in state.users.items() if not w.events or w.events[-1][0] < horizon]
        for key in stale:
            del state.users[key]
        stale = [key for key, senders in state.texts.items() if not senders or senders[-1][0] < horizon]
        for key in stale:
            del state.texts[key]

    def tracked(self) -> int:
        """How many windows are held (for memory tests)."""
        return sum(len(s.users) + len(s.texts) for s in self.rooms.values())
