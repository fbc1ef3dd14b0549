"""Broker addresses and paho clients configured the way the reliability rules ask."""

from __future__ import annotations

import logging
import ssl
import time
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties


@dataclass(frozen=True)
class BrokerAddress:
    host: str
    port: int
    username: str | None = None
    password: str | None = None
    tls: bool = False

    @classmethod
    def from_url(cls, url: str) -> BrokerAddress:
        """mqtt://user:pass@host:port or mqtts://... (TLS, port 8883 by default)."""
        parts = urlsplit(url)
        if parts.scheme not in {"mqtt", "mqtts"} or not parts.hostname:
            raise ValueError(f"expected mqtt://host:port or mqtts://host:port, got {url!r}")
        tls = parts.scheme == "mqtts"
        return cls(parts.hostname, parts.port or (8883 if tls else 1883),
                   unquote(parts.username) if parts.username else None,
                   unquote(parts.password) if parts.password else None, tls)


log = logging.getLogger(__name__)

# A broker that stays unreachable is said again at most this often (paho retries every 30 s).
REPEAT_AFTER_S = 300.0


class Client(mqtt.Client):
    """paho's client, saying why it cannot connect: paho itself retries without a word.

    A broker certificate the machine does not trust, a wrong port, a broker down: each is
    logged once as a warning naming the address and the reason, again if the reason changes
    or it lasts, and a line when the connection succeeds after all.
    """

    def __init__(self, *args, address: BrokerAddress, **kwargs):
        super().__init__(*args, **kwargs)
        self._address = address
        self._failing: str | None = None
        self._said_at = 0.0

    def reconnect(self) -> mqtt.MQTTErrorCode:
        try:
            result = super().reconnect()
        except OSError as exc:
            self._failed(exc)
            raise
        if self._failing is not None:
            log.info("mqtt %s: reached %s:%s", self._client_id.decode(), self._address.host,
                     self._address.port)
            self._failing = None
        return result

    def _failed(self, exc: OSError) -> None:
        reason = str(exc) or type(exc).__name__
        if reason == self._failing and time.monotonic() - self._said_at < REPEAT_AFTER_S:
            return
        self._failing, self._said_at = reason, time.monotonic()
        hint = (" (is the broker's certificate authority trusted on this machine?)"
                if isinstance(exc, ssl.SSLCertVerificationError) else "")
        log.warning("mqtt %s: cannot connect to %s:%s%s: %s; retrying with backoff",
                    self._client_id.decode(), self._address.host, self._address.port,
                    " over TLS" if self._address.tls else "", reason + hint)


def make_client(address: BrokerAddress, client_id: str, *, manual_ack: bool = False,
                username: str | None = None, password: str | None = None,
                protocol: int = mqtt.MQTTv5) -> mqtt.Client:
    """A paho client (MQTT 5 unless told) with the callback API of paho 2, not yet connected."""
    client = Client(CallbackAPIVersion.VERSION2, client_id=client_id,
                    protocol=protocol, manual_ack=manual_ack, address=address)
    user = username if username is not None else address.username
    if user is not None:
        client.username_pw_set(user, password if username is not None else address.password)
    if address.tls:
        client.tls_set(cert_reqs=ssl.CERT_REQUIRED)
    # Reconnect with backoff: 1 s doubling to 30 s (paho applies it in loop_forever/loop_start).
    client.reconnect_delay_set(min_delay=1, max_delay=30)
    client.max_inflight_messages_set(1000)
    client.max_queued_messages_set(0)
    return client


def session_properties(expiry_s: int) -> Properties:
    """CONNECT properties for a session the broker keeps while we are away.

    paho's MQTT 5 default is a clean start with no expiry: whatever arrived while the bridge
    was down would be thrown away.
    """
    props = Properties(PacketTypes.CONNECT)
    props.SessionExpiryInterval = expiry_s
    # Let the broker send many unacknowledged events at once; we acknowledge after the commit.
    props.ReceiveMaximum = 65535
    return props
