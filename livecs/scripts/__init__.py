"""Merchant script libraries, product catalogue and coupon rules: load, validate, lint, match, fill, issue.

Pure and synchronous except the Redis coupon stock backend (:class:`livecs.scripts.coupons.RedisStock`).
Entry points: :func:`livecs.scripts.validate.load_files`, :class:`livecs.scripts.matcher.ScriptMatcher`,
:class:`livecs.scripts.coupons.CouponEngine`, :class:`livecs.scripts.versions.LibraryRegistry`,
:func:`livecs.scripts.commands.register`.
"""
