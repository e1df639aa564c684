"""The merchant library model — scripts, catalogue (with size charts), coupon rules: the canonical schema.

Canonical YAML (one file, or several files each holding some sections; see the README)::

    library: {name: 暖阳女装, category: apparel, version: "2025.06"}
    variables: {shop: 暖阳女装, return_days: "7"}
    scripts:
      - id: size_advice
        intents: [product]
        keywords: [什么码, 穿多大, 尺码]
        examples: ["165/110斤穿什么码"]
        reply: "{宝宝/亲}，{size_advice}，{link}号链接现在{price}元"
        on_air: "报身高体重，帮你们挑码"
    products:   [{sku: NY-001, link: 1, name: 法式碎花连衣裙, price: 129, stock: 300, size_chart: dress}]
    size_charts: [{id: dress, rows: [{size: S, height_min: 150, height_max: 158, weight_max: 95}]}]
    coupons:    [{id: full_300_50, name: 满300减50, type: 满减, threshold: 300, amount: 50, stock: 500}]

List fields accept a list or one string split on ``|``, newlines, ``、``, ``，``, ``,`` or ``;`` (example
questions only on ``|`` and newlines); intents, coupon types and member tiers accept their Chinese names.
Models are validated with ``extra="forbid"`` so a misspelt column or key is reported, not ignored. Custom
validators raise ``ValueError("中文||English")`` so :mod:`livecs.scripts.validate` can print both languages.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import datetime, tzinfo
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationInfo,
    field_validator,
    model_validator,
)

from livecs.models import Intent, MemberTier, Sentiment
from livecs.scripts.settings import CouponSettings
from livecs.scripts.template import TemplateSyntaxError, parse_template
from livecs.vocabulary import INTENT_ZH, MEMBER_TIER_ZH, SENTIMENT_ZH

#: Separator between the Chinese and the English half of a validator message.
BILINGUAL_SEPARATOR = "||"
SCRIPT_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,63}$"
SKU_MAX_CHARS = 64
LINK_MAX = 999  # 小黄车 link numbers
SHIP_DAYS_MAX = 60
#: Bounds on one raw item (a script, a product…) before it is validated.
MAX_INPUT_NODES = 20_000
MAX_INPUT_DEPTH = 5
#: Naive datetimes in a library are shop-local time: ``scripts.coupons.timezone_offset_hours`` (default UTC+8,
#: shops in China), passed to validation as ``context={SHOP_TIMEZONE_CONTEXT: tzinfo}``.
SHOP_TIMEZONE_CONTEXT = "shop_timezone"
DEFAULT_SHOP_TIMEZONE: tzinfo = CouponSettings().shop_timezone

LIST_SPLIT = re.compile(r"[|\n、，,;；]")
EXAMPLE_SPLIT = re.compile(r"[|\n]")
MAPPING_SPLIT = re.compile(r"[|\n;；]")
MAPPING_ITEM = re.compile(r"^([^:：=]+)[:：=](.*)$", re.S)

INTENT_ALIASES: dict[str, Intent] = {
    **{zh: Intent(code) for code, zh in INTENT_ZH.items()},
    "商品": Intent.PRODUCT,
    "价格": Intent.PRICE_PROMO,
    "优惠": Intent.PRICE_PROMO,
    "闲聊": Intent.CHITCHAT,
}
TIER_ALIASES: dict[str, MemberTier] = {
    **{t.name.lower(): t for t in MemberTier},
    **{zh: MemberTier(t) for t, zh in MEMBER_TIER_ZH.items() if zh},
    "普通观众": MemberTier.NONE,
}
TONE_ALIASES: dict[str, str] = {"亲": "casual", "宝宝": "casual", "你": "casual", "您": "formal"}
SENTIMENT_ALIASES: dict[str, Sentiment] = {zh: Sentiment(code) for code, zh in SENTIMENT_ZH.items()}

CouponType = Literal["full_reduction", "time_discount", "member", "new_customer", "gift", "compensation"]
COUPON_TYPE_ALIASES: dict[str, str] = {
    "满减": "full_reduction",
    "满减券": "full_reduction",
    "限时折扣": "time_discount",
    "折扣": "time_discount",
    "会员专享": "member",
    "会员券": "member",
    "新人券": "new_customer",
    "新人": "new_customer",
    "赠品": "gift",
    "补偿券": "compensation",
    "补偿": "compensation",
}
COUPON_TYPE_CHINESE: dict[str, str] = {
    "full_reduction": "满减",
    "time_discount": "限时折扣",
    "member": "会员专享",
    "new_customer": "新人券",
    "gift": "赠品",
    "compensation": "补偿券",
}


def bilingual(zh: str, en: str) -> ValueError:
    """A validator error carrying both languages."""
    return ValueError(f"{zh}{BILINGUAL_SEPARATOR}{en}")


def split_list(value: Any, pattern: re.Pattern[str] = LIST_SPLIT) -> Any:
    """A cell or scalar holding several items → a list of stripped, non-empty strings."""
    if value is None:
        return []
    if isinstance(value, (str, int, float)) and not isinstance(value, bool):
        return [s.strip() for s in pattern.split(str(value)) if s.strip()]
    if isinstance(value, list):
        return [str(v).strip() if isinstance(v, (int, float)) else v for v in value]
    return value


def _aliased_list(aliases: Mapping[str, Any]) -> Callable[[Any], Any]:
    """A list cell (see :func:`split_list`) whose items may be written by an alias (a Chinese name)."""

    def convert(value: Any) -> Any:
        items = split_list(value)
        if isinstance(items, list):
            return [aliases.get(x, x) if isinstance(x, str) else x for x in items]
        return items

    return convert


def _number_as_text(value: Any) -> Any:
    """A number typed into a text field (a SKU, a size, a version) → its text."""
    return str(value) if isinstance(value, (int, float)) else value


def _empty_as_none(value: Any) -> Any:
    """An empty cell in an optional field → not given."""
    return None if value == "" else value


#: field types that read spreadsheet cells: a list written as one cell, aliases, numbers typed as text…
TextList = Annotated[list[str], BeforeValidator(lambda v: split_list(v))]
ExampleList = Annotated[list[str], BeforeValidator(lambda v: split_list(v, EXAMPLE_SPLIT))]
IntentList = Annotated[list[Intent], BeforeValidator(_aliased_list(INTENT_ALIASES))]
SentimentList = Annotated[list[Sentiment], BeforeValidator(_aliased_list(SENTIMENT_ALIASES))]
NumberText = Annotated[str, BeforeValidator(_number_as_text)]
OptionalText = Annotated[str | None, BeforeValidator(_empty_as_none)]
TextMapping = Annotated[dict[str, str], BeforeValidator(lambda v: _parse_mapping(v))]


def _check_template(value: str) -> str:
    try:
        parse_template(value)
    except TemplateSyntaxError as exc:
        raise bilingual(f"模板格式错误：{exc.zh}", f"template syntax: {exc.en}") from None
    return value


def _as_datetime_local(value: datetime | None, info: ValidationInfo) -> datetime | None:
    """A naive datetime read in the shop's time zone (the validation context's, else the default's)."""
    if value is not None and value.tzinfo is None:
        context = info.context if isinstance(info.context, dict) else {}
        tz = context.get(SHOP_TIMEZONE_CONTEXT) or DEFAULT_SHOP_TIMEZONE
        return value.replace(tzinfo=tz)
    return value


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    @model_validator(mode="before")
    @classmethod
    def _bounded(cls, data: Any) -> Any:
        """Refuse oversized or deeply nested input before validating it (a YAML alias bomb expands)."""
        if isinstance(data, dict) and _too_big(data):
            raise bilingual("内容过大或嵌套过深", "content too large or nested too deep")
        return data


