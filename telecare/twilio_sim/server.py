"""The Twilio stand-in's HTTP server: the REST API subset the adapter uses, Basic auth included."""

from __future__ import annotations

import base64
import json
import logging
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl

from telecare.twilio_sim.resources import API_VERSION, ApiError

log = logging.getLogger(__name__)
ACCOUNT = rf"/{API_VERSION}/Accounts/(?P<account>[^/]+)"
ROUTES = [
    ("POST", re.compile(ACCOUNT + r"/Calls\.json$"), "create_call"),
    ("GET", re.compile(ACCOUNT + r"/Calls/(?P<sid>CA[0-9a-f]+)\.json$"), "fetch_call"),
    ("POST", re.compile(ACCOUNT + r"/Calls/(?P<sid>CA[0-9a-f]+)\.json$"), "update_call"),
    ("POST", re.compile(ACCOUNT + r"/Messages\.json$"), "create_message"),
    ("GET", re.compile(ACCOUNT + r"/Messages/(?P<sid>(SM|MM)[0-9a-f]+)\.json$"), "fetch_message"),
    ("POST", re.compile(ACCOUNT + r"/Messages/(?P<sid>(SM|MM)[0-9a-f]+)\.json$"),
     "update_message"),
]


class _Handler(BaseHTTPRequestHandler):
    server_version = "TwilioStandIn/1"
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
        self._dispatch("GET")

    def do_POST(self) -> None:  # noqa: N802
        self._dispatch("POST")

    def log_message(self, format: str, *args) -> None:  # noqa: A002
        log.debug("stand-in: " + format, *args)

    def _dispatch(self, method: str) -> None:
        sim = self.server.sim
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length).decode("utf-8", "replace") if length else ""
        form = dict(parse_qsl(body, keep_blank_values=True))
        multi = parse_qsl(body, keep_blank_values=True)
        path = self.path.split("?", 1)[0]
        if method == "GET" and path == "/_sim/calls.json":
            return self._send(200, sim.report())
        if method == "POST" and path == "/_sim/sms":
            # Not Twilio's: lets a demo (or curl) play someone texting the service.
            if not form.get("From") or not form.get("Body"):
                return self._send(400, {"message": "From and Body are required"})
            status = sim.receive_sms(form["From"], form["Body"])
            return self._send(200, {"webhook_status": status})
        try:
            for route_method, pattern, action in ROUTES:
                match = pattern.match(path)
                if match and route_method == method:
                    self._authenticate(match.group("account"))
                    status, payload = getattr(sim.api, action)(match, form, multi)
                    return self._send(status, payload)
            raise ApiError(404, 20404, f"The requested resource {path} was not found")
        except ApiError as error:
            return self._send(error.status, error.as_json())

    def _authenticate(self, account: str) -> None:
        sim = self.server.sim
        scheme, _, encoded = self.headers.get("Authorization", "").partition(" ")
        try:
            user, _, password = base64.b64decode(encoded).decode().partition(":")
        except (ValueError, UnicodeDecodeError):
            user = password = ""
        if (scheme.lower() != "basic" or user != sim.account_sid
                or password != sim.auth_token or account != sim.account_sid):
            raise ApiError(401, 20003, "Authenticate")

    def _send(self, status: int, payload: dict) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


class ApiServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, sim, host: str, port: int):
        super().__init__((host, port), _Handler)
        self.sim = sim

    def start(self) -> threading.Thread:
        # A short poll: stopping waits for the loop's next look (half a second by default).
        thread = threading.Thread(target=self.serve_forever, kwargs={"poll_interval": 0.05},
                                  name="twilio-stand-in", daemon=True)
        thread.start()
        return thread
