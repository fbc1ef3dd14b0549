"""Typed settings: config/telecare.toml, then a site file, then TELECARE_* environment variables."""

from __future__ import annotations

import dataclasses
import os
import tomllib
import typing
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

ENV_PREFIX = "TELECARE_"
PROJECT_CONFIG_DIR = Path(__file__).resolve().parent.parent / "config"


class SettingsError(ValueError):
    """A setting has a value the service cannot start with; the message names it."""


def _key(f: dataclasses.Field) -> str:
    # `from` is a Python keyword but the natural TOML/env name (TELECARE_TWILIO_FROM).
    return f.metadata.get("key", f.name)


@dataclass(frozen=True)
class DatabaseSettings:
    url: str = ""
    echo: bool = False


@dataclass(frozen=True)
class MqttSettings:
    url: str = "embedded"
    client_id: str = "telecare-bridge"
    # Several bridge processes with the same group split the devices' messages between them.
    shared_group: str = ""
    # How long the broker keeps the bridge's session (and queues QoS 1 events) while it is down.
    session_expiry_s: int = 86400
    # Mosquitto's password file that `telecare devices provision` adds devices to.
    # Empty: data_dir/mosquitto/passwd.
    password_file: str = ""


@dataclass(frozen=True)
class DevicesSettings:
    # healthchecks' model: a device is overdue after its heartbeat period plus this grace.
    grace_s: int = 30
    # A battery at or below this level raises a low-priority alarm...
    low_battery_percent: int = 20
    # ...cleared only above this one, so a level wavering around the threshold does not flap.
    battery_recovered_percent: int = 30
    # Heartbeats update last-seen in memory; this often they are written in one batch.
    heartbeat_flush_ms: int = 1000
    watchdog_interval_ms: int = 1000
    # Payloads larger than this are refused unread (a protocol v1 event is under 200 bytes).
    max_payload_bytes: int = 2048


@dataclass(frozen=True)
class TwilioSettings:
    account_sid: str = ""
    auth_token: str = ""
    from_: str = field(default="", metadata={"key": "from"})
    api_url: str = ""


@dataclass(frozen=True)
class TelephonySettings:
    # Twilio's default for an account: one outbound call per second.
    calls_per_second: int = 1
    # A contact is not phoned more often than this for non-critical reasons (GoAlert's figure).
    contact_calls: int = 3
    contact_window_minutes: int = 15
    ring_timeout: int = 30
    # Twilio <Say> voices: "language=voice" (it=Polly.Bianca); the language itself is it-IT etc.
    voices: list[str] = field(default_factory=lambda: ["it=Polly.Bianca", "en=Polly.Amy"])


@dataclass(frozen=True)
class WebSettings:
    host: str = "127.0.0.1"
    port: int = 8000
    secret_key: str = ""
    session_minutes: int = 480
    trusted_proxies: int = 0
    languages: list[str] = field(default_factory=lambda: ["it", "en"])
    # Set: /metrics answers only "Authorization: Bearer <this>". Empty: it is open.
    metrics_token: str = ""


@dataclass(frozen=True)
class EnrolmentSettings:
    minimum_age: int = 80
    phone_region: str = "IT"
    languages: list[str] = field(default_factory=lambda: ["it", "en"])


@dataclass(frozen=True)
class CampaignSettings:
    # The city's districts (Milan's Municipi) as GeoJSON, from its open data; empty: none.
    districts_file: str = ""
    districts_number_property: str = "ZONADEC"
    # The municipality the districts divide (Milan: 015146).
    districts_city: str = "015146"
    # Municipal boundaries around the city (GeoJSON with com_istat_code), to know which
    # neighbouring municipalities each district borders; empty: districts stay within the city.
    boundaries_file: str = ""
    # No warning rings between these local times unless it is urgent.
    quiet_start: str = "20:00"
    quiet_end: str = "09:00"
    max_attempts: int = 3
    retry_minutes: int = 30