class Script(_Strict):
    """One reply script: when it applies (intents, keywords, examples, product scope) and what it says."""

    id: str = Field(pattern=SCRIPT_ID_PATTERN)
    intents: IntentList = Field(min_length=1)
    keywords: TextList = Field(default_factory=list)
    # 排除词: with one of these in the comment the script does not answer (送的什么手表 is no question for
    # the gift-box reply); it is still offered as a candidate on the 无匹配话术 card
    exclude: TextList = Field(default_factory=list)
    examples: ExampleList = Field(default_factory=list)
    products: TextList = Field(default_factory=list)  # link numbers ("3") or SKUs; empty = any product
    sentiment: Sentiment | None = None  # written for comments of this sentiment (None = any)
    reply: str = Field(min_length=1)
    on_air: str = ""
    tags: TextList = Field(default_factory=list)
    enabled: bool = True
    fallback: bool = False  # the intent's generic reply when nothing specific matches
    empathetic: bool = False  # reply already follows 倾听-共情-引导-解决 (used as is for negative comments)

    @field_validator("sentiment", mode="before")
    @classmethod
    def _sentiment(cls, v: Any) -> Any:
        if v is None or v == "" or v == "any":
            return None
        return SENTIMENT_ALIASES.get(v, v) if isinstance(v, str) else v

    @field_validator("reply", "on_air")
    @classmethod
    def _template(cls, v: str) -> str:
        return _check_template(v)

    @field_validator("keywords", "exclude")
    @classmethod
    def _keywords(cls, v: list[str]) -> list[str]:
        if any(not k for k in v):
            raise bilingual("关键词不能为空", "empty keyword")
        return v


