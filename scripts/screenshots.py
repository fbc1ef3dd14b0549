"""Screenshots of the console for docs/console-tour.md, taken from a running `telecare demo`.

    .venv/bin/python scripts/screenshots.py [--output docs/screenshots]

Starts `telecare demo` on a free port with a temporary data folder (as the browser test
does), waits until it serves and the first pendant alarm has arrived, then drives Debian's
Chromium with Playwright (no browser is downloaded) at a 1280x800 viewport in Italian, the
console's default language, signing in as the demo's users. At the end it stops the demo
as a terminal's Ctrl-C does (SIGINT to its process group) and waits for it.

Everything shown is the demo's own doing or done through the console, as a person would:

- the alarm is one of the demo's pendant alarms (usually its first press), which the
  operator takes charge of within seconds;
- the demo's weekly calls are all automated, so none waits for an operator. To show the
  operators' worklist with a call on it, the social worker moves one person's weekly call
  to today, in the current hour, made by an operator (the enrollee form), and the week is
  then planned again with the project's own `telecare calls plan` on the demo's data, with
  the demo's calling day (00:00 to 23:59), as the demo's scheduler does every hour.
  The script itself writes nothing to the database;
- the import page shows the report of a small file (the sample of docs/import-format.md
  and one row with mistakes), uploaded by the social worker;
- the warnings page lists a scam warning the operator reports through the console
  (Legnano and its neighbours); outside the quiet hours the demo's people hear it. The
  person whose call the operator opens is from Legnano when one fits, so the call's script
  reads that warning among the week's news.

Date and time fields are drawn by Chromium in its own language, not the page's: the script
starts it in Italian (LANGUAGE=it), which takes Debian's chromium-l10n package; without it
those fields show the American format (07/25/1942).
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from datetime import datetime
from pathlib import Path

from telecare.commands.demo import DEMO_PASSWORD, DEMO_USERS
from telecare.models import Role
from telecare.settings import load_settings

ROOT = Path(__file__).resolve().parent.parent

VIEWPORT = {"width": 1280, "height": 800}
LOCALE = "it-IT"
CHROMIUM_FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run"]
USERS = {role: username for username, _name, role in DEMO_USERS}
# How long to wait for what the demo does by itself (seconds from its start).
SERVING_TIMEOUT = 180
ALARM_TIMEOUT = 180
CHECKS_BY = 330  # a weekly call that flagged a button: the 30 calls ring over 3 minutes
OFFLINE_BY = 300  # the pendant lost at 45 s: offline after its period and the grace
# An alarm's detail is captured once it has waited this long, inside the ladder's first step
# (the operators' queue, 30 s): after it the person is called, and most demo people press 1
# at once, which takes charge of the alarm before the operator can.
ALARM_AGE_S = 12
# A scam warning for a town of the seeded city away from Milan (its neighbours are few).
SCAM_MUNICIPALITY = "015118"  # Legnano
# Where to look for the person whose weekly call the operator makes: Legnano first, so
# that the call's script reads the scam warning.
CALL_TOWNS = ("Legnano", "Milano")
SCAM_MESSAGE = ("Attenzione: a Legnano e nei comuni vicini falsi tecnici del gas suonano alla "
                "porta e chiedono di entrare per un controllo. Non apra a nessuno senza "
                "appuntamento. Se ha un dubbio, prema il pulsante di allarme o chiami il "
                "servizio.")
# Appended to the sample file of docs/import-format.md: a row with mistakes (a codice fiscale
# that is the row above's and disagrees with the birth date, a municipality that does not
# exist, a landline too short).
BAD_ROW = ("Carla,Neri,F,03/07/1941,RSSMRA41C47F205N,it,Via Cenisio 5,20154,,999999,si,,,"
           "01/11/2026,02 12,,,,,,,,")


class Shots:
    """Where the PNGs go, and what was written."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.folder.mkdir(parents=True, exist_ok=True)
        self.taken: list[tuple[str, int]] = []

    def take(self, page, name: str, *, clip=None, full_page=False) -> None:
        """The viewport, the whole page, or a rectangle of the page (`clip`)."""
        path = self.folder / f"{name}.png"
        page.screenshot(path=path, clip=clip, full_page=full_page or clip is not None,
                        animations="disabled")
        size = path.stat().st_size
        self.taken.append((path.name, size))
        print(f"  {path.name}: {size // 1024} KB", flush=True)


