"""The product catalogue at match time: which product a comment is about, and size advice from a size chart.

Pure functions over a :class:`~livecs.scripts.library.Library`:

* :func:`parse_body` reads height and weight out of a danmaku ("165/110斤穿什么码", "身高160 体重52kg",
  "一米六 100斤", "158 95") — weight in 斤, the unit Chinese shoppers use;
* :func:`mentioned_links` finds link numbers ("3号链接", "链接5", "2号");
* :class:`CatalogueIndex` resolves the product a comment is about (an explicit link number, then a product
  alias such as 阔腿裤, then the product on air) and writes size advice from its chart.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import ahocorasick

from livecs.scripts.library import Library, Product, SizeChart, SizeRow
from livecs.scripts.settings import SizeAdviceSettings
from livecs.triage.normalize import CN_DIGITS

JIN_PER_KG = 2.0
HEIGHT_RANGE_CM = (130.0, 200.0)
WEIGHT_RANGE_JIN = (60.0, 300.0)
#: A unitless weight below this is read as kilograms ("165/55"), at or above as 斤 ("165/110").
UNITLESS_KG_BELOW = 75.0
#: Within this many 斤 of a size's upper weight, the next size up is offered too ("喜欢宽松拍L码").
NEAR_TOP_JIN = 3.0
CM_PER_METRE = 100
CM_PER_DECIMETRE = 10

_NUM = r"(\d{2,3}(?:\.\d)?)"
_HEIGHT_EXPLICIT = re.compile(r"(?:身高|个子|高)\s*[:：]?\s*(1[3-9]\d)|(1[3-9]\d)\s*(?:cm|CM|厘米|公分)")
_HEIGHT_METRE = re.compile(r"(?<![\d.])1\s*(?:米|m|\.)\s*(\d{1,2})(?![\d.])")
_HEIGHT_CHINESE = re.compile(r"一米([一二两三四五六七八九零])([一二三四五六七八九])?")
_WEIGHT_UNIT = re.compile(_NUM + r"\s*(斤|kg|KG|Kg|公斤|千克)")
_WEIGHT_EXPLICIT = re.compile(r"(?:体重|重)\s*[:：]?\s*" + _NUM)
_PAIR = re.compile(
    r"(?<![\d.])(1[3-9]\d)\s*(?:cm|CM|厘米)?\s*[/、,，\s+]\s*" + _NUM + r"\s*(斤|kg|KG|公斤|千克)?"
)
_LINK = re.compile(r"(?:(\d{1,3})\s*号\s*(?:链接|宝贝|商品)?|(?:链接|#)\s*(\d{1,3}))")


#: An alias found in a comment: the lower-cased alias, the products it names, the ``why`` text.
AliasHit = tuple[str, tuple[Product, ...], str]


def _in_order(word: str, name: str) -> bool:
    """Whether the characters of ``word`` occur in ``name`` in order (九分裤 in 高腰九分直筒裤)."""
    it = iter(name)
    return all(ch in it for ch in word)


def longer_alias(best: AliasHit | None, found: AliasHit) -> AliasHit:
    """Fold alias hits in scan order: the longest alias wins, the first of equal length."""
    return found if best is None or len(found[0]) > len(best[0]) else best


@dataclass(frozen=True, slots=True)
class Body:
    """A viewer's height (cm) and weight (斤), either may be unknown."""

    height_cm: float | None = None
    weight_jin: float | None = None

    @property
    def known(self) -> bool:
        return self.height_cm is not None or self.weight_jin is not None


def _weight_to_jin(value: float, unit: str | None) -> float:
    if unit in ("kg", "KG", "Kg", "公斤", "千克"):
        return value * JIN_PER_KG
    if unit == "斤":
        return value
    return value * JIN_PER_KG if value < UNITLESS_KG_BELOW else value


def _plausible_height(h: float | None) -> float | None:
    return h if h is not None and HEIGHT_RANGE_CM[0] <= h <= HEIGHT_RANGE_CM[1] else None


def _plausible_weight(w: float | None) -> float | None:
    return w if w is not None and WEIGHT_RANGE_JIN[0] <= w <= WEIGHT_RANGE_JIN[1] else None


