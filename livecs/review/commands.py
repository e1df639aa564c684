"""``python run.py review SESSION|latest --out DIR``: the post-stream review on the command line."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from livecs.review.build import FORMATS, build_review
from livecs.review.progress import TerminalProgress
from livecs.review.queries import ReviewError

EXIT_ERROR = 2


def register(sub: Any) -> None:
    p = sub.add_parser(
        "review",
        help="post-stream review: report.html with charts + masked CSV/XLSX/JSONL exports",
        description="Review one recorded session: a self-contained Chinese report (report.html) and exports "
        "of comments with their triage, suggestions and actions. Personal data is masked unless --no-mask.",
    )
    p.add_argument("session", help="session id, or 'latest'")
    p.add_argument("--out", required=True, metavar="DIR", help="folder for the report and exports")
    p.add_argument(
        "--format",
        default=",".join(FORMATS),
        metavar="LIST",
        help=f"comma-separated formats among {','.join(FORMATS)} (default: all)",
    )
    p.add_argument("--db", metavar="PATH", help="SQLite record (default: store.path of the configuration)")
    p.add_argument("--config", help="configuration file (for store.path)")
    p.add_argument(
        "--no-mask",
        action="store_true",
        help="keep personal data (phones, addresses, ids…) in every output; the report says so",
    )
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=run)


def _db_path(args: argparse.Namespace) -> str:
    if args.db:
        return str(args.db)
    from livecs.config import load_settings

    return load_settings(args.config).store.path


def run(args: argparse.Namespace) -> int:
    progress = None if args.quiet else TerminalProgress()
    try:
        result = build_review(
            _db_path(args), args.session, args.out, args.format, mask=not args.no_mask, progress=progress
        )
    except ReviewError as exc:
        if progress:
            progress.done()
        print(f"review: {exc}", file=sys.stderr)
        return EXIT_ERROR
    if progress:
        progress.done()
    if not result.masked:
        print("WARNING: --no-mask: the outputs contain personal data", file=sys.stderr)
    print(f"session {result.session_id} reviewed in {result.seconds:.1f}s → {result.out_dir}")
    for path in result.files:
        print(f"  {path}")
    for table, left in result.xlsx_truncated.items():
        print(f"  note: {left:,} rows of {table} exceed the XLSX sheets (they are in CSV/JSONL)")
    for f in result.findings:
        print(f"  · {f.text}：{f.action}")
    return 0
