"""Triage settings: defaults, ``config/triage.yaml`` and ``LIVECS_TRIAGE_<SECTION>__<KEY>`` overrides."""

from __future__ import annotations

import copy
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from livecs.config import deep_merge, env_overrides

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_CONFIG_PATH = Path("config/triage.yaml")  # relative to the working directory, else to the repo
ENV_PREFIX = "LIVECS_TRIAGE_"

DEFAULTS: dict[str, Any] = {
    "normalise": {"max_chars": 400, "max_char_repeat": 3, "max_punct_repeat": 2},
    "cache": {"text_analysis_size": 50_000, "normalise_size": 50_000},
    "spam": {
        "gibberish_run": 12,
        "punct_only_len": 8,
        "latin_gibberish_len": 7,
        "handle_min_len": 5,
        "contact_digits": 6,
        "bare_digits": 9,
    },
    "flood": {
        "window_s": 60.0,
        "same_user_same_text": 3,
        "same_user_same_text_min_chars": 10,
        "same_user_any_text": 20,
        "same_text_many_users": 8,
        "same_text_min_chars": 12,
        "max_tracked_users": 50_000,
    },
    "clock": {"use_comment_time": True, "max_future_s": 300.0},
    "shop": {"accounts": [], "voice_replies": True, "learn_after": 2},
    "cluster": {
        "window_s": 120.0,
        "similarity": 78.0,
        "max_open_per_intent": 64,
        "max_members_kept": 50,
        "intents": ["product", "price_promo", "order", "logistics", "payment", "after_sales"],
    },
    "priority": {
        "sla_s": {"P0": 30, "P1": 60, "P2": 180, "P3": None, "mod": 60},
        "high_tier_min": 3,
        "raise_tier_min": 2,
        "cluster_size_p1": 8,
        "cluster_age_p1_s": 90.0,
        "cluster_min_for_age": 3,
        "angry_p0_intents": ["after_sales", "logistics", "order", "payment"],
        "blocking_p1_intents": ["payment", "order"],
        "coupon_failure_p1": True,
        "stock_urgency_p1": True,
    },
    "intent": {
        "min_confidence": 0.0,
        "model_spam_min_confidence": 0.85,
        "merchant_keyword_boost": 2.5,
        "merchant_example_similarity": 90.0,
        "negative_odds": 1.0,
        "complaint_needs_evidence": True,
        "complaint_sure_without_evidence": 0.8,
    },
    "keywords": {},
    "examples": {},
}


def load_config(path: str | Path | None = None, environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    """The merged settings; a missing default file is fine, a missing explicit file is an error."""
    config = copy.deepcopy(DEFAULTS)
    file_path = Path(path) if path is not None else DEFAULT_CONFIG_PATH
    if path is None and not file_path.exists():
        file_path = REPO_ROOT / DEFAULT_CONFIG_PATH
    if file_path.exists():
        loaded = yaml.safe_load(file_path.read_text(encoding="utf-8")) or {}
        if not isinstance(loaded, Mapping):
            raise ValueError(f"{file_path}: expected a mapping at the top level")
        config = deep_merge(config, copy.deepcopy(dict(loaded)))
    elif path is not None:
        raise FileNotFoundError(file_path)
    env = os.environ if environ is None else environ
    return deep_merge(config, env_overrides(env, ENV_PREFIX, config))
