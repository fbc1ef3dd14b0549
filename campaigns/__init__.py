"""Campaigns: heat-wave and scam warnings, CAP alerts and municipal news, targeted by area."""