class Demo:
    """`telecare demo` as its own process group, on a free port, with a data folder of its
    own and nothing else of this environment's TELECARE_ settings."""

    def __init__(self, data_dir: Path):
        self.data_dir = data_dir
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.environ = {k: v for k, v in os.environ.items() if not k.startswith("TELECARE_")}
        self.environ |= {"TELECARE_DATA_DIR": str(data_dir), "TELECARE_WEB_PORT": str(self.port)}
        self.log = data_dir.parent / "demo.log"
        self.process: subprocess.Popen | None = None
        self.started = 0.0

    def start(self) -> Demo:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        with self.log.open("w") as output:
            self.process = subprocess.Popen(
                [*telecare_command(), "demo"], env=self.environ, stdout=output,
                stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)
        self.started = time.monotonic()
        return self

    def elapsed(self) -> float:
        return time.monotonic() - self.started

    def output(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")

    def wait_until_serving(self) -> None:
        def healthy() -> bool:
            try:
                with urllib.request.urlopen(f"{self.url}/healthz", timeout=2) as answer:
                    return answer.status == 200
            except (urllib.error.URLError, OSError):
                return False

        deadline = time.monotonic() + SERVING_TIMEOUT
        while not healthy():
            if self.process.poll() is not None:
                raise SystemExit(f"the demo exited ({self.process.returncode}):\n"
                                 f"{self.output()[-3000:]}")
            if time.monotonic() > deadline:
                raise SystemExit(f"the demo did not serve within {SERVING_TIMEOUT} s")
            time.sleep(0.5)

    def run_command(self, *args: str, extra_env: dict | None = None) -> str:
        """A `telecare` command on the demo's data, while the demo runs."""
        done = subprocess.run([*telecare_command(), *args], env=self.environ | (extra_env or {}),
                              capture_output=True, text=True, timeout=120, check=False)
        if done.returncode != 0:
            raise SystemExit(f"telecare {' '.join(args)} failed ({done.returncode}):\n"
                             f"{done.stdout}{done.stderr}")
        return done.stdout

    def stop(self) -> int:
        """Ctrl-C as a terminal sends it: SIGINT to the whole process group, then wait for
        the demo and for every process of its group (its Mosquitto included)."""
        if self.process is None:
            return 0
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGINT)
            try:
                self.process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)
                raise SystemExit("the demo did not stop on SIGINT within 60 s: killed") from None
        deadline = time.monotonic() + 15
        while self.group_alive() and time.monotonic() < deadline:
            time.sleep(0.25)
        if self.group_alive():
            print("warning: processes of the demo's group are still running", flush=True)
        return self.process.returncode

    def group_alive(self) -> bool:
        try:
            os.killpg(self.process.pid, 0)
        except ProcessLookupError:
            return False
        return True


def chromium_speaks_italian() -> bool:
    """Debian's chromium-l10n is installed: Chromium's own Italian, for date fields."""
    try:
        return subprocess.run(["dpkg-query", "-W", "chromium-l10n"], capture_output=True,
                              check=False).returncode == 0
    except OSError:
        return False


def telecare_command() -> list[str]:
    script = Path(sys.executable).with_name("telecare")
    return [str(script)] if script.exists() else [sys.executable, "-m", "telecare.cli"]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def sign_in(browser, url: str, role: Role):
    context = browser.new_context(locale=LOCALE, viewport=VIEWPORT)
    page = context.new_page()
    page.goto(f"{url}/login")
    page.fill("input[name=username]", USERS[role])
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.press("input[name=password]", "Enter")
    page.wait_for_url(lambda address: "/login" not in address)
    return page


