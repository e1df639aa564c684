"""The bus between pipeline stages: one interface, an in-process and a Redis Streams implementation."""

from livecs.bus.base import Bus, Delivery, open_bus

__all__ = ["Bus", "Delivery", "open_bus"]