def parse_body(text: str) -> Body:
    """Height and weight written in a comment, in cm and 斤 (``Body()`` when none)."""
    height: float | None = None
    weight: float | None = None
    m = _PAIR.search(text)
    if m:
        height = float(m.group(1))
        weight = _weight_to_jin(float(m.group(2)), m.group(3))
    if height is None:
        m = _HEIGHT_EXPLICIT.search(text)
        if m:
            height = float(m.group(1) or m.group(2))
    if height is None:
        m = _HEIGHT_METRE.search(text)
        if m:
            digits = m.group(1)
            height = CM_PER_METRE + (int(digits) * CM_PER_DECIMETRE if len(digits) == 1 else int(digits))
    if height is None:
        m = _HEIGHT_CHINESE.search(text)
        if m:
            tens = CN_DIGITS[m.group(1)]
            ones = CN_DIGITS[m.group(2)] if m.group(2) else 0
            height = CM_PER_METRE + tens * CM_PER_DECIMETRE + ones
    if weight is None:
        m = _WEIGHT_UNIT.search(text)
        if m:
            weight = _weight_to_jin(float(m.group(1)), m.group(2))
    if weight is None:
        m = _WEIGHT_EXPLICIT.search(text)
        if m:
            weight = _weight_to_jin(float(m.group(1)), None)
    return Body(_plausible_height(height), _plausible_weight(weight))


def mentioned_links(text: str) -> list[int]:
    """Link numbers named in the text, in order ("3号链接", "链接5", "2号")."""
    if "号" not in text and "链接" not in text and "#" not in text:
        return []
    out = []
    for m in _LINK.finditer(text):
        value = m.group(1) or m.group(2)
        if value:
            out.append(int(value))
    return out


def _fits(lo: float | None, hi: float | None, value: float) -> bool:
    return (lo is None or value >= lo) and (hi is None or value <= hi)


def _row_for(rows: list[SizeRow], value: float, lo_attr: str, hi_attr: str) -> int | None:
    """Index of the first row whose range holds ``value`` (None when no row has that range)."""
    ranged = [
        i for i, r in enumerate(rows) if getattr(r, lo_attr) is not None or getattr(r, hi_attr) is not None
    ]
    if not ranged:
        return None
    for i in ranged:
        if _fits(getattr(rows[i], lo_attr), getattr(rows[i], hi_attr), value):
            return i
    first, last = rows[ranged[0]], rows[ranged[-1]]
    lo = getattr(first, lo_attr)
    if lo is not None and value < lo:
        return -1  # below the chart
    hi = getattr(last, hi_attr)
    if hi is not None and value > hi:
        return len(rows)  # above the chart
    # in a gap between two rows: the next bigger size
    for i in ranged:
        if getattr(rows[i], lo_attr) is not None and value < getattr(rows[i], lo_attr):
            return i
    return len(rows)


def _fmt_number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:.1f}"


def size_advice(chart: SizeChart, body: Body, texts: SizeAdviceSettings) -> str:
    """Advice such as "165cm/110斤建议拍M码"; when height and weight disagree the bigger size wins."""
    rows = chart.rows
    height_part = f"{_fmt_number(body.height_cm)}cm" if body.height_cm is not None else ""
    weight_part = f"{_fmt_number(body.weight_jin)}斤" if body.weight_jin is not None else ""
    if height_part and weight_part:
        height_part += "/"
    picks = []
    if body.height_cm is not None:
        picks.append(_row_for(rows, body.height_cm, "height_min", "height_max"))
    if body.weight_jin is not None:
        picks.append(_row_for(rows, body.weight_jin, "weight_min", "weight_max"))
    picked = [p for p in picks if p is not None]
    if not picked:
        return texts.ask
    index = max(picked)
    fmt = {"height": height_part, "weight": weight_part}
    if index >= len(rows):
        return texts.above_chart.format(size=rows[-1].size, **fmt)
    if index < 0:
        return texts.below_chart.format(size=rows[0].size, **fmt)
    row = rows[index]
    near_top = (
        body.weight_jin is not None
        and row.weight_max is not None
        and body.weight_jin >= row.weight_max - NEAR_TOP_JIN
    )
    if near_top and index + 1 < len(rows) and len(set(picked)) == 1:
        return texts.between.format(size=row.size, bigger=rows[index + 1].size, **fmt)
    return texts.fit.format(size=row.size, **fmt)


