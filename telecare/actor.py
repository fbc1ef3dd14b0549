"""Who did something: a console user, an API token, the command line or the system."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Actor:
    name: str
    user_id: int | None = None

    @classmethod
    def system(cls) -> Actor:
        return cls("system")

    @classmethod
    def cli(cls) -> Actor:
        import getpass

        return cls(f"cli:{getpass.getuser()}")
