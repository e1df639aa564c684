"""The console is built from the settings tree: the scripts section's coupon counter TTL reaches the shared
stock (``scripts.coupons.key_ttl_s``), the triage's SLA table reaches the hub."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from aiohttp import web

from livecs.bus.memory import MemoryBus
from livecs.config import ConsoleSettings, ConsoleUser
from livecs.console.app import init_app
from livecs.console.auth import Auth
from livecs.console.merchant import RegistryBackend
from livecs.console.views.common import HUB
from livecs.metrics import Counters
from livecs.scripts.coupons import RedisStock
from livecs.scripts.settings import ScriptsSettings
from livecs.store import Store

CONSOLE = ConsoleSettings(users=[ConsoleUser(name="a", role="operator", token="t" * 20)])


def _app(tmp_path: Path, scripts: ScriptsSettings, **kw: Any) -> web.Application:
    return init_app(
        CONSOLE,
        bus=MemoryBus(),
        store=Store(path=tmp_path / "rec.db"),
        counters=Counters(),
        auth=Auth.from_settings(CONSOLE)[0],
        merchant=RegistryBackend.at(tmp_path / "lib.db", scripts),
        scripts=scripts,
        **kw,
    )


def test_the_coupon_counter_ttl_reaches_the_redis_stock(tmp_path: Path) -> None:
    """``scripts.coupons.key_ttl_s``: the console's shared stock expires its counters after that long."""
    scripts = ScriptsSettings.model_validate({"coupons": {"key_ttl_s": 123}})
    app = _app(tmp_path, scripts, redis_url="redis://127.0.0.1:1/0")  # never dialled: connects on first use
    hub = app[HUB]
    assert hub.coupons is not None and isinstance(hub.coupons.backend, RedisStock)
    assert hub.coupons.backend._ttl == 123


def test_the_triage_sla_table_reaches_the_hub(tmp_path: Path) -> None:
    app = _app(tmp_path, ScriptsSettings(), sla_s={"P0": 12.0, "P1": 34.0})
    assert app[HUB]._sla == {"P0": 12.0, "P1": 34.0}
