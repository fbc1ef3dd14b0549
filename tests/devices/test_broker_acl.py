"""The shipped Mosquitto configuration: passwords, the %u ACL, the TLS listener."""

from __future__ import annotations

import getpass
import logging
import shutil
import ssl
import subprocess
import threading
import time
import uuid
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest

from devices.bridge import Bridge
from devices.broker import Mosquitto, add_password, free_port, mosquitto_binary
from devices.connection import BrokerAddress, make_client
from devices.protocol import topic
from telecare.runtime import Runtime
from tests.devices.conftest import wait_for

CONFIG = Path(__file__).resolve().parents[2] / "config" / "mosquitto"
PASSWORDS = {"dev-a": "pw-a-123456", "dev-b": "pw-b-123456", "telecare-bridge": "bridge-pw-1"}


@pytest.fixture
def secured_broker(tmp_path):
    passwd = tmp_path / "passwd"
    for user, password in PASSWORDS.items():
        add_password(passwd, user, password)
    with Mosquitto(tmp_path / "mosquitto", password_file=passwd,
                   acl_file=CONFIG / "acl") as running:
        yield running


class Listener:
    """A client that records what reaches it."""

    def __init__(self, broker, user: str, filters: list[str]):
        self.received: list[tuple[str, bytes]] = []
        self.client = make_client(BrokerAddress.from_url(broker.url), f"{user}-{uuid.uuid4().hex}",
                                  username=user, password=PASSWORDS[user])
        self.client.on_message = lambda _c, _u, m: self.received.append((m.topic, m.payload))
        done = threading.Event()
        self.client.on_subscribe = lambda *a: done.set()
        self.client.connect("127.0.0.1", broker.port)
        self.client.loop_start()
        self.client.subscribe([(f, 1) for f in filters])
        assert done.wait(5)

    def publish(self, name: str, payload: bytes) -> None:
        self.client.publish(name, payload, qos=1).wait_for_publish(5)

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def test_it_refuses_a_device_publishing_on_another_devices_topic(secured_broker):
    bridge = Listener(secured_broker, "telecare-bridge", ["telecare/v1/devices/+/events"])
    dev_a = Listener(secured_broker, "dev-a", [topic("dev-b", "commands")])
    dev_b = Listener(secured_broker, "dev-b", [topic("dev-b", "commands")])
    try:
        dev_a.publish(topic("dev-b", "events"), b'{"seq": 1, "type": "alarm"}')  # forged
        dev_a.publish(topic("dev-a", "events"), b'{"seq": 1, "type": "test"}')  # its own
        wait_for(lambda: bridge.received)
        bridge.publish(topic("dev-b", "commands"), b'{"cmd": "test_ok"}')
        wait_for(lambda: dev_b.received)
        time.sleep(0.2)
        assert bridge.received == [(topic("dev-a", "events"), b'{"seq": 1, "type": "test"}')]
        assert dev_a.received == []  # it cannot read another device's commands either
    finally:
        for client in (bridge, dev_a, dev_b):
            client.close()


def test_it_refuses_a_client_without_a_password(secured_broker):
    client = make_client(BrokerAddress.from_url(secured_broker.url), "anonymous")
    result = {}
    connected = threading.Event()

    def on_connect(_c, _u, _f, reason_code, _p):
        result["reason"] = reason_code
        connected.set()

    client.on_connect = on_connect
    client.connect("127.0.0.1", secured_broker.port)
    client.loop_start()
    try:
        assert connected.wait(5)
        assert result["reason"].is_failure
    finally:
        client.loop_stop()


def test_the_bridge_works_under_the_acl_with_a_shared_subscription(
        secured_broker, bridge_settings, committed_sessions, make_device):
    device = make_device()
    passwd = secured_broker.password_file
    add_password(passwd, device.serial, "device-pw-1")
    secured_broker.process.send_signal(1)  # SIGHUP: Mosquitto rereads its password file
    time.sleep(0.2)
    url = f"mqtt://telecare-bridge:{PASSWORDS['telecare-bridge']}@127.0.0.1:{secured_broker.port}"
    settings = bridge_settings.replace(mqtt=bridge_settings.mqtt.__class__(
        url=url, client_id=bridge_settings.mqtt.client_id, shared_group="bridges"))
    runtime = Runtime(settings)
    runtime.sessions = committed_sessions
    bridge = Bridge(runtime, BrokerAddress.from_url(url)).start()
    PASSWORDS[device.serial] = "device-pw-1"
    pendant = Listener(secured_broker, device.serial, [topic(device.serial, "commands")])
    try:
        assert bridge.wait_connected(10)
        time.sleep(0.2)
        pendant.publish(topic(device.serial, "events"), b'{"seq": 1, "type": "test"}')
        wait_for(lambda: pendant.received)
        assert pendant.received == [(topic(device.serial, "commands"), b'{"cmd":"test_ok"}')]
    finally:
        pendant.close()
        bridge.stop()
        PASSWORDS.pop(device.serial)


