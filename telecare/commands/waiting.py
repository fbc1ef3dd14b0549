"""Long-running commands block here until the service manager or the terminal stops them."""

from __future__ import annotations

import signal
import threading


def wait_for_stop() -> None:
    """Return on SIGTERM (systemd, docker stop) or Ctrl-C, so the caller can stop in order."""
    stop = threading.Event()
    previous = signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        # wait() with a timeout: a bare wait() would not let Ctrl-C through on every platform.
        while not stop.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        signal.signal(signal.SIGTERM, previous)
