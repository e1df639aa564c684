"""Advertising-law terms: the lint scanner and the gate that enforces error-level terms.

:class:`AdLawScanner` finds the terms of ``config/ad_law_terms.yaml`` (one Aho-Corasick pass; allowed phrases
such as 最近 mask the terms they contain). :class:`TermGate` keeps only the **error-level** ones —
categories with ``severity: error`` (最低价, 第一, 国家级, medical claims…) plus the shop's own taboo list
(``library.taboo``, 禁忌语) — and blocks activating a library, sending a reply and suggesting a script.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import ahocorasick
import yaml
from pydantic import BaseModel, Field

from livecs.paths import ROOT
from livecs.scripts.settings import ScriptsSettings

ERROR = "error"
TABOO_CATEGORY = "禁忌语 / shop taboo list"
#: Lint findings of error-level terms: the library is kept (a version), but activating it needs an override.
TERM_CODES = frozenset({"lint.ad_law", "lint.taboo"})
#: How a reply sent although it carried an error-level term is recorded (the action's note starts so); the
#: review's 质检 table lists these.
FORCED_SEND_NOTE = "强制发送，含违禁用语："


class AdLawCategory(BaseModel):
    name: str
    severity: str | None = None
    terms: list[str] = Field(default_factory=list)


class AdLawTerms(BaseModel):
    version: str = ""
    categories: list[AdLawCategory] = Field(default_factory=list)
    allow: list[str] = Field(default_factory=list)


class AdLawScanner:
    """Finds absolute terms with one Aho-Corasick pass; allowed phrases mask the terms they contain."""

    def __init__(self, terms: AdLawTerms) -> None:
        self.terms = terms
        self._automaton = ahocorasick.Automaton()
        count = 0
        for cat in terms.categories:
            for term in cat.terms:
                key = term.lower()
                if key not in self._automaton:
                    self._automaton.add_word(key, ("term", term, cat.name, cat.severity))
                    count += 1
        for phrase in terms.allow:
            key = phrase.lower()
            if key not in self._automaton:
                self._automaton.add_word(key, ("allow", phrase, "", None))
            else:  # a phrase both listed and allowed: allowed wins
                self._automaton.add_word(key, ("allow", phrase, "", None))
                count -= 1
        self._empty = count == 0
        if not self._empty:
            self._automaton.make_automaton()

    def scan(self, text: str) -> list[tuple[str, str, str | None]]:
        """``(term, category, category severity)`` for each distinct term found outside allowed phrases."""
        if self._empty or not text:
            return []
        lowered = text.lower()
        terms: list[tuple[int, int, str, str, str | None]] = []
        allowed: list[tuple[int, int]] = []
        for end, (kind, word, cat, sev) in self._automaton.iter(lowered):
            start = end - len(word) + 1
            if kind == "allow":
                allowed.append((start, end))
            else:
                terms.append((start, end, word, cat, sev))
        out: dict[str, tuple[str, str, str | None]] = {}
        for start, end, word, cat, sev in terms:
            if any(a0 <= start and end <= a1 for a0, a1 in allowed):
                continue
            # report the longest term only (全网最低价 rather than 最 and 最低 too)
            if any(s0 <= start and end <= e0 and (e0 - s0) > (end - start) for s0, e0, *_ in terms):
                continue
            out.setdefault(word, (word, cat, sev))
        return list(out.values())


@lru_cache(maxsize=8)
def _load_terms(path: str) -> AdLawTerms:
    p = Path(path)
    if not p.exists():
        return AdLawTerms()
    return AdLawTerms.model_validate(yaml.safe_load(p.read_text(encoding="utf-8")) or {})


def ad_law_scanner(config: ScriptsSettings | None = None) -> AdLawScanner:
    cfg = config or ScriptsSettings()
    return AdLawScanner(_load_terms(str(ROOT / cfg.lint.ad_law_terms_file)))


class TermGate:
    """Error-level terms only: ``hits(text)`` lists the ones ``text`` carries (longest match, allowed
    phrases masked). Built once per library version (the taboo list is the library's)."""

    def __init__(self, terms: AdLawTerms, taboo: list[str] | tuple[str, ...] = ()) -> None:
        categories = [c for c in terms.categories if c.severity == ERROR]
        words = [t for t in taboo if t.strip()]
        if words:
            categories.append(AdLawCategory(name=TABOO_CATEGORY, severity=ERROR, terms=words))
        self._scanner = AdLawScanner(
            AdLawTerms(version=terms.version, categories=categories, allow=terms.allow)
        )

    def hits(self, text: str) -> list[str]:
        return [term for term, _cat, _sev in self._scanner.scan(text)]

    def scan(self, text: str) -> list[tuple[str, str]]:
        """``(term, category)`` per error-level term in ``text``."""
        return [(term, cat) for term, cat, _sev in self._scanner.scan(text)]


def term_gate(config: ScriptsSettings | None = None, taboo: list[str] | tuple[str, ...] = ()) -> TermGate:
    cfg = config or ScriptsSettings()
    return TermGate(_load_terms(str(ROOT / cfg.lint.ad_law_terms_file)), taboo)
