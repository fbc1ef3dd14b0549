"""Flask's signing key: from the settings, or generated once and kept in the data folder."""

from __future__ import annotations

import os
import secrets

from telecare.settings import Settings


def secret_key(settings: Settings) -> str:
    if settings.web.secret_key:
        return settings.web.secret_key
    path = settings.data_dir / "secret_key"
    if path.exists():
        return path.read_text(encoding="utf-8").strip()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    try:
        # O_EXCL: when two processes start together, one writes and the other reads its key.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text(encoding="utf-8").strip()
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(key + "\n")
    return key
