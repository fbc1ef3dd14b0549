"""What a command or a service process shares: settings, engine, session factory, clock."""

from __future__ import annotations

from functools import cached_property

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from telecare.clock import Clock, SystemClock
from telecare.db import make_engine, make_session_factory
from telecare.settings import Settings


class Runtime:
    def __init__(self, settings: Settings, clock: Clock | None = None):
        self.settings = settings
        self.clock = clock or SystemClock()

    @cached_property
    def engine(self) -> Engine:
        return make_engine(self.settings.database_url, echo=self.settings.database.echo)

    @cached_property
    def sessions(self) -> sessionmaker[Session]:
        return make_session_factory(self.engine)

    def close(self) -> None:
        if "engine" in self.__dict__:
            self.engine.dispose()
