"""`telecare devices provision`: a device row and its broker credentials."""

from __future__ import annotations

from click.testing import CliRunner
from sqlalchemy import create_engine, text

from telecare.cli import telecare


def run(tmp_path, *args):
    environ = {"TELECARE_DATA_DIR": str(tmp_path), "TELECARE_DATABASE_URL": ""}
    return CliRunner().invoke(telecare, list(args), env=environ)


def test_it_provisions_a_device_with_a_password_for_the_broker(tmp_path):
    assert run(tmp_path, "db", "upgrade").exit_code == 0
    result = run(tmp_path, "devices", "provision", "PND-000123", "--period", "120")
    assert result.exit_code == 0, result.output
    password = result.output.split("write it into the device): ")[1].split()[0]
    assert len(password) >= 20
    line = (tmp_path / "mosquitto" / "passwd").read_text().strip()
    assert line.startswith("PND-000123:$7$") and password not in line  # hashed
    engine = create_engine(f"sqlite:///{tmp_path / 'telecare.db'}")
    with engine.connect() as connection:
        row = connection.execute(text(
            "SELECT serial, state, heartbeat_period_s FROM device")).one()
        audited = connection.execute(text("SELECT action FROM audit_entry")).scalars().all()
    assert tuple(row) == ("PND-000123", "in_stock", 120)
    assert audited == ["device.provisioned"]


def test_it_gives_a_device_to_an_enrollee_at_provisioning_or_later(tmp_path):
    assert run(tmp_path, "db", "upgrade").exit_code == 0
    assert run(tmp_path, "seed", "--enrollees", "2").exit_code == 0
    given = run(tmp_path, "devices", "provision", "PND-1", "--enrollee", "1")
    assert given.exit_code == 0, given.output
    assert run(tmp_path, "devices", "provision", "PND-2").exit_code == 0
    taken = run(tmp_path, "devices", "assign", "PND-1", "2")
    assert taken.exit_code == 1
    assert "serial: PND-1 is with record 1: take it back there first" in taken.output
    assert run(tmp_path, "devices", "assign", "PND-2", "2").exit_code == 0
    assert "no such record" in run(tmp_path, "devices", "assign", "PND-2", "99").output
    engine = create_engine(f"sqlite:///{tmp_path / 'telecare.db'}")
    with engine.connect() as connection:
        rows = connection.execute(text(
            "SELECT serial, enrollee_id, state FROM device ORDER BY serial")).all()
    assert [tuple(r) for r in rows] == [("PND-1", 1, "active"), ("PND-2", 2, "active")]


def test_it_refuses_a_serial_that_cannot_be_a_topic_or_a_username(tmp_path):
    result = run(tmp_path, "devices", "provision", "a/b#")
    assert result.exit_code == 1
    assert "a serial is 1-64 letters" in result.output


def test_it_starts_an_embedded_mosquitto_with_the_bridge_and_stops_both(bridge_runtime,
                                                                         tmp_path):
    from telecare.commands.devices import devices_running
    from telecare.settings import MqttSettings

    runtime = bridge_runtime
    runtime.settings = runtime.settings.replace(
        data_dir=tmp_path / "data", mqtt=MqttSettings(url="embedded", client_id="demo-bridge"))
    with devices_running(runtime) as bridge:
        assert bridge is not None and bridge.wait_connected(10)
        conf = (tmp_path / "data" / "mosquitto" / "mosquitto.conf").read_text()
        assert "persistence true" in conf and "listener" in conf
    assert not bridge.client.is_connected()


def test_it_runs_the_demo_without_devices_when_mosquitto_is_missing(bridge_runtime, tmp_path,
                                                                     monkeypatch, capsys):
    from devices import broker
    from telecare.commands.devices import devices_running
    from telecare.settings import MqttSettings

    def missing():
        raise broker.BrokerError(broker.INSTALL_HINT)

    monkeypatch.setattr(broker, "mosquitto_binary", missing)
    runtime = bridge_runtime
    runtime.settings = runtime.settings.replace(data_dir=tmp_path,
                                                mqtt=MqttSettings(url="embedded"))
    with devices_running(runtime) as bridge:
        assert bridge is None
    assert "apt install mosquitto" in capsys.readouterr().err
