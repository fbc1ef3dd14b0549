"""The service's own heartbeat: each running part of each `telecare serve` process."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from telecare.models.base import Base


class ServiceBeat(Base):
    """One running part (bridge, scheduler.escalation, ...) of one process (host:pid).

    Its row is rewritten every few seconds while the part makes progress, and left alone
    when it stalls: every other process can tell from the database alone which part has
    gone silent, however many processes and machines the service runs on.
    """

    __tablename__ = "service_beat"

    component: Mapped[str] = mapped_column(String(40), primary_key=True)
    instance: Mapped[str] = mapped_column(String(120), primary_key=True)  # host:pid
    started_at: Mapped[datetime]
    last_beat_at: Mapped[datetime]
    # What the part last reported: counts, connected or not, "stopped" after a clean stop.
    detail: Mapped[dict] = mapped_column(default=dict)
