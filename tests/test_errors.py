"""The error hierarchy: one base with zh/en messages, a code and extras; every livecs error is one."""

from __future__ import annotations

import importlib
import inspect
import pkgutil

import pytest

import livecs
from livecs.bus.redis import RedisBusError
from livecs.config import ConfigError
from livecs.errors import ErrorCode, LivecsError
from livecs.scripts.coupons import CouponRefused
from livecs.scripts.versions import ActivationBlocked, RegistryError


def test_messages_code_and_extra() -> None:
    e = LivecsError("没有这个工单", "no ticket", code=ErrorCode.NOT_FOUND, ticket="T1")
    assert (e.zh, e.en, e.code, e.extra) == (
        "没有这个工单",
        "no ticket",
        ErrorCode.NOT_FOUND,
        {"ticket": "T1"},
    )
    assert str(e) == "没有这个工单 / no ticket"
    one = LivecsError("no such database")  # one message serves both
    assert (one.zh, one.en, str(one), one.code) == ("no such database",) * 3 + (ErrorCode.FAILED,)


def test_built_in_bases_are_kept() -> None:
    with pytest.raises(ValueError):
        raise ConfigError("bad key")
    with pytest.raises(ConnectionError):
        raise RedisBusError("redis://x: refused")
    assert RedisBusError("x").code is ErrorCode.UNAVAILABLE


def test_messages_unchanged_for_existing_callers() -> None:
    refused = CouponRefused("sold_out", "r1")
    assert (
        str(refused).startswith("r1: ") and refused.code is ErrorCode.CONFLICT and refused.zh and refused.en
    )
    blocked = ActivationBlocked(["全网最低价"])
    assert isinstance(blocked, RegistryError) and " / the library carries forbidden terms" in str(blocked)
    assert blocked.terms == ["全网最低价"]


def test_every_livecs_error_derives_from_the_base() -> None:
    found: list[type[BaseException]] = []
    for mod in pkgutil.walk_packages(livecs.__path__, "livecs."):
        module = importlib.import_module(mod.name)
        for name, obj in vars(module).items():
            if (
                inspect.isclass(obj)
                and issubclass(obj, BaseException)
                and obj.__module__ == module.__name__
                and not name.startswith("_")
            ):
                found.append(obj)
    assert len(found) >= 20
    assert [c.__qualname__ for c in found if not issubclass(c, LivecsError)] == []