class SizeRow(_Strict):
    """One row of a size chart: the size and the height (cm) / weight (斤) range it fits."""

    size: NumberText = Field(min_length=1)
    height_min: float | None = None
    height_max: float | None = None
    weight_min: float | None = None  # 斤 (500 g), as Chinese shops write it
    weight_max: float | None = None
    measurements: TextMapping = Field(default_factory=dict)  # 胸围: 88, 衣长: 62 …

    @model_validator(mode="after")
    def _ranges(self) -> SizeRow:
        for lo, hi, zh, en in (
            (self.height_min, self.height_max, "身高", "height"),
            (self.weight_min, self.weight_max, "体重", "weight"),
        ):
            if lo is not None and hi is not None and lo > hi:
                raise bilingual(f"{zh}范围下限大于上限", f"{en} range minimum above maximum")
        return self


class SizeChart(_Strict):
    """A named size chart, shared by the products that reference it."""

    id: str = Field(pattern=SCRIPT_ID_PATTERN)
    rows: list[SizeRow] = Field(min_length=1)


class Product(_Strict):
    """One product in the catalogue: link number (小黄车序号), price, stock, sizes, specs."""

    sku: NumberText = Field(min_length=1, max_length=SKU_MAX_CHARS)
    link: int = Field(ge=1, le=LINK_MAX)
    name: str = Field(min_length=1)
    price: float = Field(ge=0)
    original_price: float | None = Field(default=None, ge=0)
    stock: int = Field(ge=0)
    aliases: TextList = Field(default_factory=list)  # words viewers use for it: 阔腿裤, 小白鞋…
    colors: TextList = Field(default_factory=list)
    sizes: TextList = Field(default_factory=list)
    size_chart: OptionalText = None
    skin_types: TextList = Field(default_factory=list)
    specs: TextMapping = Field(default_factory=dict)
    ship_days: int | None = Field(default=None, ge=0, le=SHIP_DAYS_MAX)


class CouponTrigger(_Strict):
    """When the engine suggests a coupon by itself. All empty = manual only (never auto-suggested)."""

    intents: IntentList = Field(default_factory=list)
    keywords: TextList = Field(default_factory=list)
    sentiments: SentimentList = Field(default_factory=list)
    min_cluster_size: int = Field(default=1, ge=1)

    @property
    def is_manual_only(self) -> bool:
        return not (self.intents or self.keywords or self.sentiments or self.min_cluster_size > 1)


