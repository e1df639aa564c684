"""Triage: normalise a live-room comment and say what it is (intent, sentiment, emotion, spam, cluster,
priority).

The engine (:class:`livecs.triage.engine.TriageEngine`) is pure and synchronous; its commands (``eval``,
``train``, ``bench triage``) are registered by :mod:`livecs.triage.commands`.
"""
