"""The demo's web console: waitress on a thread of its own, so the demo can stop it last.

`telecare serve` runs waitress in the main thread and stops it with Ctrl-C. The demo stops
in order instead: the scheduler, the escalation engine, the phone network and the fleet
first, while the console still takes their last callbacks; then the console, closing every
connection it holds (an open alarm queue's event stream ends with it); then the broker.
"""

from __future__ import annotations

import logging
import threading
from typing import TYPE_CHECKING

import waitress

if TYPE_CHECKING:
    from flask import Flask

log = logging.getLogger(__name__)


class WebConsole:
    def __init__(self, app: Flask, host: str, port: int, threads: int = 8):
        # Our own socket map: closing everything in it is what ends waitress's loop.
        self._map: dict = {}
        self.server = waitress.create_server(app, map=self._map, host=host, port=port,
                                             threads=threads)
        self.url = f"http://{host}:{self.server.effective_port}/"
        self._thread = threading.Thread(target=self.server.run, name="web-console",
                                        daemon=True)

    def start(self) -> WebConsole:
        self._thread.start()
        return self

    def stop(self, timeout: float = 10.0) -> None:
        if self._thread.is_alive():
            # Runs on the server's own loop (waitress's trigger), the one thread that may
            # touch its connections: with nothing left to watch, the loop returns.
            self.server.trigger.pull_trigger(self._close_everything)
            self._thread.join(timeout)
        else:
            self.server.close()
        # Requests already running finish (each stream ends once its connection is gone).
        self.server.task_dispatcher.shutdown(timeout=timeout)

    def _close_everything(self) -> None:
        for dispatcher in list(self._map.values()):
            dispatcher.close()