class CatalogueIndex:
    """Resolves which product a comment is about; built once per library version."""

    def __init__(self, library: Library) -> None:
        self.library = library
        self._by_link = {p.link: p for p in library.products}
        self._link_why = {link: f"link {link}" for link in self._by_link}
        self._on_air_why = {link: f"on air {link}" for link in self._by_link}
        self._alias_automaton: ahocorasick.Automaton | None = None
        aliases: dict[str, list[Product]] = {}
        for p in library.products:
            for alias in {*p.aliases, p.name}:
                if alias:
                    aliases.setdefault(alias.lower(), []).append(p)
        #: ``(alias, products, why)`` per lower-cased alias: what the alias scan reports
        self.aliases: dict[str, AliasHit] = {
            alias: (alias, tuple(products), f"alias {alias}") for alias, products in aliases.items()
        }
        if aliases:
            automaton = ahocorasick.Automaton()
            for alias, hit in self.aliases.items():
                automaton.add_word(alias, hit)
            automaton.make_automaton()
            self._alias_automaton = automaton

    def product_for(self, text: str, on_air_link: int | None) -> tuple[Product | None, str]:
        """The product ``text`` is about and why: ``("link", "alias", "on_air")`` or ``(None, "")``."""
        best: AliasHit | None = None
        if self._alias_automaton is not None:
            for _end, found in self._alias_automaton.iter(text.lower()):
                best = longer_alias(best, found)
        return self.product_given(text, on_air_link, best)

    def product_given(
        self, text: str, on_air_link: int | None, alias: AliasHit | None
    ) -> tuple[Product | None, str]:
        """:meth:`product_for` when the caller already scanned ``text.lower()`` for the keys of
        :attr:`aliases` (the matcher does, in its own scan), folding the hits with :func:`longer_alias`."""
        for link in mentioned_links(text):
            p = self._by_link.get(link)
            if p is not None:
                return p, self._link_why[link]
        if alias is not None and len(alias[1]) == 1:
            return alias[1][0], alias[2]
        if on_air_link is not None:
            p = self._by_link.get(on_air_link)
            if p is not None:
                return p, self._on_air_why[on_air_link]
        return None, ""

    def advice_for(self, product: Product | None, text: str, texts: SizeAdviceSettings) -> str:
        """``{size_advice}`` for ``text``: from the product's chart and the height/weight in the comment."""
        if product is None:
            return texts.no_product
        chart = self.library.size_chart(product.size_chart)
        if chart is None:
            sizes = "/".join(product.sizes) if product.sizes else "均码"
            return texts.no_chart.format(sizes=sizes)
        body = parse_body(text)
        if not body.known:
            return texts.ask
        return size_advice(chart, body, texts)


# --- what the catalogue lacks -------------------------------------------------------------------------------
#: A colour named in a comment: a catalogue colour verbatim, or a generic colour word ending in 色.
_COLOUR_WORD = re.compile(
    r"(?:卡其|香槟|燕麦|咖啡|焦糖|藏青|军绿|酒红|雾霾蓝|豆沙|[深浅亮]?[黑白灰红粉蓝绿黄紫橙棕驼杏米青褐金银])色"
)
_SIZE_NUMBER = re.compile(r"(?<![\d.])(\d{2,3})\s*码")
_SIZE_LETTER = re.compile(r"(?<![a-z])(xxxl|xxl|xl|xs|[2-4]xl|s|m|l)(码|号)?(?![a-z])")
_SIZE_EQUIVALENT = {"2xl": "xxl", "3xl": "xxxl"}
MAX_OFFERED = 3
#: "this one": the product on air, whatever kind of product the comment names
THIS_ONE = ("这个", "这款", "这件", "这条", "这套", "主播身上", "主播穿的")
#: a styling question names other kinds of product without asking for them ("配什么鞋")
STYLING = ("搭", "配什么", "怎么配", "可以配", "能配", "配裤", "配裙", "配鞋", "配短裤")


