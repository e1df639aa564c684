"""Triage commands for ``python run.py``: ``eval``, ``train`` and ``bench triage``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import orjson

from livecs.cli import bench_target

MIN_REVIEW_ACCURACY_GAP = 0.0  # livecs must not be below snownlp on reviews (informational in the output)


def _print_json(obj: Any) -> None:
    sys.stdout.write(orjson.dumps(obj, option=orjson.OPT_INDENT_2 | orjson.OPT_NON_STR_KEYS).decode() + "\n")


def cmd_eval(args: argparse.Namespace) -> int:
    from livecs.triage.evaluate import format_report, run_eval

    path = Path(args.file)
    if not path.exists():
        print(f"eval: no such file: {path}", file=sys.stderr)
        return 2
    try:
        engine = None
        if args.model:
            from livecs.triage.engine import TriageEngine
            from livecs.triage.model import LinearModel

            engine = TriageEngine.from_config()
            engine = TriageEngine(engine.config, LinearModel.load(Path(args.model)))
        result = run_eval(
            path, limit=args.limit, seed=args.seed, split=args.split, baselines=not args.no_baselines,
            engine=engine,
        )  # fmt: skip
    except ValueError as exc:
        print(f"eval: {exc}", file=sys.stderr)
        return 2
    if args.json:
        if not args.errors:
            result.pop("errors", None)
        _print_json(result)
    else:
        print(format_report(result, show_errors=args.show_errors))
    return 0


def _parse_variant(text: str) -> tuple[str, dict[str, Any]]:
    """``name:section.key=value,section.key=value`` (values as YAML scalars)."""
    import yaml

    name, _, body = text.partition(":")
    overrides: dict[str, Any] = {}
    for part in filter(None, body.split(",")):
        key, _, value = part.partition("=")
        if "." not in key:
            raise ValueError(f"--variant {text!r}: expected section.key=value")
        overrides[key.strip()] = yaml.safe_load(value)
    return name, overrides


def cmd_train(args: argparse.Namespace) -> int:
    from livecs.triage.model import MODEL_FILE
    from livecs.triage.train import TrainSettings, cross_validate, format_cv, train

    settings = TrainSettings()
    if args.no_reviews:
        settings.reviews_dir = None
    elif args.reviews_dir:
        settings.reviews_dir = Path(args.reviews_dir)
    if args.epochs:
        settings.epochs = args.epochs
    if args.seed is not None:
        settings.seed = args.seed
    if args.real_weight is not None:
        settings.real_weight = args.real_weight
    if args.no_real:
        settings.real_labels = False
    if args.prior_strength is not None:
        settings.prior_strength = args.prior_strength
    if args.embedding_dim is not None:
        settings.embedding_dim = args.embedding_dim
    if args.room_cv:
        from livecs.triage.train import format_room_cv, room_cross_validate

        if args.cv_reviews is not None:
            settings.reviews_per_file = args.cv_reviews
        try:
            variants = dict(_parse_variant(v) for v in args.variant or [])
            result = room_cross_validate(settings, k=args.room_cv, variants=variants)
        except ValueError as exc:
            print(f"train: {exc}", file=sys.stderr)
            return 2
        if args.json:
            _print_json(result)
        else:
            print(format_room_cv(result))
        return 0
    if args.cv:
        if args.cv_reviews is not None:
            settings.reviews_per_file = args.cv_reviews
        result = cross_validate(settings, k=args.cv)
        if args.json:
            _print_json(result)
        else:
            print(format_cv(result))
        return 0
    train(settings, Path(args.out) if args.out else MODEL_FILE)
    return 0


def cmd_bench_triage(args: argparse.Namespace) -> int:
    from livecs.triage.bench import format_bench, run_bench

    result = run_bench(n=args.n, n_unique=args.unique, n_naive=args.naive, real_rooms=not args.no_real_rooms)
    if args.json:
        _print_json(result)
    else:
        print(format_bench(result))
    return 0


def cmd_eval_rooms(args: argparse.Namespace) -> int:
    from livecs.config import load_settings
    from livecs.processor.live import LiveProcessor
    from livecs.triage.engine import TriageEngine
    from livecs.triage.model import LinearModel
    from livecs.triage.rooms import evaluate_rooms, format_report, read_labels, read_rooms

    path = Path(args.file)
    if not path.exists():
        print(f"eval-rooms: no such file: {path}", file=sys.stderr)
        return 2
    try:
        rows = read_rooms(path)
    except (ValueError, OSError) as exc:
        print(f"eval-rooms: {exc}", file=sys.stderr)
        return 2
    if args.rooms:
        keep = set(args.rooms.split(","))
        rows = [r for r in rows if r.room in keep]
    if args.exclude_rooms:
        drop = set(args.exclude_rooms.split(","))
        rows = [r for r in rows if r.room not in drop]
    labels = None
    if args.labels:
        missing = [p for p in args.labels if not Path(p).exists()]
        if missing:
            print(f"eval-rooms: no such label file: {', '.join(missing)}", file=sys.stderr)
            return 2
        labels, skipped = read_labels(args.labels, rows)
        if skipped:
            print(f"eval-rooms: labels skipped: {dict(skipped)}", file=sys.stderr)
    config = load_settings().triage
    if args.shop_account:
        config = config.with_overrides({"shop.accounts": [*config.shop.accounts, *args.shop_account]})
    model = LinearModel.load(Path(args.model)) if args.model else None
    processor = LiveProcessor(TriageEngine(config, model), None)
    result = evaluate_rooms(rows, lambda c, now: processor.process(c, now).triage, labels, args.worst)
    if args.json:
        _print_json(result)
    else:
        print(format_report(result, rooms=not args.no_rooms))
    return 0


def register(subparsers: Any) -> None:
    p = subparsers.add_parser("eval", help="score triage on a labelled JSONL file or a label,review CSV")
    p.add_argument("file", help="taxonomy-format .jsonl or review .csv (label,review)")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--limit", type=int, metavar="N", help="score a seeded random sample of N rows")
    p.add_argument("--seed", type=int, default=7, help="sampling seed (default 7)")
    p.add_argument(
        "--split", choices=["all", "tune", "heldout"], default="all",
        help="JSONL only: the stable-hash half of the file (tune: errors may be inspected; heldout: never)",
    )  # fmt: skip
    p.add_argument("--no-baselines", action="store_true", help="skip snownlp/keyword baselines (faster)")
    p.add_argument("--model", help="triage model file (default: the packaged model)")
    p.add_argument("--show-errors", type=int, default=0, metavar="N", help="list the first N errors")
    p.add_argument("--errors", action="store_true", help="with --json: include the error list")
    p.set_defaults(func=cmd_eval)

    p = subparsers.add_parser(
        "eval-rooms", help="replay real rooms through ingest and triage in context; alarm rates and, with "
        "labels, P0 precision/recall, accuracy, moderation (95 % Wilson intervals)",
    )  # fmt: skip
    p.add_argument("file", help="rooms CSV (platform,room,category,time,user_id,text) or wire-format JSONL")
    p.add_argument("--labels", action="append", metavar="LABELS.jsonl",
                   help="labels keyed by room and row (repeatable; later files win)")  # fmt: skip
    p.add_argument("--rooms", help="only these rooms (comma-separated)")
    p.add_argument("--exclude-rooms", help="leave these rooms out (comma-separated)")
    p.add_argument(
        "--shop-account", action="append", metavar="USER_ID",
        help="a user id of the shop's own account (recorded, never triaged as a viewer)",
    )  # fmt: skip
    p.add_argument("--model", help="triage model file (default: the packaged model)")
    p.add_argument("--worst", type=int, default=15, help="false alarms to list (default 15)")
    p.add_argument("--no-rooms", action="store_true", help="leave out the per-room table")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=cmd_eval_rooms)

    p = subparsers.add_parser("train", help="train the triage model and write livecs/triage/data/model.npz")
    p.add_argument("--reviews-dir", help="directory of the real review CSVs (default ../shared/data/real)")
    p.add_argument("--no-reviews", action="store_true", help="train sentiment on danmaku examples only")
    p.add_argument("--epochs", type=int, help="full-batch optimisation steps (default 200)")
    p.add_argument("--seed", type=int, help="template and sampling seed (default 13)")
    p.add_argument("--out", help="write the weights here instead of the packaged model")
    p.add_argument(
        "--cv", type=int, metavar="K",
        help="k-fold cross-validation instead: folds of the hand-written examples (templates always trained "
        "on), each fold also scored on its part of the dev tune half (never trained on); writes nothing",
    )  # fmt: skip
    p.add_argument(
        "--room-cv", type=int, metavar="K",
        help="room-held-out validation instead: whole real rooms in K folds, each replayed in context with a "
        "model trained without its rooms' labels; writes nothing",
    )  # fmt: skip
    p.add_argument(
        "--variant", action="append", metavar="NAME:SECTION.KEY=VALUE,...",
        help="with --room-cv: also replay the held-out rooms with these engine settings (repeatable)",
    )  # fmt: skip
    p.add_argument("--real-weight", type=float, help="weight of a real labelled comment (default 8)")
    p.add_argument("--no-real", action="store_true", help="train without the real rooms' labels")
    p.add_argument(
        "--prior-strength", type=float,
        help="shift the intent prior toward the unlabelled real rooms' (0 = flat prior)",
    )  # fmt: skip
    p.add_argument(
        "--embedding-dim", type=int, metavar="N",
        help="size of the n-gram vectors learned from unlabelled real text for the sentiment head (0 = none)",
    )  # fmt: skip
    p.add_argument("--cv-reviews", type=int, metavar="N", help="with --cv: review rows per file (faster)")
    p.add_argument("--json", action="store_true", help="with --cv: print one JSON object")
    p.set_defaults(func=cmd_train)

    p = bench_target(subparsers, "triage", "triage throughput: realistic replay, all-unique, naive baseline")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--n", type=int, default=20_000, help="realistic comments (default 20000)")
    p.add_argument("--unique", type=int, help="all-unique comments (default n/4)")
    p.add_argument("--naive", type=int, help="comments for the naive baseline (default min(600, n/20))")
    p.add_argument("--no-real-rooms", action="store_true", help="skip the real-rooms replay")
    p.set_defaults(func=cmd_bench_triage)
