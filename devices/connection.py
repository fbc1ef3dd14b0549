"""Broker addresses and paho clients configured the way the reliability rules ask."""

from __future__ import annotations

import ssl
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


def make_client(address: BrokerAddress, client_id: str, *, manual_ack: bool = False,
                username: str | None = None, password: str | None = None,
                protocol: int = mqtt.MQTTv5) -> mqtt.Client:
    """A paho client (MQTT 5 unless told) with the callback API of paho 2, not yet connected."""
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id,
                         protocol=protocol, manual_ack=manual_ack)
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