def settle(page) -> None:
    """Fonts and layout done, the pointer out of the way, nothing focused."""
    if "/alarms" not in page.url:  # the queue's live stream never lets the network idle
        page.wait_for_load_state("networkidle")
    page.evaluate("document.fonts.ready")
    page.mouse.move(0, VIEWPORT["height"] - 1)
    page.evaluate("document.activeElement && document.activeElement.blur()")
    page.wait_for_timeout(300)


def region(page, first: str, last: str, margin: int = 12) -> dict:
    """The page's rectangle from the top of `first` to the bottom of `last`, the width of
    the wider of the two, for a screenshot of part of a long page."""
    top = page.locator(first).bounding_box()
    bottom = page.locator(last).bounding_box()
    scroll = page.evaluate("({x: window.scrollX, y: window.scrollY})")
    x = min(top["x"], bottom["x"]) - margin
    y = top["y"] + scroll["y"] - margin
    right = max(top["x"] + top["width"], bottom["x"] + bottom["width"]) + margin
    return {"x": max(0, x + scroll["x"]), "y": max(0, y),
            "width": right - x, "height": bottom["y"] + bottom["height"] - top["y"] + 2 * margin}


def down_to(page, last: str, margin: int = 16) -> dict:
    """The page's full width from its top to the bottom of `last`."""
    box = page.locator(last).bounding_box()
    bottom = box["y"] + box["height"] + page.evaluate("window.scrollY") + margin
    return {"x": 0, "y": 0, "width": VIEWPORT["width"], "height": bottom}


# --- the operator: an alarm ------------------------------------------------------------------

NEW_PRESS = """known => {
    const row = [...document.querySelectorAll('.alarm-row')].find(r =>
        !known.includes(r.dataset.alarmId) && r.classList.contains('alarm-open') &&
        (r.textContent.includes('Pulsante premuto') || r.textContent.includes('Caduta')));
    return row ? row.dataset.alarmId : null;
}"""


def alarm(page, demo: Demo, shots: Shots) -> None:
    """The queue as the first pendant alarm arrives, its detail, and the same alarm once the
    operator has taken charge. An alarm somebody else takes charge of first (the person
    or a contact pressing 1 on the ladder's calls) is left for the next."""
    page.goto(f"{demo.url}/alarms")
    live = page.locator("#live-status").get_attribute("data-live")
    page.wait_for_function("t => document.getElementById('live-status').textContent === t",
                           arg=live)
    known: list[str] = []
    while True:
        left = max(5.0, ALARM_TIMEOUT - demo.elapsed()) if not known else 240.0
        alarm_id = page.wait_for_function(NEW_PRESS, arg=known, timeout=left * 1000,
                                          polling=250).json_value()
        arrived = time.monotonic()
        print(f"alarm {alarm_id} arrived {demo.elapsed():.0f} s after the demo started",
              flush=True)
        page.locator(f".alarm-row[data-alarm-id='{alarm_id}'] a.alarm-link").click()
        page.locator(f"#alarm-detail[data-alarm-id='{alarm_id}']").wait_for()
        take_charge = page.locator("#alarm-detail form[data-shortcut='a'] button")
        while time.monotonic() - arrived < ALARM_AGE_S and take_charge.count():
            page.wait_for_timeout(500)
        if take_charge.count():
            break
        print(f"alarm {alarm_id} was taken charge of by someone else; waiting for the next",
              flush=True)
        known.append(alarm_id)
    settle(page)
    shots.take(page, "alarm-queue")
    shots.take(page, "alarm-detail", clip=region(page, "#alarm-detail .card-grid",
                                                 "#timeline-h >> xpath=.."))
    take_charge.click()
    page.wait_for_url(f"**/alarms/{alarm_id}")
    page.locator(".flashes").wait_for()
    settle(page)
    shots.take(page, "alarm-taken-charge")
    shots.take(page, "alarm-taken-charge-ladder",
               clip=region(page, "#ladder-h >> xpath=..", "#timeline-h >> xpath=.."))


# --- the social worker: a card, the form, an import --------------------------------------------

