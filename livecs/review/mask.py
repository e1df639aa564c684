"""Personal data masking for every review output (HTML, CSV, XLSX, JSONL).

:class:`Masker` replaces, inside free text, mainland phone numbers (with spaces/dashes, +86), ID card numbers,
e-mail addresses, QQ numbers and WeChat ids written after their keyword, order numbers (after 订单号/单号, and
any long digit run) and postal addresses (runs of 省/市/区/路/号/小区/栋/单元/室 components) by bracketed
labels such as ``[手机]``. User ids become pseudonyms (HMAC-SHA256 under a random key made for one report, so
the same viewer has the same pseudonym across the report and its exports, and nothing links two reports);
nicknames keep their first and last character only. A disabled masker (``--no-mask``) returns everything
as is. Results are cached (danmaku repeat a lot) in bounded LRU caches.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import re
import secrets
from collections.abc import Callable
from typing import Any

CACHE_SIZE = 100_000
PSEUDONYM_PREFIX = "u_"
PSEUDONYM_HEX_CHARS = 12
KEY_BYTES = 32
NICK_MASK = "*"
NICK_KEEP_MIN_LEN = 3  # shorter nicknames keep only their first character
LONG_DIGITS_MIN = 10
ADDRESS_MIN_COMPONENTS = 2

TOKEN_PHONE = "[手机]"
TOKEN_ID = "[身份证]"
TOKEN_EMAIL = "[邮箱]"
TOKEN_QQ = "[QQ]"
TOKEN_WECHAT = "[微信]"
TOKEN_ORDER = "[订单]"
TOKEN_DIGITS = "[数字]"
TOKEN_ADDRESS = "[地址]"
TOKEN_FIELD = "[已脱敏]"

#: keys of structured data (event ``data``, comment ``extras``) whose values are personal as a whole
SENSITIVE_KEYS = frozenset(
    {
        "order_id",
        "phone",
        "mobile",
        "tel",
        "address",
        "addr",
        "name",
        "real_name",
        "id_card",
        "email",
        "user_id",
        "uid",
        "nickname",
        "uname",
        "wechat",
        "qq",
        "buyer",
        "receiver",
    }
)

_D = "[0-9０-９]"
_NOT_D_BEFORE = "(?<![0-9０-９])"
_NOT_D_AFTER = "(?![0-9０-９])"
_SEP = r"[\s\-－]?"

EMAIL_RE = re.compile(r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,}")
ID_CARD_RE = re.compile(
    rf"{_NOT_D_BEFORE}[1-9１-９]{_D}{{5}}{_SEP}(?:18|19|20|１８|１９|２０){_D}{{2}}{_D}{{4}}{_SEP}{_D}{{3}}[0-9０-９Xx]"
    rf"(?![0-9０-９A-Za-z])"
)
PHONE_RE = re.compile(
    rf"(?:(?:\+|＋|00)?86{_SEP})?{_NOT_D_BEFORE}[1１][3-9３-９]{_D}(?:{_SEP}{_D}){{8}}{_NOT_D_AFTER}"
)
QQ_RE = re.compile(
    rf"(?:(?<![A-Za-z])[Qq]{{1,2}}|扣扣|企鹅)\s*(?:号码|号)?\s*[:：]?\s*{_D}{{5,11}}{_NOT_D_AFTER}"
)
WECHAT_RE = re.compile(
    r"(?:(?:微信|威信|薇信|维信|V信|v信)\s*(?:号)?|(?<![A-Za-z])(?:vx|VX|Vx|vX|wx|WX|Wx|wX|weixin|wechat)"
    r"|[加+＋]\s*[vV](?![A-Za-z])|(?<![A-Za-z])[vV](?=\s*[:：]))"
    r"\s*[:：]?\s*[A-Za-z0-9][A-Za-z0-9_\-]{4,19}(?![A-Za-z0-9_\-])"
)
ORDER_RE = re.compile(
    r"(?:订单编号|订单号|订单|单号|(?<![A-Za-z])order\s*(?:no|id|number)?)\s*(?:是|为)?\s*[:：#]?\s*"
    r"[A-Za-z0-9０-９\-]*[0-9０-９][A-Za-z0-9０-９\-]{5,}",
    re.IGNORECASE,
)
LONG_DIGITS_RE = re.compile(rf"{_NOT_D_BEFORE}{_D}{{{LONG_DIGITS_MIN},}}{_NOT_D_AFTER}")

_PLACE_UNITS = (
    "特别行政区",
    "自治区",
    "自治州",
    "街道",
    "大道",
    "大街",
    "胡同",
    "小区",
    "社区",
    "花园",
    "家园",
    "公寓",
    "大厦",
    "广场",
    "单元",
    "省",
    "市",
    "区",
    "县",
    "旗",
    "镇",
    "乡",
    "路",
    "街",
    "巷",
    "弄",
    "苑",
    "村",
    "屯",
    "栋",
    "幢",
    "室",
)
_OTHER_UNITS = ("号院", "号楼", "号", "楼", "层", "座", "组", "户")
_UNIT_ALT = "|".join(sorted((*_PLACE_UNITS, *_OTHER_UNITS), key=len, reverse=True))
#: characters of questions and chat that never belong to a place name ("3号和5号有什么区别" is no address)
_NOT_PLACE_CHARS = "什么哪几吗呢的了是我你他她它吧啊呀怎要不还没能可请问有多少谁"
_NAME_CHAR = rf"[^\W_{_NOT_PLACE_CHARS}]|[\-#－]"
_COMPONENT = rf"(?:{_NAME_CHAR}){{1,12}}?(?:{_UNIT_ALT})"
ADDRESS_RE = re.compile(rf"(?:{_COMPONENT}){{{ADDRESS_MIN_COMPONENTS},}}")
_COMPONENT_RE = re.compile(_COMPONENT)
_PLACE_END_RE = re.compile(rf"(?:{'|'.join(_PLACE_UNITS)})$")

#: cheap pre-filter: text with none of these cannot hold anything maskable
_TRIGGER_RE = re.compile(
    r"[0-9０-９@]|[qQ]|扣扣|企鹅|[vVwW]|信|" + "|".join(sorted(set(_PLACE_UNITS) | set(_OTHER_UNITS)))
)


def _address_sub(m: re.Match[str]) -> str:
    span = m.group(0)
    parts = _COMPONENT_RE.findall(span)
    if len(parts) >= ADDRESS_MIN_COMPONENTS and any(_PLACE_END_RE.search(p) for p in parts):
        return TOKEN_ADDRESS
    return span


_RULES: tuple[tuple[re.Pattern[str], str | Callable[[re.Match[str]], str]], ...] = (
    (EMAIL_RE, TOKEN_EMAIL),
    (ID_CARD_RE, TOKEN_ID),
    (PHONE_RE, TOKEN_PHONE),
    (QQ_RE, TOKEN_QQ),
    (WECHAT_RE, TOKEN_WECHAT),
    (ORDER_RE, TOKEN_ORDER),
    (LONG_DIGITS_RE, TOKEN_DIGITS),
    (ADDRESS_RE, _address_sub),
)


def mask_text(text: str) -> str:
    """Replace personal data inside one free text (pure; no cache)."""
    if not text or _TRIGGER_RE.search(text) is None:
        return text
    for pattern, repl in _RULES:
        text = pattern.sub(repl, text)
    return text


def mask_nickname(nickname: str) -> str:
    """``小明同学`` → ``小**学``; ``小明`` → ``小*``; one character → ``*``."""
    n = len(nickname)
    if n == 0:
        return nickname
    if n == 1:
        return NICK_MASK
    if n < NICK_KEEP_MIN_LEN:
        return nickname[0] + NICK_MASK * (n - 1)
    return nickname[0] + NICK_MASK * (n - 2) + nickname[-1]


class Masker:
    """The masking of one report: a fresh random pseudonym key unless one is given (tests)."""

    def __init__(self, enabled: bool = True, key: bytes | None = None) -> None:
        self.enabled = enabled
        self._key = key if key is not None else secrets.token_bytes(KEY_BYTES)
        self.text: Callable[[str], str] = functools.lru_cache(maxsize=CACHE_SIZE)(mask_text)
        self.user: Callable[[str], str] = functools.lru_cache(maxsize=CACHE_SIZE)(self._pseudonym)
        self.nickname: Callable[[str], str] = functools.lru_cache(maxsize=CACHE_SIZE)(mask_nickname)
        if not enabled:
            self.text = self.user = self.nickname = _identity

    def _pseudonym(self, user_id: str) -> str:
        if not user_id:
            return user_id
        digest = hmac.new(self._key, user_id.encode("utf-8"), hashlib.sha256).hexdigest()
        return PSEUDONYM_PREFIX + digest[:PSEUDONYM_HEX_CHARS]

    def value(self, obj: Any, key: str = "") -> Any:
        """Mask structured data: strings masked, values under :data:`SENSITIVE_KEYS` replaced."""
        if not self.enabled:
            return obj
        if key.lower() in SENSITIVE_KEYS and obj not in (None, ""):
            if key.lower() in {"user_id", "uid"} and isinstance(obj, str):
                return self.user(obj)
            return TOKEN_FIELD
        if isinstance(obj, str):
            return self.text(obj)
        if isinstance(obj, dict):
            return {k: self.value(v, str(k)) for k, v in obj.items()}
        if isinstance(obj, (list, tuple)):
            return [self.value(v) for v in obj]
        return obj


def _identity(s: str) -> str:
    return s
