from pathlib import Path

import pytest

from telecare.settings import SettingsError, load_settings


def test_it_reads_the_shipped_defaults():
    settings = load_settings({})
    assert settings.timezone == "Europe/Rome"
    assert settings.enrolment.minimum_age == 80
    assert settings.mqtt.url == "embedded"
    assert settings.database_url.startswith("sqlite:///")
    assert settings.database_url.endswith("var/telecare.db")


def test_it_lets_the_environment_override_the_documented_names():
    settings = load_settings({
        "TELECARE_DATA_DIR": "/srv/telecare",
        "TELECARE_DATABASE_URL": "postgresql+psycopg://db/telecare",
        "TELECARE_MQTT_URL": "mqtts://bridge:pw@broker:8883",
        "TELECARE_PUBLIC_URL": "https://telecare.example.org",
        "TELECARE_TWILIO_FROM": "+390200000000",
        "TELECARE_TIMEZONE": "Europe/Madrid",
        "TELECARE_ENROLMENT_MINIMUM_AGE": "70",
        "TELECARE_WEB_LANGUAGES": "en, it",
    })
    assert settings.data_dir == Path("/srv/telecare")
    assert settings.database_url == "postgresql+psycopg://db/telecare"
    assert settings.mqtt.url == "mqtts://bridge:pw@broker:8883"
    assert settings.twilio.from_ == "+390200000000"
    assert settings.zone.key == "Europe/Madrid"
    assert settings.enrolment.minimum_age == 70
    assert settings.web.languages == ["en", "it"]


def test_it_reads_secrets_from_files(tmp_path):
    secret = tmp_path / "token"
    secret.write_text("s3cret\n")
    settings = load_settings({"TELECARE_TWILIO_AUTH_TOKEN_FILE": str(secret)})
    assert settings.twilio.auth_token == "s3cret"


def test_it_names_an_unreadable_secret_file(tmp_path):
    with pytest.raises(SettingsError, match="TELECARE_TWILIO_AUTH_TOKEN_FILE: cannot read"):
        load_settings({"TELECARE_TWILIO_AUTH_TOKEN_FILE": str(tmp_path / "missing")})


def test_it_reads_a_site_file_between_defaults_and_environment(tmp_path):
    site = tmp_path / "site.toml"
    site.write_text('timezone = "Europe/Berlin"\n[enrolment]\nminimum_age = 75\n')
    settings = load_settings({"TELECARE_CONFIG": str(site), "TELECARE_ENROLMENT_MINIMUM_AGE": "85"})
    assert settings.timezone == "Europe/Berlin"
    assert settings.enrolment.minimum_age == 85


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        ({"TELECARE_ENROLMENT_MINIMUM_AGE": "eighty"},
         "TELECARE_ENROLMENT_MINIMUM_AGE: expected a whole number, got 'eighty'"),
        ({"TELECARE_DATABASE_ECHO": "perhaps"},
         "TELECARE_DATABASE_ECHO: expected true or false, got 'perhaps'"),
        ({"TELECARE_TIMEZONE": "Mars/Olympus"}, "TELECARE_TIMEZONE: expected an IANA time zone"),
        ({"TELECARE_MQTT_URL": "http://broker"}, "TELECARE_MQTT_URL: expected 'embedded'"),
        ({"TELECARE_PUBLIC_URL": "telecare.example.org"}, "TELECARE_PUBLIC_URL: expected an http"),
        ({"TELECARE_WEB_PORT": "70000"}, "TELECARE_WEB_PORT: expected a port number"),
    ],
)
def test_it_stops_on_a_malformed_value_naming_the_variable(environ, message):
    with pytest.raises(SettingsError) as excinfo:
        load_settings(environ)
    assert str(excinfo.value).startswith(message)


def test_it_refuses_an_unknown_key_in_a_site_file(tmp_path):
    site = tmp_path / "site.toml"
    site.write_text("[enrolment]\nminimum_agee = 75\n")
    with pytest.raises(SettingsError, match=r"\[enrolment\] minimum_agee: unknown setting"):
        load_settings({"TELECARE_CONFIG": str(site)})


def test_it_refuses_a_site_file_that_is_not_toml(tmp_path):
    site = tmp_path / "site.toml"
    site.write_text("timezone = \n")
    with pytest.raises(SettingsError, match="not valid TOML"):
        load_settings({"TELECARE_CONFIG": str(site)})
