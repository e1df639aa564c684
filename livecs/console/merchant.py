"""The merchant side the console needs: library versions (upload → validate → activate / roll back), the
product on air, and issuing coupons from the active library.

:class:`RegistryBackend` adapts the scripts package's :class:`~livecs.scripts.versions.LibraryRegistry`
(validated and linted uploads, versions in SQLite, atomic hot reload of the matcher) to what the merchant
page calls (:class:`MerchantBackend`); share the same registry with the processing stage so activating a
version reloads it mid-broadcast.

:class:`CouponService` issues through :class:`livecs.scripts.coupons.CouponEngine` built from the active
library, with the engine's atomic stock backend (:func:`livecs.scripts.coupons.open_stock`: shared in Redis
when the console runs with ``--redis``, else durable in the record's SQLite file). Only coupons that need no
approval are ever offered to the streamer view (:meth:`CouponService.announceable`).
"""

from __future__ import annotations

import logging
import sqlite3
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, Unpack

from livecs.errors import ErrorCode, LivecsError
from livecs.scripts.settings import ScriptsSettings

if TYPE_CHECKING:
    from livecs.scripts.coupons import IssueAsk

log = logging.getLogger("livecs.console.coupons")


class MerchantError(LivecsError):
    """A merchant request that cannot be done (by default an invalid one; ``code`` says otherwise)."""

    code = ErrorCode.INVALID


class MerchantBackend(Protocol):
    def upload(
        self, files: list[tuple[str, bytes]], by: str, activate: bool = False, name: str = ""
    ) -> dict[str, Any]: ...
    def versions(self) -> list[dict[str, Any]]: ...
    def activate(self, version: str, by: str, override_reason: str = "") -> dict[str, Any]: ...
    def rollback_preview(self) -> dict[str, Any]: ...
    def rollback(
        self, by: str, token: str = "", version: str = "", confirm: bool = False
    ) -> dict[str, Any]: ...
    def products(self) -> dict[str, Any]: ...
    def set_on_air(self, link: int | None, by: str) -> dict[str, Any]: ...
    def active_library(self) -> Any: ...
    def term_hits(self, text: str) -> list[str]: ...


