"""The ``ingest`` section of the settings tree (``Settings.ingest``): bounds on every incoming record, dedup.

:class:`RecordLimits` caps the untrusted fields of one comment, frame, webhook body or replay line (not to be
confused with :class:`livecs.scripts.settings.UploadLimits`, the bounds on an uploaded library file).
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class RecordLimits(BaseModel):
    """Caps applied to untrusted fields of incoming records (``config/livecs.yaml`` → ``ingest``)."""

    model_config = ConfigDict(extra="forbid")

    max_text_chars: int = Field(500, ge=1, description="longer comments are cut and marked truncated")
    max_nickname_chars: int = Field(64, ge=1)
    max_id_chars: int = Field(128, ge=1)
    max_payload_bytes: int = Field(
        4 * 1024 * 1024, ge=1, description="one frame / webhook body / replay line"
    )
    max_batch: int = Field(5000, ge=1, description="records in one JSON array")
    max_extras_bytes: int = Field(4096, ge=0, description="platform extras kept per record")


class IngestSettings(RecordLimits):
    dedup_window: int = Field(500_000, ge=1, description="message ids remembered per session for dedup")
    reject_log_interval_s: float = Field(60.0, gt=0, description="log each reject reason at most this often")
