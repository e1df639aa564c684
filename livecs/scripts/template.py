"""Reply templates: ``{variable}`` placeholders, inline random variants ``{宝宝/家人们/姐妹}``, escapes.

A template is parsed once (:func:`parse_template`) into literal strings, :class:`Variable` and
:class:`Variants` parts (``{{``/``}}`` are literal braces); :func:`render` fills it with a resolver and
an injectable :class:`random.Random`, so repeated replies differ (platforms flag identical bot replies)
while tests stay deterministic. Filled values are never parsed
again, so a nickname such as ``{price}`` stays literal text.
"""

from __future__ import annotations

import random
import re
import string
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache

from livecs.errors import ErrorCode, LivecsError

#: What a variable name may look like; anything else between braces without ``/`` is an unknown variable.
VARIABLE_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
VARIANT_SEPARATOR = "/"
_PARSE_CACHE_SIZE = 4096
_FORMATTER = string.Formatter()


class TemplateSyntaxError(LivecsError, ValueError):
    """A template that cannot be parsed (unbalanced braces, empty ``{}``…); carries a bilingual message."""

    code = ErrorCode.INVALID

    def __init__(self, zh: str, en: str, position: int) -> None:
        super().__init__(zh, en)
        self.position = position


@dataclass(frozen=True, slots=True)
class Variable:
    """A ``{name}`` placeholder."""

    name: str


@dataclass(frozen=True, slots=True)
class Variants:
    """An inline ``{a/b/c}`` group: one option is picked at random each time."""

    options: tuple[str, ...]


Part = str | Variable | Variants


@lru_cache(maxsize=_PARSE_CACHE_SIZE)
def parse_template(text: str) -> tuple[Part, ...]:
    """Split ``text`` into parts; raises :class:`TemplateSyntaxError` on unbalanced or empty braces."""
    parts: list[Part] = []
    literal: list[str] = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch == "{":
            if i + 1 < n and text[i + 1] == "{":
                literal.append("{")
                i += 2
                continue
            end = text.find("}", i + 1)
            nested = text.find("{", i + 1)
            if end < 0:
                raise TemplateSyntaxError(
                    f"第{i + 1}个字符的 {{ 没有闭合", f"unclosed {{ at character {i + 1}", i
                )
            if 0 <= nested < end:
                raise TemplateSyntaxError(
                    f"第{i + 1}个字符的 {{ 里又出现了 {{", f"nested {{ at character {nested + 1}", nested
                )
            body = text[i + 1 : end].strip()
            if not body:
                raise TemplateSyntaxError(
                    f"第{i + 1}个字符处是空的 {{}}", f"empty {{}} at character {i + 1}", i
                )
            if literal:
                parts.append("".join(literal))
                literal = []
            if VARIANT_SEPARATOR in body:
                options = tuple(o.strip() for o in body.split(VARIANT_SEPARATOR))
                if any(not o for o in options):
                    raise TemplateSyntaxError(
                        f"第{i + 1}个字符处的随机选项 {{{body}}} 有空项",
                        f"empty option in variants {{{body}}} at character {i + 1}",
                        i,
                    )
                parts.append(Variants(options))
            else:
                parts.append(Variable(body))
            i = end + 1
        elif ch == "}":
            if i + 1 < n and text[i + 1] == "}":
                literal.append("}")
                i += 2
                continue
            raise TemplateSyntaxError(
                f"第{i + 1}个字符的 }} 没有对应的 {{", f"unmatched }} at character {i + 1}", i
            )
        else:
            literal.append(ch)
            i += 1
    if literal:
        parts.append("".join(literal))
    return tuple(parts)


def variables_in(text: str) -> list[str]:
    """Names of the ``{variables}`` in ``text`` (in order, no duplicates); [] if it does not parse."""
    try:
        parts = parse_template(text)
    except TemplateSyntaxError:
        return []
    seen: dict[str, None] = {}
    for p in parts:
        if isinstance(p, Variable):
            seen.setdefault(p.name, None)
    return list(seen)


def is_valid_variable_name(name: str) -> bool:
    return VARIABLE_NAME.fullmatch(name) is not None


def render(parts: tuple[Part, ...], resolve: Callable[[str], str], rng: random.Random) -> str:
    """Fill parsed ``parts``: variables through ``resolve(name)``, variants picked with ``rng``."""
    out: list[str] = []
    for p in parts:
        if isinstance(p, str):
            out.append(p)
        elif isinstance(p, Variable):
            out.append(resolve(p.name))
        else:
            options = p.options
            out.append(options[int(rng.random() * len(options))])
    return "".join(out)


@dataclass(frozen=True, slots=True)
class CompiledTemplate:
    """A template as one ``str.format`` pattern plus its slots (variables and variant groups), for speed.

    Rendering concatenates instead of calling ``str.format``: ``head`` is the literal text before the first
    slot (the whole text when there is no slot) and ``plan`` has one ``(variable name, (), literal after)``
    or ``(None, options, literal after)`` per slot."""

    pattern: str
    slots: tuple[Variable | Variants, ...]
    parts: tuple[Part, ...] = ()
    head: str = field(init=False, default="", compare=False, repr=False)
    plan: tuple[tuple[str | None, tuple[str, ...], str], ...] = field(
        init=False, default=(), compare=False, repr=False
    )

    def __post_init__(self) -> None:
        # the pattern's literal pieces, unescaped: one before each {} and the one after the last
        literals = [""]
        for text, field_name, _, _ in _FORMATTER.parse(self.pattern):
            literals[-1] += text
            if field_name is not None:
                literals.append("")
        if len(literals) != len(self.slots) + 1:
            raise ValueError(f"pattern {self.pattern!r} does not have {len(self.slots)} slots")
        plan = tuple(
            (s.name, (), after) if isinstance(s, Variable) else (None, s.options, after)
            for s, after in zip(self.slots, literals[1:], strict=True)
        )
        object.__setattr__(self, "head", literals[0])
        object.__setattr__(self, "plan", plan)

    @classmethod
    def of(cls, text: str) -> CompiledTemplate:
        return cls.from_parts(parse_template(text))

    @classmethod
    def from_parts(cls, parts: tuple[Part, ...]) -> CompiledTemplate:
        pieces: list[str] = []
        slots: list[Variable | Variants] = []
        for p in parts:
            if isinstance(p, str):
                pieces.append(p.replace("{", "{{").replace("}", "}}"))
            else:
                pieces.append("{}")
                slots.append(p)
        return cls("".join(pieces), tuple(slots), parts)

    def bind(self, values: dict[str, str]) -> CompiledTemplate:
        """The same template with the variables found in ``values`` written in (variants stay random)."""
        if not any(isinstance(p, Variable) and p.name in values for p in self.parts):
            return self
        bound: list[Part] = []
        for p in self.parts:
            if isinstance(p, Variable) and p.name in values:
                p = values[p.name]
            if isinstance(p, str) and bound and isinstance(bound[-1], str):
                bound[-1] += p
            else:
                bound.append(p)
        return CompiledTemplate.from_parts(tuple(bound))

    def render(self, resolve: Callable[[str], str], rng: random.Random) -> str:
        out = self.head
        if self.plan:
            rnd = rng.random
            for name, options, after in self.plan:
                out += (resolve(name) if name is not None else options[int(rnd() * len(options))]) + after
        return out


def fill(text: str, values: dict[str, str], rng: random.Random | None = None) -> str:
    """Convenience: render ``text`` with a plain mapping (unknown names stay as ``{name}``)."""
    chooser = rng or random.Random()
    return render(parse_template(text), lambda name: values.get(name, "{" + name + "}"), chooser)