class RegistryBackend:
    """:class:`MerchantBackend` over :class:`livecs.scripts.versions.LibraryRegistry`."""

    def __init__(self, registry: Any) -> None:
        self.registry = registry

    @classmethod
    def at(cls, db_path: str | Path, config: ScriptsSettings | None = None) -> RegistryBackend:
        from livecs.scripts.versions import LibraryRegistry

        Path(db_path).parent.mkdir(parents=True, exist_ok=True)
        return cls(LibraryRegistry(db_path, config=config))

    def upload(
        self, files: list[tuple[str, bytes]], by: str, activate: bool = False, name: str = ""
    ) -> dict[str, Any]:
        if not files:
            raise MerchantError("请选择要上传的文件", "no file uploaded", code=ErrorCode.BAD_REQUEST)
        result = self.registry.upload(files, uploaded_by=by, name=name)
        issues = [i.to_dict() for i in result.issues]
        out: dict[str, Any] = {
            "ok": result.version_id is not None,
            "issues": issues,
            "errors": sum(1 for i in issues if i["severity"] == "error"),
            "warnings": sum(1 for i in issues if i["severity"] == "warning"),
            "version": None if result.version_id is None else str(result.version_id),
            "active": False,
        }
        out["terms"] = list(result.terms)
        if result.terms and result.version_id is not None:
            out["message"] = (
                f"已保存为版本 {result.version_id}，但含广告法/禁忌用语（{'、'.join(result.terms[:10])}），"
                "需管理员填写理由后才能启用"
            )
        if (
            result.version_id is not None
            and not result.terms
            and (activate or self.registry.active_version is None)
        ):
            self.registry.activate(result.version_id, by=by)
            out["active"] = True
        return out

    def versions(self) -> list[dict[str, Any]]:
        from livecs.scripts.versions import blocked_terms, diff_counts, listed_diff

        out = []
        for v in reversed(self.registry.versions()):
            lib = self.registry.library(v.version_id)
            # counted in full (the page says "话术 +27 −26 改51"), listed up to DIFF_LISTED ids
            diff = None if v.active else self.registry.diff(v.version_id, listed=None)
            out.append(
                {
                    "version": str(v.version_id),
                    "files": [f for f in v.sources.split(", ") if f],
                    "uploaded_by": v.uploaded_by,
                    "uploaded_at": v.created_at,
                    "warnings": v.warnings,
                    "active": v.active,
                    "name": lib.library.name,
                    "library_version": v.label,
                    "scripts": len(lib.scripts),
                    "products": len(lib.products),
                    "coupons": len(lib.coupons),
                    "terms": blocked_terms(lib, self.registry.config),
                    "version_name": v.name,
                    "diff": None if diff is None else listed_diff(diff),
                    "changes": None if diff is None else diff_counts(diff),
                }
            )
        return out

    @staticmethod
    def _version_id(version: str) -> int:
        try:
            return int(version.lstrip("v"))
        except ValueError:
            raise MerchantError("没有这个版本", f"no version {version!r}", code=ErrorCode.NOT_FOUND) from None

    def activate(self, version: str, by: str, override_reason: str = "") -> dict[str, Any]:
        """Activate a version; one carrying error-level terms needs ``override_reason`` (recorded)."""
        from livecs.scripts.versions import ActivationBlocked, RegistryError

        try:
            self.registry.activate(self._version_id(version), by=by, override_reason=override_reason)
        except ActivationBlocked as exc:
            raise MerchantError(
                f"话术库含广告法/禁忌用语：{'、'.join(exc.terms[:10])}。需管理员填写理由后强制启用",
                "the library carries error-level terms; an admin override with a reason is needed",
                terms=exc.terms,
            ) from None
        except RegistryError as exc:
            raise MerchantError(str(exc), "no such version", code=ErrorCode.NOT_FOUND) from None
        return {"active": version, "override": bool(override_reason.strip())}

    def term_hits(self, text: str) -> list[str]:
        """Error-level terms in ``text``: the active library's gate (广告法 + its 禁忌语)."""
        m = self.registry.matcher
        if m is not None:
            return list(m.gate.hits(text))
        from livecs.scripts.terms import term_gate

        return term_gate(self.registry.config).hits(text)

    def rollback_preview(self) -> dict[str, Any]:
        """What a rollback would do now, for the merchant to confirm: the version it goes back to (number,
        name, when and by whom uploaded, its counts), how many scripts, products and coupon rules it adds,
        removes and changes against the active one (``changes``; ``diff`` lists the first ids), and
        ``confirm_token``, which :meth:`rollback` needs."""
        from livecs.scripts.versions import RegistryError, listed_diff

        try:
            preview = self.registry.rollback_preview()
        except RegistryError as exc:
            raise MerchantError(exc.zh, exc.en, code=ErrorCode.CONFLICT) from None
        target = preview.target
        lib = self.registry.library(target.version_id)
        return {
            "version": str(target.version_id),
            "version_name": target.name,
            "library_version": target.label,
            "uploaded_at": target.created_at,
            "uploaded_by": target.uploaded_by,
            "files": [f for f in target.sources.split(", ") if f],
            "scripts": len(lib.scripts),
            "products": len(lib.products),
            "coupons": len(lib.coupons),
            "from_version": str(preview.active_id),
            "changes": preview.counts(),
            "diff": listed_diff(preview.changes),
            "confirm_token": preview.token,
        }

    def rollback(self, by: str, token: str = "", version: str = "", confirm: bool = False) -> dict[str, Any]:
        """Roll back, confirmed by ``token`` (from :meth:`rollback_preview`) or by the target ``version``
        with ``confirm``; an unconfirmed or stale request raises (400 / 409) and changes nothing."""
        from livecs.scripts.versions import RegistryError

        try:
            vid = self.registry.rollback(
                by=by,
                token=token,
                version=self._version_id(version) if version else None,
                confirm=confirm,
            )
        except RegistryError as exc:
            raise MerchantError(exc.zh, exc.en, code=ErrorCode.CONFLICT) from None
        return {"active": str(vid)}

    def active_library(self) -> Any:
        m = self.registry.matcher
        return m.library if m is not None else None

    def products(self) -> dict[str, Any]:
        lib = self.active_library()
        if lib is None:
            return {"on_air": None, "products": []}
        return {
            "on_air": lib.on_air_link,
            "products": [
                {"link": p.link, "sku": p.sku, "name": p.name, "price": p.price, "stock": p.stock}
                for p in lib.products
            ],
        }

    def set_on_air(self, link: int | None, by: str) -> dict[str, Any]:
        lib = self.active_library()
        if lib is None:
            raise MerchantError("还没有启用的话术库", "no active library", code=ErrorCode.CONFLICT)
        if link is not None and lib.product_by_link(link) is None:
            raise MerchantError(
                f"没有 {link} 号链接", f"no product with link {link}", code=ErrorCode.NOT_FOUND
            )
        self.registry.set_on_air(link)
        return {"on_air": link}


