"""The processing stage the pipeline runs: triage every comment, then match scripts and coupons.

:class:`LiveProcessor` implements :class:`~livecs.processor.base.Processor` by chaining the pure triage engine
(:mod:`livecs.triage`) and the active script matcher of the merchant's library registry
(:mod:`livecs.scripts.versions`; read once per comment, so activating a new version mid-broadcast swaps it in
without stopping anything). When a new library version becomes active, its per-intent keywords and example
questions are taught to the triage engine (configurable). Both stages are synchronous and I/O-free.
"""

from __future__ import annotations

import logging
from pathlib import Path

from livecs.config import Settings
from livecs.models import Comment, LiveEvent, Priority
from livecs.paths import ROOT
from livecs.processor.base import Processed
from livecs.scripts.settings import ScriptsSettings
from livecs.scripts.versions import LibraryRegistry
from livecs.triage.engine import TriageEngine

log = logging.getLogger("livecs.processor.live")


def open_registry(settings: ScriptsSettings) -> LibraryRegistry:
    """The merchant library registry; uploads and activates ``bootstrap`` files when nothing is active."""
    Path(settings.library_db).parent.mkdir(parents=True, exist_ok=True)
    registry = LibraryRegistry(settings.library_db, shop=settings.shop, config=settings)
    if registry.active_version is None and settings.bootstrap:
        paths = [p if Path(p).is_absolute() else str(ROOT / p) for p in settings.bootstrap]
        result = registry.upload_paths(paths, uploaded_by="bootstrap")
        if result.version_id is None:
            errors = "; ".join(str(i) for i in result.issues[:5])
            raise ValueError(f"bootstrap library {settings.bootstrap} has errors: {errors}")
        registry.activate(result.version_id, by="bootstrap")
        log.info("library: bootstrap version %s activated from %s", result.version_id, settings.bootstrap)
    elif registry.active_version is not None:
        # say which library answers: the one last activated (on the merchant page, kept in library_db), which
        # may not be the bootstrap files — a demo after trying the skincare library answers with skincare
        active = next((v for v in registry.versions() if v.active), None)
        log.info(
            "library: version %s 「%s」 active (activated earlier, kept in %s; the bootstrap files load "
            "only when no version is active)",
            registry.active_version,
            active.name if active else "",
            settings.library_db,
        )
    if settings.on_air_link is not None:
        registry.set_on_air(settings.on_air_link)
    return registry


class LiveProcessor:
    """Triage → script suggestions, for one process (its state is per room inside the engine)."""

    def __init__(
        self, engine: TriageEngine, registry: LibraryRegistry | None, settings: ScriptsSettings | None = None
    ) -> None:
        self.engine = engine
        self.registry = registry
        self.settings = settings or ScriptsSettings()
        self._suggest = {Priority(p) for p in self.settings.suggest_priorities}
        self._taught_version: int | None = None

    def _teach(self) -> None:
        """Give the triage engine the vocabulary of the library version that just became active."""
        assert self.registry is not None
        version = self.registry.active_version
        matcher = self.registry.matcher
        self._taught_version = version
        if matcher is None or not self.settings.learn_library_vocabulary:
            return
        library = matcher.library
        examples = library.intent_examples()
        added = sum(
            self.engine.add_keywords(intent, keywords, examples.get(intent, []))
            for intent, keywords in library.intent_keywords().items()
        )
        log.info("triage learned %d keywords/examples from library version %s", added, version)

    def process(self, comment: Comment, now: float) -> Processed:
        triage = self.engine.triage(comment, now)
        registry = self.registry
        if registry is None or triage.priority not in self._suggest:
            return Processed(triage)
        if registry.active_version != self._taught_version:
            self._teach()
        matcher = registry.matcher
        if matcher is None or not self.settings.suggestions_per_comment:
            return Processed(triage)
        suggestions = matcher.match(comment, triage, k=self.settings.suggestions_per_comment, now=now)
        return Processed(triage, suggestions)

    def on_event(self, event: LiveEvent, now: float) -> None:
        return None


def build_processor(settings: Settings, registry: LibraryRegistry | None = None) -> LiveProcessor:
    """The configured processor: the triage engine and the merchant's active library."""
    return LiveProcessor(
        TriageEngine.from_config(), registry or open_registry(settings.scripts), settings.scripts
    )