class CouponRule(_Strict):
    """A coupon rule; the fields a type needs are checked (满减 needs threshold and amount, …)."""

    id: str = Field(pattern=SCRIPT_ID_PATTERN)
    name: str = Field(min_length=1)
    type: CouponType
    enabled: bool = True
    threshold: float | None = Field(default=None, ge=0)  # 满 X
    amount: float | None = Field(default=None, gt=0)  # 减 Y / 立减 / 补偿金额
    percent_off: float | None = Field(default=None, gt=0, lt=100)  # 限时折扣: 10 = 9折
    min_tier: MemberTier | None = None  # 会员专享
    gift: OptionalText = None  # 赠品
    requires_approval: bool = False  # always true for compensation
    products: TextList = Field(default_factory=list)  # scope: link numbers or SKUs; empty = whole shop
    trigger: CouponTrigger = Field(default_factory=CouponTrigger)
    stock: int = Field(ge=0)  # total that may be issued per room
    per_user_limit: int = Field(default=1, ge=1)
    room_cooldown_s: float = Field(default=0, ge=0)
    valid_from: datetime | None = None
    valid_until: datetime | None = None
    priority: int = 0  # higher first when several apply
    note: str = ""

    @field_validator("type", mode="before")
    @classmethod
    def _type(cls, v: Any) -> Any:
        return COUPON_TYPE_ALIASES.get(v, v) if isinstance(v, str) else v

    @field_validator("min_tier", mode="before")
    @classmethod
    def _tier(cls, v: Any) -> Any:
        if v is None or v == "":
            return None
        if isinstance(v, str):
            key = v.strip()
            if key.lower() in TIER_ALIASES:
                return TIER_ALIASES[key.lower()]
            if key in TIER_ALIASES:
                return TIER_ALIASES[key]
            if key.isdigit():
                return int(key)
        return v

    @field_validator("valid_from", "valid_until")
    @classmethod
    def _local(cls, v: datetime | None, info: ValidationInfo) -> datetime | None:
        return _as_datetime_local(v, info)

    @model_validator(mode="after")
    def _type_fields(self) -> CouponRule:
        t = self.type
        if t == "full_reduction" and (self.threshold is None or self.amount is None):
            raise bilingual(
                "满减券需要 threshold（满）和 amount（减）", "full_reduction needs threshold and amount"
            )
        if t == "full_reduction" and self.threshold is not None and self.amount is not None:
            if self.amount >= self.threshold > 0:
                raise bilingual("满减金额不能大于等于门槛", "amount must be below the threshold")
        if t == "time_discount":
            if self.percent_off is None:
                raise bilingual("限时折扣需要 percent_off（折扣百分比）", "time_discount needs percent_off")
            if self.valid_from is None or self.valid_until is None:
                raise bilingual(
                    "限时折扣需要时间窗 valid_from 和 valid_until",
                    "time_discount needs valid_from and valid_until",
                )
        if t == "member" and self.min_tier is None:
            raise bilingual("会员专享券需要 min_tier（会员等级）", "member coupon needs min_tier")
        if t in ("new_customer", "compensation") and self.amount is None and self.percent_off is None:
            raise bilingual(
                "新人券/补偿券需要 amount 或 percent_off",
                "new_customer/compensation needs amount or percent_off",
            )
        if t == "gift" and not self.gift:
            raise bilingual("赠品券需要 gift（赠品名称）", "gift rule needs gift")
        if t == "compensation":
            object.__setattr__(self, "requires_approval", True)
        if self.valid_from and self.valid_until and self.valid_from >= self.valid_until:
            raise bilingual("有效期开始不早于结束", "valid_from must be before valid_until")
        return self

    def window(self) -> tuple[float | None, float | None]:
        """The validity window as epoch seconds (None = open)."""
        lo = self.valid_from.timestamp() if self.valid_from else None
        hi = self.valid_until.timestamp() if self.valid_until else None
        return lo, hi


class LibraryInfo(_Strict):
    """The ``library`` section: who and what the library is for."""

    name: str = Field(min_length=1)
    category: str = ""
    version: NumberText = ""
    #: how replies address a viewer: ``casual`` 宝宝/亲 + 你, ``formal`` 您 (None: the ``voice.tone`` setting)
    tone: Literal["casual", "formal"] | None = None
    #: the shop's own taboo list (禁忌语): error-level terms like the advertising-law absolutes
    taboo: TextList = Field(default_factory=list)

    @field_validator("tone", mode="before")
    @classmethod
    def _tone(cls, v: Any) -> Any:
        if isinstance(v, str):
            v = v.strip()
            return TONE_ALIASES.get(v, v) or None
        return v