@dataclass(frozen=True)
class AlertsSettings:
    # The escalation policies (TOML). Empty: escalation.toml in the configuration folder.
    policies_file: str = ""
    # How often the engine looks for due steps; a new alarm in the same process wakes it.
    sweep_interval_ms: int = 500
    # Calls and texts placed at once by one engine process.
    senders: int = 4
    # Gentle ladders (device offline, low battery, missed calls) phone nobody between these.
    quiet_start: str = "21:00"
    quiet_end: str = "08:00"
    # The shift supervisor's mobile numbers (E.164): texted when an alarm hits its time box.
    supervisor_numbers: list[str] = field(default_factory=list)
    # The operators' line: a contact who presses 0 on an alarm call is put through to it.
    operator_number: str = ""


@dataclass(frozen=True)
class CallsSettings:
    """The weekly courtesy call and the other planned calls (reassurance, birthday)."""

    # Attempts at one planned call; only a confirmed answer (a key pressed) ends it early.
    max_attempts: int = 3
    # Minutes from one failed attempt to the next: the 2nd after 30, the 3rd after 120.
    retry_minutes: list[str] = field(default_factory=lambda: ["30", "120"])
    # Local hours in which planned calls are made: an overdue call waits for the morning.
    day_start: str = "09:00"
    day_end: str = "20:00"
    # The centre's capacity, calls per hour, by mode: the planner keeps each hour within it.
    automated_per_hour: int = 600
    operator_per_hour: int = 30
    # A call falling on a public holiday: "keep" it, move it to the "next_day" or the
    # "previous_day" that is not one (same time).
    holiday_rule: str = "next_day"
    # Public holidays of this country (ISO 3166) and, optionally, subdivision (Milan: "MI",
    # for Sant'Ambrogio), as the `holidays` library knows them.
    holiday_country: str = "IT"
    holiday_subdivision: str = ""
    # How often the scheduler looks for due calls, and how far ahead calls are planned.
    sweep_interval_s: int = 10
    plan_days: int = 7
    # Seconds the automated call waits for the alarm button's test signal.
    button_check_s: int = 60
    # A call placed but never reported ended after this long counts as unanswered.
    lease_minutes: int = 15
    # The other agendas: a reassurance call the day after an alarm; a birthday greeting.
    reassurance: bool = True
    reassurance_time: str = "10:00"
    birthday: bool = True
    birthday_time: str = "11:00"


@dataclass(frozen=True)
class PrivacySettings:
    """Storage limitation (GDPR art. 5(1)(e)): how long an ended enrolment keeps personal data."""

    # Days from the end of an enrolment to the erasure of the person's personal data; their
    # alarms and calls stay, anonymised, for the statistics. docs/data-protection.md says why
    # a year: the questions that follow an ending (a family's, a complaint, the year's report)
    # come within it, and the social services' own case file is kept elsewhere.
    retention_days: int = 365
    # Local time of the scheduler's daily erasure of what has become due.
    erase_at: str = "03:30"


@dataclass(frozen=True)
class Settings:
    data_dir: Path = Path("var")
    timezone: str = "Europe/Rome"
    public_url: str = "http://127.0.0.1:8000"
    database: DatabaseSettings = field(default_factory=DatabaseSettings)
    mqtt: MqttSettings = field(default_factory=MqttSettings)
    devices: DevicesSettings = field(default_factory=DevicesSettings)
    twilio: TwilioSettings = field(default_factory=TwilioSettings)
    telephony: TelephonySettings = field(default_factory=TelephonySettings)
    web: WebSettings = field(default_factory=WebSettings)
    enrolment: EnrolmentSettings = field(default_factory=EnrolmentSettings)
    campaigns: CampaignSettings = field(default_factory=CampaignSettings)
    alerts: AlertsSettings = field(default_factory=AlertsSettings)
    calls: CallsSettings = field(default_factory=CallsSettings)
    log: LogSettings = field(default_factory=lambda: LogSettings())
    service: ServiceSettings = field(default_factory=lambda: ServiceSettings())
    privacy: PrivacySettings = field(default_factory=PrivacySettings)

    @property
    def database_url(self) -> str:
        """The configured URL, or the default SQLite file in the data folder."""
        if self.database.url:
            return self.database.url
        return f"sqlite:///{(self.data_dir / 'telecare.db').resolve()}"

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def replace(self, **changes) -> Settings:
        return dataclasses.replace(self, **changes)


