"""The scheduler's daily erasure, and the [privacy] settings."""

from __future__ import annotations

import pytest

from telecare.commands.privacy import privacy_running
from telecare.models import Enrollee
from telecare.runtime import Runtime
from telecare.settings import SettingsError, load_settings
from tests.privacy.conftest import due_day


class Clock:
    def __init__(self, at):
        self.at = at

    def now(self):
        return self.at


def test_it_runs_the_erasure_daily_at_the_configured_local_time(session, session_factory,
                                                                settings, ermenegilda):
    runtime = Runtime(settings, Clock(due_day(settings)))
    runtime.sessions = session_factory
    with privacy_running(runtime) as scheduler:
        [job] = scheduler.get_jobs()
        fields = {f.name: str(f) for f in job.trigger.fields}
        assert (job.id, fields["hour"], fields["minute"]) == ("privacy-erase-due", "3", "30")
        assert str(job.trigger.timezone) == "Europe/Rome"
        assert (job.coalesce, job.max_instances) == (True, 1)
        job.func()  # what the scheduler runs at 03:30
    session.expire_all()
    assert session.get(Enrollee, ermenegilda.enrollee_id).erased_at == due_day(settings)


def test_it_reads_the_privacy_settings():
    defaults = load_settings({})
    assert (defaults.privacy.retention_days, defaults.privacy.erase_at) == (365, "03:30")
    changed = load_settings({"TELECARE_PRIVACY_RETENTION_DAYS": "730",
                             "TELECARE_PRIVACY_ERASE_AT": "02:15"})
    assert (changed.privacy.retention_days, changed.privacy.erase_at) == (730, "02:15")


@pytest.mark.parametrize(("environ", "message"), [
    ({"TELECARE_PRIVACY_RETENTION_DAYS": "a year"},
     "TELECARE_PRIVACY_RETENTION_DAYS: expected a whole number, got 'a year'"),
    ({"TELECARE_PRIVACY_RETENTION_DAYS": "7"},
     "TELECARE_PRIVACY_RETENTION_DAYS: expected 30 to 3653 days, got 7"),
    ({"TELECARE_PRIVACY_RETENTION_DAYS": "5000"},
     "TELECARE_PRIVACY_RETENTION_DAYS: expected 30 to 3653 days, got 5000"),
    ({"TELECARE_PRIVACY_ERASE_AT": "3am"},
     "TELECARE_PRIVACY_ERASE_AT: expected a time such as 03:30, got '3am'"),
])
def test_it_names_a_bad_privacy_setting(environ, message):
    with pytest.raises(SettingsError) as raised:
        load_settings(environ)
    assert str(raised.value) == message
