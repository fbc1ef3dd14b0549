"""The README's run command, seen by an operator: `telecare demo`, then Chromium.

The demo runs as its own process tree, as `make run` starts it, on a free port with a fresh
data folder; nothing in it is a test double but the city it simulates. The operator logs in
with the login the banner prints, watches the queue until a pendant's alarm arrives without
reloading, takes charge of it, resolves it; the database then holds it resolved, with its
ladder stopped at the acknowledgement.
"""

from __future__ import annotations

import re
import signal
import sqlite3
import time

import pytest

from tests.test_demo import demo, wait_until  # noqa: F401 (the fixture)

NOT_FINAL = ("pending", "sending", "sent")


def banner_login(output: str) -> tuple[str, str]:
    found = re.search(r"operator's login: (\S+), password (\S+)", output)
    assert found, output
    return found.group(1), found.group(2)


def next_alarm_arriving_live(page, known: list[int]) -> int:
    """Wait on the open queue for a new pendant alarm; it must come without a reload."""
    live = page.locator("#live-status").get_attribute("data-live")
    page.wait_for_function("t => document.getElementById('live-status').textContent === t",
                           arg=live)
    page.evaluate("window.sameDocument = true")  # gone if anything reloads the page
    known += [int(i) for i in page.locator(".alarm-row").evaluate_all(
        "rows => rows.map(r => r.dataset.alarmId)")]
    alarm_id = page.wait_for_function(
        """known => {
            const row = [...document.querySelectorAll('.alarm-row')].find(r =>
                !known.includes(Number(r.dataset.alarmId)) &&
                r.textContent.includes('Pulsante premuto') && r.classList.contains('alarm-open'));
            return row ? Number(row.dataset.alarmId) : null;
        }""", arg=known, timeout=120_000, polling=250).json_value()
    assert page.evaluate("window.sameDocument === true"), "the alarm came without a reload"
    known.append(alarm_id)
    return alarm_id


@pytest.mark.own_sqlite
def test_an_operator_sees_a_demo_alarm_arrive_live_takes_charge_and_resolves_it(demo, page):  # noqa: F811
    demo.start().wait_until_serving()
    username, password = banner_login(demo.output)
    script_errors: list[str] = []
    page.on("pageerror", lambda error: script_errors.append(str(error)))

    page.goto(demo.url + "/alarms")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.press("input[name=password]", "Enter")
    page.wait_for_url("**/alarms")
    # A pendant pressed somewhere in the city: the demo's first press comes within seconds.
    # The demo's people answer the call-back too, and one who presses 1 takes charge before
    # the operator can (the page then says the alarm is already acknowledged): the operator
    # goes back to the queue and takes the next one.
    known: list[int] = []
    for _attempt in range(4):
        alarm_id = next_alarm_arriving_live(page, known)
        page.locator(f".alarm-row[data-alarm-id='{alarm_id}'] a.alarm-link").click()
        page.wait_for_url(f"**/alarms/{alarm_id}")
        with page.expect_navigation():
            page.locator("form[data-shortcut='a'] button[type=submit]").click()
        answer = page.locator(".flashes, .error-summary").first
        if "Hai preso in carico" in answer.inner_text():
            break
        # Taken charge of (or already closed) by someone else first: "l'allarme è già ...".
        assert "l'allarme è già" in answer.inner_text(), answer.inner_text()
        page.goto(demo.url + "/alarms")
    else:
        raise AssertionError("the demo's people took charge of every alarm before the operator")

    page.select_option("#outcome", "false_alarm")
    page.fill("#resolution", "Premuto per sbaglio: la signora sta bene, richiamata da noi.")
    page.locator(f"form[action$='/alarms/{alarm_id}/resolve'] button[type=submit]").click()
    page.locator(".flashes", has_text="Allarme risolto").wait_for()
    assert script_errors == []

    def database(sql: str, *params):
        with sqlite3.connect(demo.data_dir / "telecare.db", timeout=10) as connection:
            return connection.execute(sql, params).fetchall()

    [(state, outcome, via, operator, acknowledged_at)] = database(
        "SELECT alarm.state, alarm.outcome, alarm.acknowledged_via, app_user.username, "
        "alarm.acknowledged_at FROM alarm JOIN app_user ON app_user.id = "
        "alarm.acknowledged_by_id WHERE alarm.id = ?", alarm_id)
    assert (state, outcome, via, operator) == ("resolved", "false_alarm", "console", username)
    # The ladder stopped at the acknowledgement: nothing decided after it, and whatever was
    # already under way (a call ringing) has come to its end, none left to place.
    assert database("SELECT count(*) FROM alarm_notification WHERE alarm_id = ? AND "
                    "created_at > ?", alarm_id, acknowledged_at) == [(0,)]
    wait_until(lambda: database(
        f"SELECT count(*) FROM alarm_notification WHERE alarm_id = ? AND state IN "
        f"({', '.join('?' * len(NOT_FINAL))})", alarm_id, *NOT_FINAL) == [(0,)],
        60, "the alarm's calls and texts to be over")

    # Ctrl-C with the queue still open in the browser: its live stream ends with the demo.
    stopping = time.monotonic()
    demo.assert_stopped_cleanly(demo.stop(signal.SIGINT, whole_tree=True))
    print(f"the demo stopped in {time.monotonic() - stopping:.1f} s")