class CouponService:
    """Issue coupons of the active library atomically (stock, per-user limit, cooldown)."""

    def __init__(self, merchant: MerchantBackend, backend: Any | None = None) -> None:
        from livecs.scripts.coupons import InProcessStock

        self.merchant = merchant
        self.backend = backend if backend is not None else InProcessStock()
        self._engines: dict[int, Any] = {}

    def _engine(self) -> Any:
        from livecs.scripts.coupons import CouponEngine

        lib = self.merchant.active_library()
        if lib is None:
            raise MerchantError(
                "还没有启用的话术库（没有优惠券规则）",
                "no active library (no coupon rules)",
                code=ErrorCode.CONFLICT,
            )
        engine = self._engines.get(id(lib))
        if engine is None:
            self._engines = {id(lib): CouponEngine(lib.coupons)}
            engine = self._engines[id(lib)]
        return engine

    def describe(self, rule_id: str) -> dict[str, Any] | None:
        from livecs.scripts.coupons import describe

        try:
            rule = self._engine().rule(rule_id)
        except MerchantError:
            return None
        if rule is None:
            return None
        return {"id": rule.id, "name": rule.name, "text": describe(rule)}

    def announceable(self, rule_id: str) -> dict[str, Any] | None:
        """The rule described for the streamer to say on air, or None: an approval-only (compensation) coupon
        goes to one viewer after a supervisor's approval and is never announced to the room."""
        try:
            rule = self._engine().rule(rule_id)
        except MerchantError:
            return None
        if rule is None or not rule.enabled or rule.requires_approval:
            return None
        return self.describe(rule_id)

    def first_announceable(self) -> dict[str, Any] | None:
        try:
            engine = self._engine()
        except MerchantError:
            return None
        for rule in engine.rules:
            if rule.enabled and not rule.requires_approval:
                return self.describe(rule.id)
        return None

    async def close(self) -> None:
        await self.backend.close()

    def rules(self) -> list[dict[str, Any]]:
        try:
            engine = self._engine()
        except MerchantError:
            return []
        return [d for r in engine.rules if r.enabled and (d := self.describe(r.id)) is not None]

    async def issue(self, rule_id: str, **ask: Unpack[IssueAsk]) -> dict[str, Any]:
        """The issued coupon as a dict; raises ``CouponRefused`` or :class:`MerchantError` (``unavailable``
        when the stock cannot be reached: nothing was issued)."""
        from redis.exceptions import RedisError

        try:
            issued = await self._engine().issue(self.backend, rule_id, now=time.time(), **ask)
        except (RedisError, sqlite3.Error, OSError) as exc:
            log.error("coupon %s not issued: stock unreachable (%r)", rule_id, exc)
            raise MerchantError(
                "优惠券库存暂时无法访问，未发出，请稍后重试",
                "coupon stock unreachable: not issued",
                code=ErrorCode.UNAVAILABLE,
            ) from None
        return dict(issued.to_dict())
