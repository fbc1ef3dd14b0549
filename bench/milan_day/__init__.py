"""Benchmark: one day of Milan's telecare service, at real scale, faster than real time.

    .venv/bin/python -m bench.milan_day [--database-url URL] [--enrollees 5000] [--hours 24]

Run from the repository's root. The product's own code does the work on a real database:
5,000 enrollees seeded with their contacts and a pendant each, their week planned by the
scheduler's planning job; then one day (00:00-24:00 in Milan) on a simulated clock that jumps
a few seconds at a time, running at each jump the sweeps the service runs: the weekly-call
caller, the escalation engine, the campaign loop, the device watchdog, the hourly planning.
Around them, simulated people and machines: a phone network played in-process through the
functions Twilio's webhooks reach, people who answer or not, pendants that press, fall,
test and fall silent, operators who take charge from the console's queue, a red heat-wave
bulletin and a scam warning. At the end, a KPI table and the wall time.

Modules, in the order a reader might take them:
  figures    every rate and share the day uses, with its source or marked an assumption
  agenda     the simulated clock and the agenda of things due at given moments
  service    the database, the people, the product's parts assembled
  day        the loop: agenda, then the sweeps, step by step
  people     who answers the phone and what they press
  network    the phone network: the telephony port and Twilio's webhooks, in-process
  pendants   heartbeats, presses, tests, flat batteries, devices going silent
  operators  the operators on shift: alarms from the console's queue, the worklist
  warnings   the heat bulletin and the scam report
  kpis       the table, read back from the database
"""
