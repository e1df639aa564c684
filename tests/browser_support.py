"""What every browser test shares: Debian's Chromium (never a downloaded browser) and screenshot places.

Screenshots go to ``tests/artifacts/``; the README's copies in ``docs/screenshots/`` are refreshed only with
``LIVECS_UPDATE_SCREENSHOTS=1``, so a test run leaves the tree clean.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

CHROMIUM = "/usr/bin/chromium"
#: flags for a closed network: no background connections, no component updates
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "tests" / "artifacts"
SCREENSHOTS = ROOT / "docs" / "screenshots"


def artifact(name: str) -> Path:
    """Where a test saves a screenshot (the folder is made on demand)."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS / name


def publish_to_docs(path: Path) -> None:
    """Copy a screenshot to ``docs/screenshots/`` when ``LIVECS_UPDATE_SCREENSHOTS=1``."""
    if os.environ.get("LIVECS_UPDATE_SCREENSHOTS") != "1":
        return
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(path, SCREENSHOTS / path.name)
