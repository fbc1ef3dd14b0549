"""The web role's server: waitress, on a thread, with a graceful stop.

`waitress.serve()` blocks and has no stop of its own: SIGTERM would cut every request in
the middle (a Twilio webhook half-applied is retried by Twilio, but an operator's form is
simply lost). Here the stop is in three steps: close the listening sockets (a load balancer
sends the next requests elsewhere), let the requests already received finish, then close
what is left (an idle keep-alive, or the live alarm queue's event stream, which the browser
reopens against another process).
"""

from __future__ import annotations

import logging
import threading
import time

import waitress
from waitress import wasyncore
from waitress.channel import HTTPChannel
from waitress.server import BaseWSGIServer

log = logging.getLogger(__name__)

DRAIN_S = 10.0  # at most this long for the requests under way once SIGTERM has come


class WebServer:
    def __init__(self, app, host: str, port: int, threads: int, drain_s: float = DRAIN_S):
        self.drain_s = drain_s
        self._map: dict = {}
        self.server = waitress.create_server(app, map=self._map, host=host, port=port,
                                             threads=threads)
        self._listeners = [d for d in self._map.values() if isinstance(d, BaseWSGIServer)]
        self._thread: threading.Thread | None = None

    @property
    def addresses(self) -> list[str]:
        return [f"http://{s.effective_host}:{s.effective_port}" for s in self._listeners]

    def start(self) -> WebServer:
        self._thread = threading.Thread(target=self.server.run, name="web-server", daemon=True)
        self._thread.start()
        log.info("web: serving on %s", ", ".join(self.addresses))
        return self

    def stop(self) -> None:
        self._in_loop(self._stop_accepting)
        deadline = time.monotonic() + self.drain_s
        while self._busy() and time.monotonic() < deadline:
            time.sleep(0.05)
        if self._busy():
            log.warning("web: requests still under way after %.0fs; closing them", self.drain_s)
        self._in_loop(lambda: wasyncore.close_all(self._map))
        self._listeners[0].task_dispatcher.shutdown(cancel_pending=True, timeout=5)
        if self._thread is not None:
            self._thread.join(timeout=5)
        log.info("web: stopped")

    def _stop_accepting(self) -> None:
        for listener in self._listeners:
            listener.accepting = False
            # The dispatcher's own close: the listener's socket only (BaseWSGIServer.close
            # would also close the trigger the loop needs to send the last responses).
            wasyncore.dispatcher.close(listener)

    def _busy(self) -> bool:
        # A copy: the loop thread adds and removes channels meanwhile.
        return any(isinstance(channel, HTTPChannel)
                   and (channel.requests or channel.total_outbufs_len)
                   for channel in list(self._map.values()))

    def _in_loop(self, action) -> None:
        """Run `action` on waitress's loop thread (its map is not to be touched from others)."""
        if self._thread is None or not self._thread.is_alive():
            action()
            return
        done = threading.Event()

        def thunk() -> None:
            try:
                action()
            finally:
                done.set()

        self._listeners[0].trigger.pull_trigger(thunk)
        if not done.wait(5):
            log.warning("web: the server loop did not answer; stopping it anyway")