@dataclass(frozen=True, slots=True)
class Gap:
    """A question the catalogue answers with "no": ``kind`` is ``colour``, ``size``, ``product`` (no product
    of that kind) or ``choice`` (several products of that kind, none on air); ``value`` is what was asked."""

    kind: str
    value: str
    product: Product | None
    options: tuple[str, ...] = ()
    others: tuple[Product, ...] = ()


def _colour_fits(asked: str, colours: list[str]) -> bool:
    root = asked.removesuffix("色") or asked
    return any(root in c or c in asked for c in colours)


def _size_key(size: str) -> str:
    key = size.strip().lower().removesuffix("码")
    return _SIZE_EQUIVALENT.get(key, key)


class QuestionFacts:
    """Resolves the product a question is about beyond links and aliases — a product word (卫衣, 裤子) or an
    attribute (灰色, 29码) — and reports what the catalogue does not have (:class:`Gap`)."""

    def __init__(self, library: Library, product_words: list[str]) -> None:
        self.products = list(library.products)
        self._colours = sorted({c for p in self.products for c in p.colors if c}, key=len, reverse=True)
        self._names = {id(p): tuple(n.lower() for n in (p.name, *p.aliases) if n) for p in self.products}
        self._words = sorted({w.lower() for w in product_words if w}, key=len, reverse=True)

    def _with_word(self, word: str) -> list[Product]:
        """The products a kind of product names: its characters in order within one name or alias, as
        written or with words between (九分裤 is carried by 高腰九分直筒裤); 裤子 also as 裤, 包包 as 包."""
        keys = {word, word.removesuffix("子"), word.removesuffix("包")} - {""}
        return [p for p in self.products if any(_in_order(k, n) for k in keys for n in self._names[id(p)])]

    def colours_in(self, text: str) -> list[str]:
        found = [c for c in self._colours if c.lower() in text]
        for m in _COLOUR_WORD.finditer(text):
            word = m.group(0)
            if not any(word in f or f in word for f in found):
                found.append(word)
        return found

    @staticmethod
    def sizes_in(text: str) -> list[str]:
        found = [m.group(1) + "码" for m in _SIZE_NUMBER.finditer(text)]
        if "码" in text or "有" in text or "号" in text:
            for m in _SIZE_LETTER.finditer(text):
                if m.group(2) or len(text) <= 12:
                    found.append(m.group(1).upper() + "码")
        return found

    def resolve(self, text: str, product: Product | None, how: str) -> tuple[Product | None, str, Gap | None]:
        """``(product, why, gap)`` for the lower-cased, normalised ``text``; ``how`` is the why of the product
        found so far (``link 3``, ``alias 阔腿裤``, ``on air 1`` or empty)."""
        explicit = how.startswith(("link", "alias"))
        this_one = any(w in text for w in THIS_ONE)
        if any(w in text for w in STYLING):  # other garments named for styling are not asked for
            return product, how, None
        if not explicit and not this_one:
            word = next((w for w in self._words if w in text), None)
            if word is not None:
                having = self._with_word(word)
                if len(having) == 1:
                    product, how, explicit = having[0], f"product word {word}", True
                elif not having:
                    return product, how, Gap("product", word, product)
                elif product is None or product not in having:
                    options = tuple(f"{p.link}号{p.name}" for p in having[:MAX_OFFERED])
                    return product, how, Gap("choice", word, None, options)
        if product is None:
            return None, how, None
        for colour in self.colours_in(text):
            if not product.colors or _colour_fits(colour, product.colors):
                continue
            having = [p for p in self.products if p is not product and _colour_fits(colour, p.colors)]
            if not explicit and len(having) == 1:
                return having[0], f"colour {colour}", None
            return product, how, Gap("colour", colour, product, tuple(product.colors), tuple(having[:2]))
        if product.sizes:
            sizes = {_size_key(s) for s in product.sizes}
            for size in self.sizes_in(text):
                if _size_key(size) not in sizes:
                    return product, how, Gap("size", size, product, tuple(product.sizes))
        return product, how, None
