"""100 calls queued at once, placed through twilio-python to the stand-in, in real time.

Prints how many calls reached the stand-in in the busiest second (measured where Twilio would
count them, on arrival) against the configured calls per second, and how long it all took.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import threading
import time
from pathlib import Path

import waitress

from telecare import migrate
from telecare.runtime import Runtime
from telecare.settings import (
    DatabaseSettings,
    Settings,
    TelephonySettings,
    TwilioSettings,
    WebSettings,
)
from telecare.telephony.calls import Dialer
from telecare.telephony.twilio_adapter import TwilioTelephony
from telecare.twilio_sim import Behaviour, TwilioSim
from web import create_app

ACCOUNT_SID, AUTH_TOKEN = "AC" + "0" * 32, "bench-token"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--calls", type=int, default=100)
    parser.add_argument("--rate", type=int, default=10, help="calls per second")
    parser.add_argument("--workers", type=int, default=10)
    args = parser.parse_args()

    folder = Path(tempfile.mkdtemp(prefix="telecare-call-rate-"))
    url = f"sqlite:///{folder / 'bench.db'}"
    migrate.upgrade(url)
    runtime = Runtime(Settings(data_dir=folder, database=DatabaseSettings(url=url),
                               web=WebSettings(secret_key="bench")))
    server = waitress.create_server(create_app(runtime), host="127.0.0.1", port=0, threads=8)
    public_url = f"http://127.0.0.1:{server.effective_port}"
    threading.Thread(target=server.run, daemon=True).start()
    sim = TwilioSim(ACCOUNT_SID, AUTH_TOKEN, default=Behaviour.NO_ANSWER).start()
    runtime.settings = runtime.settings.replace(
        public_url=public_url,
        twilio=TwilioSettings(account_sid=ACCOUNT_SID, auth_token=AUTH_TOKEN,
                              from_="+390200000000", api_url=sim.url),
        telephony=TelephonySettings(calls_per_second=args.rate))
    telephony = TwilioTelephony(runtime.settings)
    granted: list[float] = []
    acquire = telephony.bucket.acquire

    def recorded_acquire() -> float:
        slot = acquire()
        granted.append(slot)
        return slot

    telephony.bucket.acquire = recorded_acquire
    dialer = Dialer(runtime.settings, runtime.sessions, telephony, runtime.clock)

    pending = [f"+3902{5550000 + n}" for n in range(args.calls)]
    lock = threading.Lock()

    def worker() -> None:
        while True:
            with lock:
                if not pending:
                    return
                number = pending.pop()
            dialer.call(number, purpose="campaign", script="courtesy", params={"name": "X"})

    started = time.monotonic()
    workers = [threading.Thread(target=worker) for _ in range(args.workers)]
    for thread in workers:
        thread.start()
    for thread in workers:
        thread.join()
    elapsed = time.monotonic() - started
    arrivals = sorted(sim.call_created_at)
    sent = sorted(granted)
    sim.wait_idle(60)
    print(f"{len(arrivals)} calls in {elapsed:.2f} s at {args.rate}/s configured; busiest "
          f"second: {_busiest(sent)} sent, {_busiest(arrivals)} arrived at the stand-in; "
          f"webhook errors: {len(sim.errors)}")
    sim.stop()
    server.close()
    # Sending is what the bucket controls; arrivals add the network's (here: the GIL's)
    # jitter, which Twilio absorbs by queueing, so they are reported, not judged.
    return 0 if len(arrivals) == args.calls and _busiest(sent) <= args.rate else 1


def _busiest(times: list[float]) -> int:
    # Windows of one second less a microsecond: slots n/rate apart, summed in floating point,
    # must not count the slot that starts the next second.
    return max(sum(1 for t in times if start <= t < start + 1 - 1e-6) for start in times)


if __name__ == "__main__":
    sys.exit(main())
