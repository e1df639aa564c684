"""Ingest: live-room sources and the validation every input goes through."""
