"""``python run.py review SESSION|latest --out DIR``: the post-stream review on the command line."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from livecs.review.build import FORMATS, build_review
from livecs.review.progress import TerminalProgress
from livecs.review.queries import ReviewError
from livecs.review.settings import ReviewSettings

if TYPE_CHECKING:
    from livecs.scripts.settings import ScriptsSettings

EXIT_ERROR = 2
DEFAULT_SHOP = "default"


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
    add_record_options(p, config_for="store.path, scripts.library_db, scripts.shop")
    p.add_argument(
        "--library-db",
        metavar="PATH",
        help="merchant library versions (SQLite, read-only) for coupon stock; default: scripts.library_db of "
        "the configuration when that file exists, else the report says 库存未知",
    )
    p.add_argument(
        "--no-mask",
        action="store_true",
        help="keep personal data (phones, addresses, ids…) in every output; the report says so",
    )
    p.add_argument(
        "--compare",
        default="auto",
        metavar="SESSION",
        help="compare the headline figures with this session ('auto', the default: the same room's previous "
        "broadcast; 'none': no comparison)",
    )
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=run)


def add_record_options(p: argparse.ArgumentParser, config_for: str = "store.path") -> None:
    """``--db`` and ``--config`` of a command that reads the record (see :func:`record_path`)."""
    p.add_argument("--db", metavar="PATH", help="SQLite record (default: store.path of the configuration)")
    p.add_argument("--config", help=f"configuration file (for {config_for})")


def record_path(args: argparse.Namespace) -> str:
    """The record's SQLite file: ``--db``, else ``store.path`` of the configuration (``--config``)."""
    if args.db:
        return str(args.db)
    from livecs.config import load_settings

    return load_settings(args.config).store.path


def _scripts_settings(args: argparse.Namespace) -> ScriptsSettings | None:
    """The configured ``scripts`` section (its ad-law terms for the 质检 table); None when unreadable."""
    from livecs.config import ConfigError, load_settings

    try:
        return load_settings(args.config).scripts
    except ConfigError:
        return None


def _library(args: argparse.Namespace) -> tuple[str | None, str]:
    """(library db to read, shop): ``--library-db`` as given (a missing file reads as 库存未知), else the
    configured ``scripts.library_db`` if it exists."""
    from livecs.config import ConfigError, load_settings

    try:
        scripts = load_settings(args.config).scripts
    except ConfigError:  # the stock is optional: a broken configuration only loses it
        return (str(args.library_db) if args.library_db else None), DEFAULT_SHOP
    if args.library_db:
        return str(args.library_db), scripts.shop
    return (scripts.library_db if Path(scripts.library_db).is_file() else None), scripts.shop


def _review_settings(args: argparse.Namespace) -> ReviewSettings:
    """The ``review`` section of the settings (the defaults when the configuration cannot be read and the
    record is given with ``--db``: a review needs no other setting)."""
    from livecs.config import ConfigError, load_settings

    try:
        return load_settings(args.config).review
    except ConfigError:
        if not args.db:
            raise
        print("review: configuration not readable; review defaults used", file=sys.stderr)
        return ReviewSettings()


def run(args: argparse.Namespace) -> int:
    settings = _review_settings(args)
    progress = None if args.quiet else TerminalProgress(interval_s=settings.progress_interval_s)
    try:
        library_db, shop = _library(args)
        result = build_review(
            record_path(args),
            args.session,
            args.out,
            args.format,
            mask=not args.no_mask,
            progress=progress,
            library_db=library_db,
            library_shop=shop,
            compare=None if args.compare == "none" else args.compare,
            settings=settings,
            scripts=_scripts_settings(args),
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
    if result.coupon_stock is not None:
        print(f"  coupons: {result.coupon_stock.total_text()}")
    for f in result.findings:
        print(f"  · {f.text}：{f.action}")
    return 0
