"""Tests of livecs.scripts (one module per source module)."""