def pick_person(page, url: str, weekday: int) -> str:
    """Someone speaking Italian, with two contacts, whose weekly call is not today: their
    weekly call can then move to today without clashing with a call already planned."""
    for town in CALL_TOWNS:
        page.goto(f"{url}/enrollees?q={town}")
        links = page.locator("table.list tbody a").evaluate_all(
            "links => links.map(a => a.getAttribute('href'))")
        for href in links:
            page.goto(url + href)
            if page.locator(".contact").count() < 2:
                continue
            page.goto(f"{url}{href}/edit")
            if (page.input_value("#language") == "it"
                    and page.input_value("#call_weekday") not in ("", str(weekday))):
                return href
    raise SystemExit(f"nobody in {' or '.join(CALL_TOWNS)} speaks Italian, has two contacts "
                     "and a weekly call on another day")


def social_worker(page, demo: Demo, shots: Shots, now: datetime) -> str:
    """The enrollee form and card; the weekly call moved to an operator, today. Returns the
    person's name."""
    href = pick_person(page, demo.url, now.weekday())
    page.goto(f"{demo.url}{href}/edit")
    name = f'{page.input_value("#last_name")} {page.input_value("#first_name")}'
    settle(page)
    shots.take(page, "enrollee-form")
    # Today, in the current hour, by an operator: the call is due as soon as it is planned.
    start = f"{now.hour:02d}:00"
    end = f"{now.hour + 1:02d}:00" if now.hour < 23 else "23:59"
    page.select_option("#call_weekday", str(now.weekday()))
    page.fill("#call_window_start", start)
    page.fill("#call_window_end", end)
    page.select_option("#call_mode", "operator")
    page.locator("form.record button[type=submit]").click()
    page.locator(".flashes").wait_for()
    print(f"{name}: weekly call moved to today {start}-{end}, made by an operator", flush=True)
    page.goto(demo.url + href)  # the card as it opens, without the "saved" message
    settle(page)
    shots.take(page, "enrollee-card", full_page=True)
    return name


def import_sample() -> str:
    """The sample file of docs/import-format.md, and BAD_ROW."""
    text = (ROOT / "docs" / "import-format.md").read_text(encoding="utf-8")
    sample = text.split("```csv\n", 1)[1].split("```", 1)[0]
    return sample + BAD_ROW + "\n"


def import_file(page, demo: Demo, shots: Shots, folder: Path) -> None:
    sample = folder / "iscritti.csv"
    sample.write_text(import_sample(), encoding="utf-8")
    page.goto(f"{demo.url}/import")
    page.set_input_files("#file", str(sample))
    page.locator("form[enctype] button[type=submit]").click()
    page.locator("#report-h").wait_for()
    page.locator("details.columns").evaluate("d => d.open = false")
    page.locator("#report-h").scroll_into_view_if_needed()
    settle(page)
    shots.take(page, "import", full_page=True)


# --- the operator: warnings, the worklist, a call, devices ----------------------------------

def report_scam(page, demo: Demo, shots: Shots) -> None:
    page.goto(f"{demo.url}/campaigns/scam/new")
    page.fill("#municipality", SCAM_MUNICIPALITY)
    page.select_option("#scam_kind", "fake_utility_worker")
    page.fill("#message_it", SCAM_MESSAGE)
    page.locator("button[name=action][value=preview]").click()
    send = page.locator("button[name=action][value=send]")
    send.wait_for()
    settle(page)
    shots.take(page, "warning-preview", full_page=True)  # the send button at the bottom
    send.click()
    page.locator(".flashes").wait_for()
    page.goto(f"{demo.url}/campaigns")
    settle(page)
    shots.take(page, "warnings")


