"""Post-stream review: a self-contained HTML report with charts, and masked CSV/XLSX/JSONL exports.

Entry points: :func:`build_review` (the console's download button) and ``python run.py review``
(:mod:`livecs.review.commands`).
"""

from livecs.review.build import FORMATS, ReviewResult, build_review
from livecs.review.queries import ReviewError

__all__ = ["FORMATS", "ReviewError", "ReviewResult", "build_review"]
