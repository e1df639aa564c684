"""Tickets (工单): escalated cards followed up until resolved — model, store, service and routes."""