def worklist(page, demo: Demo, shots: Shots, person: str) -> None:
    """The worklist once the operator's call is on it and the demo's weekly calls have
    flagged a button to check (if one does in time), then the call opened."""
    while True:
        page.goto(f"{demo.url}/calls")
        on_list = page.locator(".call-row", has_text=person).count()
        checks = page.locator(".check-row").count()
        if on_list and (checks or demo.elapsed() > CHECKS_BY):
            break
        if not on_list and demo.elapsed() > CHECKS_BY:
            raise SystemExit(f"{person}'s call is not on the worklist")
        page.wait_for_timeout(5000)
    settle(page)
    shots.take(page, "calls-worklist", full_page=True)  # the buttons to check included
    print(f"{checks or 'no'} alarm button(s) to check on the worklist", flush=True)
    page.locator("#open-next").click()
    page.locator("#script").wait_for()
    settle(page)
    shots.take(page, "call")
    shots.take(page, "call-script", clip=region(page, "#script", "#outcome"))


def devices(page, demo: Demo, shots: Shots) -> None:
    """The devices, once the pendant the demo loses has been missed (offline first)."""
    while True:
        page.goto(f"{demo.url}/devices?show=offline")
        if page.locator("table.list tbody tr").count() or demo.elapsed() > OFFLINE_BY:
            break
        page.wait_for_timeout(5000)
    page.goto(f"{demo.url}/devices")
    settle(page)
    shots.take(page, "devices")


# --- the supervisor ----------------------------------------------------------------------------

def answer_times(page, demo: Demo, shots: Shots) -> None:
    page.goto(f"{demo.url}/kpi")
    settle(page)
    # The figures, the chart and the table by who took charge; the table by day is long.
    shots.take(page, "answer-times", clip=down_to(page, "#who-h >> xpath=..", margin=4))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", type=Path, default=ROOT / "docs" / "screenshots",
                        help="folder for the PNG files (default: docs/screenshots)")
    args = parser.parse_args()
    chromium = shutil.which("chromium")
    if chromium is None:
        raise SystemExit("Debian's chromium is not installed (apt-get install chromium)")
    if not chromium_speaks_italian():
        print("warning: Chromium has no Italian (Debian's chromium-l10n): date and time "
              "fields will show the American format", flush=True)
    from playwright.sync_api import sync_playwright

    shots = Shots(args.output)
    with tempfile.TemporaryDirectory(prefix="telecare-screenshots-") as folder:
        demo = Demo(Path(folder) / "var").start()
        zone = load_settings(demo.environ).zone
        print(f"telecare demo on {demo.url}, data in a temporary folder", flush=True)
        try:
            demo.wait_until_serving()
            print(f"serving after {demo.elapsed():.0f} s", flush=True)
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(
                    executable_path=chromium, args=CHROMIUM_FLAGS,
                    env={**os.environ, "LANGUAGE": "it"})
                operator = sign_in(browser, demo.url, Role.OPERATOR)
                alarm(operator, demo, shots)
                report_scam(operator, demo, shots)

                social = sign_in(browser, demo.url, Role.SOCIAL_WORKER)
                person = social_worker(social, demo, shots, datetime.now(zone))
                import_file(social, demo, shots, Path(folder))
                # The week planned again, as the demo's scheduler does every hour, with the
                # demo's calling day: the operator's call of today is made.
                planned = demo.run_command(
                    "calls", "plan", "--days", "1",
                    extra_env={"TELECARE_CALLS_DAY_START": "00:00",
                               "TELECARE_CALLS_DAY_END": "23:59"})
                print("telecare calls plan --days 1: " + next(
                    (line for line in planned.splitlines() if line.startswith("created")),
                    planned.strip().splitlines()[-1]), flush=True)

                supervisor = sign_in(browser, demo.url, Role.SUPERVISOR)
                answer_times(supervisor, demo, shots)

                worklist(operator, demo, shots, person)
                devices(operator, demo, shots)
                browser.close()
        except BaseException:
            print(f"the demo's output, last lines:\n{demo.output()[-3000:]}", file=sys.stderr)
            raise
        finally:
            returncode = demo.stop()
            stopped = "Telecare demo stopped." in demo.output()
            print(f"demo stopped (exit status {returncode}"
                  f"{'' if stopped else ', without its closing line'})", flush=True)
    total = sum(size for _name, size in shots.taken)
    print(f"{len(shots.taken)} screenshots, {total // 1024} KB in all, in {args.output}")
    return 0 if returncode == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
