"""livecs — a live-stream commerce customer-service assistant (asyncio pipeline + pure triage core)."""

__version__ = "0.1.0"
