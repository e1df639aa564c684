"""The benchmark-only packages: ``jieba`` and ``snownlp`` serve only as baselines to compare livecs with
(``bench triage``'s naive baseline, ``eval``'s snownlp sentiment baseline), never in the product, so they are
in ``requirements-dev.txt``, not ``requirements.txt``. Without them those baselines are skipped, saying what
to install; nothing fails.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Iterable

#: what the naive baseline of ``bench triage`` needs
NAIVE_PACKAGES = ("jieba", "snownlp")
#: what the sentiment baseline of ``eval`` needs
SENTIMENT_PACKAGES = ("snownlp",)
INSTALL = ".venv/bin/pip install -r requirements-dev.txt"


def missing(packages: Iterable[str]) -> list[str]:
    """The packages of ``packages`` that cannot be imported."""
    return [name for name in packages if importlib.util.find_spec(name) is None]


def skipped(what: str, packages: Iterable[str]) -> str:
    """One line saying ``what`` was skipped for want of ``packages`` and how to install them."""
    names = " and ".join(packages)
    return f"{what} skipped: {names} not installed (benchmark-only; install with `{INSTALL}`)"
