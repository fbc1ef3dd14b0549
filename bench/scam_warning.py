"""Benchmark: a scam warning to 10,000 people through the Twilio stand-in, over real HTTP.

    .venv/bin/python bench/scam_warning.py [--people 10000] [--cps 50] [--database-url URL]

The warning is sent at 23:00 (nobody may be phoned: all deferred to 09:00), then the sweep
runs at 09:00 until every delivery has its outcome. Most people press 1; one in ten does not
answer, one in twenty has voicemail (both retried once). It prints the time taken, the
calls placed per second against the configured limit (the baseline), the busiest second as
the stand-in saw it, and the delivery report, and checks that everyone was called once (twice
for the retried) and that the report adds up. Exit status 1 if a check fails.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import threading
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import waitress
from sqlalchemy import func, select, update

from campaigns.delivery import delivery_report
from campaigns.geography import shipped_neighbours
from campaigns.phone import TelephonySender
from campaigns.scams import read_scam_report, send_scam_warning
from campaigns.sweep import tick
from telecare.actor import Actor
from telecare.db import session_scope
from telecare.enrolment.seed import seed_enrollees
from telecare.migrate import recreate
from telecare.models import CallAttempt, Campaign, CampaignState, Enrollee, EnrolleePhone
from telecare.runtime import Runtime
from telecare.settings import (
    CampaignSettings,
    DatabaseSettings,
    Settings,
    TelephonySettings,
    TwilioSettings,
    WebSettings,
)
from telecare.telephony.calls import Dialer
from telecare.telephony.ratelimit import TokenBucket
from telecare.telephony.sms import Messenger
from telecare.telephony.twilio_adapter import TwilioTelephony
from telecare.twilio_sim import TwilioSim
from web import create_app

ROME = ZoneInfo("Europe/Rome")
NIGHT = datetime(2026, 11, 24, 23, 0, tzinfo=ROME).astimezone(UTC)
MORNING = datetime(2026, 11, 25, 9, 0, tzinfo=ROME).astimezone(UTC)
ACCOUNT_SID = "AC" + "0123456789abcdef" * 2
TOKEN = "bench-token"


class Clock:
    def __init__(self, at):
        self.at = at

    def now(self):
        return self.at


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=10_000)
    parser.add_argument("--cps", type=int, default=50, help="calls per second allowed")
    parser.add_argument("--database-url")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="telecare-bench-") as folder:
        url = args.database_url or f"sqlite:///{Path(folder) / 'bench.db'}"
        return run(url, args)


def run(url: str, args) -> int:
    recreate(url)
    clock = Clock(NIGHT)
    runtime = Runtime(Settings(database=DatabaseSettings(url=url),
                               web=WebSettings(secret_key="bench")), clock)
    seed_enrollees(runtime.sessions, args.people, Actor("bench"), NIGHT,
                   runtime.settings.enrolment, seed=7, contacts=0)
    with session_scope(runtime.sessions) as session:
        # Everyone in Bresso, each with one number of their own for the stand-in to play.
        session.execute(update(Enrollee).values(municipality_istat="015032"))
        for position, (phone_id,) in enumerate(session.execute(
                select(EnrolleePhone.id).order_by(EnrolleePhone.id))):
            session.execute(update(EnrolleePhone).where(EnrolleePhone.id == phone_id)
                            .values(number=f"+39026{position:07d}", position=position % 2))
        numbers = [n for (n,) in session.execute(select(EnrolleePhone.number).where(
            EnrolleePhone.position == 0))]
    server = waitress.create_server(create_app(runtime), host="127.0.0.1", port=0, threads=16)
    public_url = f"http://127.0.0.1:{server.effective_port}"
    sim = TwilioSim(ACCOUNT_SID, TOKEN, press_wait=5.0, default_keys=["1"]).start()
    runtime.settings = runtime.settings.replace(
        public_url=public_url, telephony=TelephonySettings(calls_per_second=args.cps),
        twilio=TwilioSettings(account_sid=ACCOUNT_SID, auth_token=TOKEN, from_="+390200000000",
                              api_url=sim.url))
    threading.Thread(target=server.run, daemon=True).start()
    for index, number in enumerate(numbers):
        if index % 10 == 3:
            sim.person(number, "no_answer")
        elif index % 20 == 7:
            sim.person(number, "voicemail")
    telephony = TwilioTelephony(runtime.settings, bucket=TokenBucket(args.cps))
    sender = TelephonySender(Dialer(runtime.settings, runtime.sessions, telephony, clock),
                             Messenger(runtime.settings, runtime.sessions, telephony, clock))
    settings = CampaignSettings(max_attempts=2, retry_minutes=0)
    with session_scope(runtime.sessions) as session:
        report = read_scam_report({"municipality": "015032", "scam_kind": "fake_carabiniere",
                                   "message_it": "Attenzione ai falsi carabinieri.",
                                   "valid_until": "2026-12-31"}, NIGHT.date(), ["it"], None)
        campaign, queued = send_scam_warning(session, report, shipped_neighbours(), None,
                                             Actor("bench"), NIGHT)
        campaign_id = campaign.id
    print(f"queued {queued:,} deliveries at 23:00")
    night = tick(runtime.sessions, sender, settings, ROME, NIGHT)
    print(f"23:00 pass: sent {night.sent.sent}, deferred to 09:00 {night.sent.deferred:,}")

    clock.at = MORNING
    started = time.perf_counter()
    while True:
        tick(runtime.sessions, sender, settings, ROME, MORNING)
        with session_scope(runtime.sessions) as session:
            if session.get(Campaign, campaign_id).state == CampaignState.DONE:
                break
        if time.perf_counter() - started > 3600:
            print("gave up after an hour")
            return 1
        time.sleep(0.2)
    elapsed = time.perf_counter() - started
    sim.stop()
    server.close()

    with session_scope(runtime.sessions) as session:
        counts = delivery_report(session, session.get(Campaign, campaign_id))
        per_number = Counter(dict(session.execute(
            select(CallAttempt.to_number, func.count()).group_by(CallAttempt.to_number)).all()))
    created = sorted(sim.call_created_at)
    busiest, start = 0, 0
    for end, moment in enumerate(created):
        while created[start] <= moment - 1.0:
            start += 1
        busiest = max(busiest, end - start + 1)
    placed = len(created)
    rate = (placed - 1) / (created[-1] - created[0]) if placed > 1 else 0.0
    print(f"calls placed: {placed:,} in {elapsed:.1f} s; {rate:.1f} calls/s against a limit "
          f"of {args.cps} ({rate / args.cps:.2f} x limit); busiest second as the stand-in saw "
          f"it: {busiest}")
    print(f"report: {dict(sorted(counts.items()))}, total {sum(counts.values()):,}")
    retried = {n for i, n in enumerate(numbers) if i % 10 == 3 or (i % 20 == 7)}
    checks = {
        "night: nobody phoned": night.sent.sent == 0,
        "report adds up": sum(counts.values()) == queued,
        "heard once, never called again": all(per_number[n] == 1 for n in numbers
                                               if n not in retried),
        "unanswered retried once": all(per_number[n] == 2 for n in retried),
        "within the limit": rate <= args.cps * 1.05,
        "no webhook error": not sim.errors,
    }
    for name, ok in checks.items():
        print(f"  {'ok  ' if ok else 'FAIL'} {name}")
    return 0 if all(checks.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
