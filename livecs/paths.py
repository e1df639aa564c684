"""Where things are: the repository root (the one constant every module takes it from) and the shared data.

``SHARED_DIR`` is the development data set (real rooms, reviews, dev comments) beside the checkout, or
wherever ``LIVECS_SHARED`` points (a worktree elsewhere). Paths inside configuration files are not resolved
here: the loader (:func:`livecs.config.load_settings`) resolves them against the file that holds them.
"""

from __future__ import annotations

import os
from pathlib import Path

from pydantic.config import JsonDict

ROOT = Path(__file__).resolve().parent.parent
CONFIG_DIR = ROOT / "config"
DEFAULT_CONFIG = CONFIG_DIR / "livecs.yaml"
TRIAGE_DATA_DIR = ROOT / "livecs" / "triage" / "data"  # lexicon, training lines, model, real labels
SHARED_ENV = "LIVECS_SHARED"  # names another shared folder (a worktree, a checkout elsewhere)
SHARED_DIR = Path(os.environ.get(SHARED_ENV) or ROOT.parent / "shared")

#: ``json_schema_extra`` of a settings field holding a file path (or a list of them): the loader resolves a
#: relative one against the directory of the file that sets it (an environment value: the working directory)
PATH_FIELD: JsonDict = {"path": True}