@pytest.mark.skipif(not shutil.which("openssl"), reason="openssl is needed to make a test cert")
def test_the_production_configuration_starts_and_serves_devices_over_tls(tmp_path, caplog):
    certs = tmp_path / "certs"
    certs.mkdir()
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                    "-subj", "/CN=localhost", "-keyout", str(certs / "server.key"),
                    "-out", str(certs / "server.crt")], check=True, capture_output=True)
    passwd = tmp_path / "telecare.passwd"
    add_password(passwd, "dev-a", PASSWORDS["dev-a"])
    tls_port, plain_port = free_port(), free_port()
    conf = (CONFIG / "mosquitto.conf").read_text()
    for production, test in [
            ("/var/lib/mosquitto/", f"{tmp_path}/"),
            ("/etc/mosquitto/telecare.passwd", str(passwd)),
            ("/etc/mosquitto/telecare.acl", str(CONFIG / "acl")),
            ("/etc/mosquitto/certs/", f"{certs}/"),
            ("cafile /etc/ssl/certs/ca-certificates.crt", f"cafile {certs}/server.crt"),
            ("listener 8883", f"listener {tls_port} 127.0.0.1"),
            ("listener 1883 127.0.0.1", f"listener {plain_port} 127.0.0.1"),
            ("log_dest syslog", "log_dest stderr")]:
        assert production in conf
        conf = conf.replace(production, test)
    # As root, Mosquitto would switch to user "mosquitto", who cannot read the test's folder.
    conf += f"user {getpass.getuser()}\n"
    (tmp_path / "mosquitto.conf").write_text(conf)
    log = (tmp_path / "mosquitto.log").open("wb")
    process = subprocess.Popen([mosquitto_binary(), "-c", str(tmp_path / "mosquitto.conf")],
                               stderr=log, stdout=log)
    try:
        client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="dev-a",
                             protocol=mqtt.MQTTv5)
        client.username_pw_set("dev-a", PASSWORDS["dev-a"])
        client.tls_set(ca_certs=str(certs / "server.crt"), cert_reqs=ssl.CERT_REQUIRED)
        client.tls_insecure_set(True)  # the test certificate names localhost, we dial 127.0.0.1
        wait_for(lambda: _connects(client, tls_port), timeout=10)
        client.loop_start()
        info = client.publish(topic("dev-a", "heartbeat"), b"{}", qos=1)
        info.wait_for_publish(5)
        assert info.is_published()
        client.disconnect()
        client.loop_stop()

        # A bridge on a machine that does not trust the certificate says so, once, while
        # paho keeps retrying.
        failures = []
        with caplog.at_level(logging.INFO, logger="devices.connection"):
            untrusting = make_client(BrokerAddress.from_url(f"mqtts://127.0.0.1:{tls_port}"),
                                     "bridge-untrusting")
            untrusting.on_connect_fail = lambda *_args: failures.append(1)
            untrusting.connect_async("127.0.0.1", tls_port)
            untrusting.loop_start()
            try:
                wait_for(lambda: len(failures) >= 3, timeout=15)
            finally:
                untrusting.loop_stop()
        said = [r.getMessage() for r in caplog.records if r.name == "devices.connection"]
        assert len(said) == 1, said
        assert f"cannot connect to 127.0.0.1:{tls_port} over TLS" in said[0]
        assert "certificate verify failed" in said[0]
        assert "certificate authority trusted on this machine" in said[0]
    finally:
        process.terminate()
        process.wait(5)
        log.close()


def _connects(client, port) -> bool:
    try:
        client.connect("127.0.0.1", port)
        return True
    except OSError:
        time.sleep(0.05)
        return False