class Library(_Strict):
    """A whole merchant library; immutable once loaded except its runtime state, the product on air."""

    library: LibraryInfo
    variables: dict[str, str] = Field(default_factory=dict)
    scripts: list[Script] = Field(default_factory=list)
    products: list[Product] = Field(default_factory=list)
    size_charts: list[SizeChart] = Field(default_factory=list)
    coupons: list[CouponRule] = Field(default_factory=list)

    _on_air_link: int | None = PrivateAttr(default=None)

    @model_validator(mode="before")
    @classmethod
    def _bounded(cls, data: Any) -> Any:
        """A whole library is bounded by the section limits checked at upload; items bound themselves."""
        return data

    @field_validator("variables", mode="before")
    @classmethod
    def _variables(cls, v: Any) -> Any:
        if isinstance(v, dict):
            scalars = (str, int, float, bool)
            return {
                str(k): ("" if val is None else str(val) if isinstance(val, scalars) else val)
                for k, val in v.items()
            }
        return v

    # --- lookups -------------------------------------------------------------------------------------------
    def product_by_link(self, link: int) -> Product | None:
        for p in self.products:
            if p.link == link:
                return p
        return None

    def product_by_ref(self, ref: str) -> Product | None:
        """A product by link number (``"3"``) or SKU."""
        ref = ref.strip()
        for p in self.products:
            if p.sku == ref:
                return p
        if ref.isdigit():
            return self.product_by_link(int(ref))
        return None

    def size_chart(self, chart_id: str | None) -> SizeChart | None:
        for c in self.size_charts:
            if c.id == chart_id:
                return c
        return None

    def script(self, script_id: str) -> Script | None:
        for s in self.scripts:
            if s.id == script_id:
                return s
        return None

    # --- product on air (runtime state) --------------------------------------------------------------------
    def set_on_air(self, link: int | None) -> None:
        """Set the link number being shown now (``None`` = nothing); unknown links are accepted but resolve to
        no product."""
        self._on_air_link = int(link) if link is not None else None

    @property
    def on_air_link(self) -> int | None:
        return self._on_air_link

    # --- vocabulary for the triage engine ------------------------------------------------------------
    def intent_keywords(self) -> dict[Intent, list[str]]:
        """Per intent, the trigger keywords of its enabled scripts (deduplicated, in library order)."""
        out: dict[Intent, dict[str, None]] = {i: {} for i in Intent}
        for s in self.scripts:
            if not s.enabled:
                continue
            for i in s.intents:
                for k in s.keywords:
                    out[i].setdefault(k, None)
        return {i: list(v) for i, v in out.items()}

    def intent_examples(self) -> dict[Intent, list[str]]:
        """Per intent, the example questions of its enabled scripts (deduplicated, in library order)."""
        out: dict[Intent, dict[str, None]] = {i: {} for i in Intent}
        for s in self.scripts:
            if not s.enabled:
                continue
            for i in s.intents:
                for e in s.examples:
                    out[i].setdefault(e, None)
        return {i: list(v) for i, v in out.items()}


def _too_big(data: dict[str, Any]) -> bool:
    """More than ``MAX_INPUT_NODES`` values or deeper than ``MAX_INPUT_DEPTH`` (stops early: bounded cost)."""
    budget = MAX_INPUT_NODES
    stack: list[tuple[Any, int]] = [(data, 0)]
    while stack:
        value, depth = stack.pop()
        budget -= 1
        if budget < 0 or depth > MAX_INPUT_DEPTH:
            return True
        if isinstance(value, dict):
            stack.extend((v, depth + 1) for v in value.values())
        elif isinstance(value, (list, tuple)):
            stack.extend((v, depth + 1) for v in value)
    return False


def _parse_mapping(v: Any) -> Any:
    """``"胸围:88|衣长:62"`` (a spreadsheet cell) → ``{"胸围": "88", "衣长": "62"}``; dicts pass through."""
    if v is None or v == "":
        return {}
    if isinstance(v, dict):
        scalars = (str, int, float, bool)
        if not all(isinstance(k, scalars) and isinstance(val, scalars) for k, val in v.items()):
            raise bilingual("名称和值都应是文本或数字", "names and values must be text or numbers")
        return {str(k): str(val) for k, val in v.items()}
    if isinstance(v, str):
        out: dict[str, str] = {}
        for item in MAPPING_SPLIT.split(v):
            item = item.strip()
            if not item:
                continue
            m = MAPPING_ITEM.match(item)
            if m is None:
                raise bilingual(f"“{item}” 应写成 名称:值", f"'{item}' should be name:value")
            out[m.group(1).strip()] = m.group(2).strip()
        return out
    return v
