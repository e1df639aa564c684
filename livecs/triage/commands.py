"""Triage commands for ``python run.py``: ``eval``, ``train`` and ``bench triage``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import orjson

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
        result = run_eval(
            path, limit=args.limit, seed=args.seed, split=args.split, baselines=not args.no_baselines
        )
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

    result = run_bench(n=args.n, n_unique=args.unique, n_naive=args.naive)
    if args.json:
        _print_json(result)
    else:
        print(format_bench(result))
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
    p.add_argument("--show-errors", type=int, default=0, metavar="N", help="list the first N errors")
    p.add_argument("--errors", action="store_true", help="with --json: include the error list")
    p.set_defaults(func=cmd_eval)

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
    p.add_argument("--cv-reviews", type=int, metavar="N", help="with --cv: review rows per file (faster)")
    p.add_argument("--json", action="store_true", help="with --cv: print one JSON object")
    p.set_defaults(func=cmd_train)

    bench = subparsers.choices.get("bench") if hasattr(subparsers, "choices") else None
    if bench is None:
        bench = subparsers.add_parser("bench", help="benchmarks (bench triage)")
    bench_sub = None
    for action in bench._actions:
        if isinstance(action, argparse._SubParsersAction):
            bench_sub = action
    if bench_sub is None:
        bench_sub = bench.add_subparsers(dest="bench_target", metavar="<target>", required=True)
    p = bench_sub.add_parser("triage", help="triage throughput: realistic replay, all-unique, naive baseline")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--n", type=int, default=20_000, help="realistic comments (default 20000)")
    p.add_argument("--unique", type=int, help="all-unique comments (default n/4)")
    p.add_argument("--naive", type=int, help="comments for the naive baseline (default min(600, n/20))")
    p.set_defaults(func=cmd_bench_triage)