def config_dir(environ: typing.Mapping[str, str] | None = None) -> Path:
    """Where the shipped configuration files live (telecare.toml, heat.toml, mosquitto/)."""
    environ = os.environ if environ is None else environ
    return Path(environ.get(f"{ENV_PREFIX}CONFIG_DIR", PROJECT_CONFIG_DIR))


def load_settings(environ: typing.Mapping[str, str] | None = None) -> Settings:
    """Read the defaults, the site file (TELECARE_CONFIG) and the environment, in that order."""
    environ = os.environ if environ is None else environ
    layers = [_read_toml(config_dir(environ) / "telecare.toml", required=False)]
    site_file = environ.get(f"{ENV_PREFIX}CONFIG")
    if site_file:
        layers.append(_read_toml(Path(site_file), required=True))
    settings = _build(Settings, layers, environ, section="")
    _check(settings)
    return settings


def _read_toml(path: Path, *, required: bool) -> dict:
    if not path.exists():
        if required:
            raise SettingsError(f"TELECARE_CONFIG: file {path} does not exist")
        return {}
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise SettingsError(f"{path}: not valid TOML ({exc})") from exc


def _build(cls, layers: list[dict], environ, section: str):
    hints = typing.get_type_hints(cls)
    known = {_key(f) for f in dataclasses.fields(cls)}
    for layer in layers:
        for name in layer:
            if name not in known:
                where = f"[{section}] " if section else ""
                raise SettingsError(f"{where}{name}: unknown setting")
    values = {}
    for f in dataclasses.fields(cls):
        key = _key(f)
        hint = hints[f.name]
        if dataclasses.is_dataclass(hint):
            sub_layers = [layer.get(key, {}) for layer in layers]
            for layer in sub_layers:
                if not isinstance(layer, dict):
                    raise SettingsError(f"[{key}]: expected a table")
            values[f.name] = _build(hint, sub_layers, environ, section=key)
            continue
        env_name = ENV_PREFIX + (f"{section}_{key}" if section else key).upper()
        label = f"[{section}] {key}" if section else key
        raw: object = dataclasses.MISSING
        for layer in layers:
            if key in layer:
                raw = layer[key]
        if env_name in environ:
            raw, label = environ[env_name], env_name
        elif f"{env_name}_FILE" in environ:
            raw, label = _read_secret(f"{env_name}_FILE", environ[f"{env_name}_FILE"]), env_name
        if raw is not dataclasses.MISSING:
            values[f.name] = _coerce(raw, hint, label)
    return cls(**values)


def _read_secret(variable: str, path: str) -> str:
    try:
        return Path(path).read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise SettingsError(f"{variable}: cannot read {path} ({exc.strerror})") from exc


def _coerce(raw: object, hint, label: str):
    """Turn a TOML value or an environment string into the field's type, or say why not."""
    if hint is bool:
        if isinstance(raw, bool):
            return raw
        text = str(raw).strip().lower()
        if text in {"1", "true", "yes", "on"}:
            return True
        if text in {"0", "false", "no", "off"}:
            return False
        raise SettingsError(f"{label}: expected true or false, got {raw!r}")
    if hint is int:
        if isinstance(raw, int) and not isinstance(raw, bool):
            return raw
        try:
            return int(str(raw).strip())
        except ValueError:
            raise SettingsError(f"{label}: expected a whole number, got {raw!r}") from None
    if hint is Path:
        return Path(str(raw))
    if hint is str:
        if not isinstance(raw, str):
            raise SettingsError(f"{label}: expected text, got {raw!r}")
        return raw
    if typing.get_origin(hint) is list:
        if isinstance(raw, str):
            raw = [part.strip() for part in raw.split(",") if part.strip()]
        if not isinstance(raw, list) or not all(isinstance(item, str) for item in raw):
            raise SettingsError(f"{label}: expected a list of text, got {raw!r}")
        return raw
    raise SettingsError(f"{label}: unsupported setting type {hint!r}")


