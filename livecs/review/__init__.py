"""Post-stream review: a self-contained HTML report with charts, and masked CSV/XLSX/JSONL exports.

Entry points: :func:`build_review` (the console's download button) and ``python run.py review``
(:mod:`livecs.review.commands`). They are imported on first use: the settings tree imports
:mod:`livecs.review.settings`, and that must not pull in matplotlib at every start.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from livecs.review.build import FORMATS, ReviewResult, build_review
    from livecs.review.queries import ReviewError

_EXPORTS = {
    "FORMATS": "livecs.review.build",
    "ReviewResult": "livecs.review.build",
    "build_review": "livecs.review.build",
    "ReviewError": "livecs.review.queries",
}

__all__ = ["FORMATS", "ReviewError", "ReviewResult", "build_review"]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