def _check(settings: Settings) -> None:
    """Values that parse but cannot work."""
    try:
        ZoneInfo(settings.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise SettingsError(
            f"TELECARE_TIMEZONE: expected an IANA time zone such as Europe/Rome, "
            f"got {settings.timezone!r}"
        ) from None
    if not settings.public_url.startswith(("http://", "https://")):
        raise SettingsError(
            f"TELECARE_PUBLIC_URL: expected an http:// or https:// URL, got {settings.public_url!r}"
        )
    mqtt = settings.mqtt.url
    if mqtt != "embedded" and not mqtt.startswith(("mqtt://", "mqtts://")):
        raise SettingsError(
            f"TELECARE_MQTT_URL: expected 'embedded', mqtt://... or mqtts://..., got {mqtt!r}"
        )
    if settings.enrolment.minimum_age < 0 or settings.enrolment.minimum_age > 120:
        raise SettingsError(
            "TELECARE_ENROLMENT_MINIMUM_AGE: expected an age between 0 and 120, "
            f"got {settings.enrolment.minimum_age}"
        )
    if not settings.enrolment.languages:
        raise SettingsError("TELECARE_ENROLMENT_LANGUAGES: expected at least one language")
    if not 0 <= settings.web.trusted_proxies <= 5:
        raise SettingsError("TELECARE_WEB_TRUSTED_PROXIES: expected 0 to 5 reverse proxies, "
                            f"got {settings.web.trusted_proxies}")
    if settings.telephony.calls_per_second < 1:
        raise SettingsError("TELECARE_TELEPHONY_CALLS_PER_SECOND: expected at least 1, "
                            f"got {settings.telephony.calls_per_second}")
    for name in ("quiet_start", "quiet_end"):
        value = getattr(settings.campaigns, name)
        if not _is_clock_time(value):
            raise SettingsError(f"TELECARE_CAMPAIGNS_{name.upper()}: expected a time such as "
                                f"20:00, got {value!r}")
    for name in ("quiet_start", "quiet_end"):
        value = getattr(settings.alerts, name)
        if not _is_clock_time(value):
            raise SettingsError(f"TELECARE_ALERTS_{name.upper()}: expected a time such as "
                                f"21:00, got {value!r}")
    if settings.alerts.sweep_interval_ms < 10 or settings.alerts.senders < 1:
        raise SettingsError("TELECARE_ALERTS_SWEEP_INTERVAL_MS / TELECARE_ALERTS_SENDERS: expected "
                            "at least 10 ms and at least one sender")
    if not 0 < settings.web.port < 65536:
        raise SettingsError(f"TELECARE_WEB_PORT: expected a port number, got {settings.web.port}")
    _check_devices(settings.devices)
    _check_calls(settings.calls)
    _check_privacy(settings.privacy)


HOLIDAY_RULES = ("keep", "next_day", "previous_day")


def _check_calls(calls: CallsSettings) -> None:
    for name in ("day_start", "day_end", "reassurance_time", "birthday_time"):
        value = getattr(calls, name)
        if not _is_clock_time(value):
            raise SettingsError(f"TELECARE_CALLS_{name.upper()}: expected a time such as "
                                f"09:00, got {value!r}")
    if calls.day_start >= calls.day_end:
        raise SettingsError(f"TELECARE_CALLS_DAY_END: expected a time after day_start "
                            f"({calls.day_start}), got {calls.day_end!r}")
    if not 1 <= calls.max_attempts <= 10:
        raise SettingsError(f"TELECARE_CALLS_MAX_ATTEMPTS: expected 1 to 10, "
                            f"got {calls.max_attempts}")
    if any(not m.isdigit() or int(m) < 1 for m in calls.retry_minutes) or \
            len(calls.retry_minutes) < calls.max_attempts - 1:
        raise SettingsError(
            f"TELECARE_CALLS_RETRY_MINUTES: expected {calls.max_attempts - 1} whole numbers of "
            f"minutes (one per retry), got {calls.retry_minutes!r}")
    if calls.holiday_rule not in HOLIDAY_RULES:
        raise SettingsError(f"TELECARE_CALLS_HOLIDAY_RULE: expected one of "
                            f"{', '.join(HOLIDAY_RULES)}, got {calls.holiday_rule!r}")
    for name in ("automated_per_hour", "operator_per_hour", "sweep_interval_s", "plan_days",
                 "button_check_s", "lease_minutes"):
        if getattr(calls, name) < 1:
            raise SettingsError(f"TELECARE_CALLS_{name.upper()}: expected at least 1, "
                                f"got {getattr(calls, name)}")


def _check_devices(devices: DevicesSettings) -> None:
    if devices.grace_s < 0:
        raise SettingsError(f"TELECARE_DEVICES_GRACE_S: expected 0 or more seconds, "
                            f"got {devices.grace_s}")
    if not 0 <= devices.low_battery_percent < devices.battery_recovered_percent <= 100:
        raise SettingsError(
            "TELECARE_DEVICES_BATTERY_RECOVERED_PERCENT: expected a level above "
            f"TELECARE_DEVICES_LOW_BATTERY_PERCENT ({devices.low_battery_percent}) and at most "
            f"100, got {devices.battery_recovered_percent}")
    for name in ("heartbeat_flush_ms", "watchdog_interval_ms", "max_payload_bytes"):
        if getattr(devices, name) < 1:
            raise SettingsError(f"TELECARE_DEVICES_{name.upper()}: expected at least 1, "
                                f"got {getattr(devices, name)}")


def _is_clock_time(text: str) -> bool:
    hours, _, minutes = text.partition(":")
    return (hours.isdigit() and minutes.isdigit() and len(minutes) == 2
            and 0 <= int(hours) < 24 and 0 <= int(minutes) < 60)


# At least a month, so an enrolment ended by mistake is noticed before anything is erased; at
# most ten years, Italy's ordinary limitation period (art. 2946 c.c.): no claim outlives it.
RETENTION_DAYS = (30, 3653)


def _check_privacy(privacy: PrivacySettings) -> None:
    low, high = RETENTION_DAYS
    if not low <= privacy.retention_days <= high:
        raise SettingsError(f"TELECARE_PRIVACY_RETENTION_DAYS: expected {low} to {high} days, "
                            f"got {privacy.retention_days}")
    if not _is_clock_time(privacy.erase_at):
        raise SettingsError(f"TELECARE_PRIVACY_ERASE_AT: expected a time such as 03:30, "
                            f"got {privacy.erase_at!r}")


@dataclass(frozen=True)
class LogSettings:
    """How every `telecare` command logs (telecare.logs reads it)."""

    # "text": one readable line per record; "json": one JSON object per line, for a log
    # shipper (journald, Loki, Elasticsearch) to index without parsing prose.
    format: str = "text"
    # The root level: DEBUG, INFO, WARNING, ERROR.
    level: str = "INFO"


@dataclass(frozen=True)
class ServiceSettings:
    """The service watching itself: each running part's beat, and when silence is a stall."""

    # How often each running part (bridge, escalation engine, planned calls, campaign sweep)
    # records in the database that it is alive and making progress.
    beat_interval_s: int = 5
    # A part whose latest beat is older than this is stale: /healthz answers 503 and the
    # self-watch opens a service_stalled alarm for the supervisor.
    stale_after_s: int = 60
    # How often each `telecare serve` process looks at the others' beats.
    watch_interval_s: int = 60
