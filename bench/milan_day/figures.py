"""The numbers the simulated day is built on: published figures with their source, and the
assumptions we had to make where we found none. Each is one constant, so a reader can check
it and a city can put in its own.
"""

from __future__ import annotations

from datetime import time

# -- Alarms ---------------------------------------------------------------------------------

# Cruz Roja's telecare service in the Comunidad de Madrid, 2021: about 16,000 people served,
# more than 187,000 alarms received at its coordination centre, 9,732 of them health
# emergencies (Cruz Roja's press release of February 2022, reported by Europa Press and
# local papers). That is 11.7 alarms a person a year, about one a month, of which 5.2 % are
# genuine emergencies; the rest are presses by mistake, tests, or wanting to talk.
ALARMS_PER_PERSON_YEAR = 187_000 / 16_000
GENUINE_SHARE = 9_732 / 187_000
# Presses really gather on a few people: two thirds of pendant users had never pressed to
# summon help (Taylor & Agamanolis, "Service users' views of a mainstream telecare product",
# CHI 2010). Here any person may press, so repeats on one person are rarer than in life.

# Assumption: a tenth of the alarms come from the pendant's fall detector, not the button.
FALL_SHARE = 0.10
# Assumption: one press in twenty is pressed again within a minute (an anxious person): the
# product keeps one alarm and adds to its timeline.
PRESSED_AGAIN_SHARE = 0.05
# Assumption: how presses spread over the day's 24 hours (relative weights): fewer at night,
# most in the morning, when people are up and about.
HOURLY_WEIGHTS = [0.4] * 6 + [0.8, 1.2] + [1.6] * 5 + [1.3] * 6 + [1.0] * 3 + [0.6] * 2

# -- People on the phone (assumptions: we found no published per-call shares) ---------------

# One attempt of a weekly call or a warning call, to someone at home today. "well" answers
# and presses 1; "silent" answers and presses nothing; "help" presses 9.
ATTEMPT = {"well": 0.80, "silent": 0.03, "no_answer": 0.10, "voicemail": 0.04, "busy": 0.02,
           "help": 0.01}
# Away all day (in hospital, staying with family): nobody answers their phone today.
AWAY_SHARE = 0.02
RING_S = (5.0, 25.0)  # from the first ring to an old person's "pronto?"
THINK_S = (1.0, 4.0)  # from the end of a question to the key pressed
# Asked by the weekly call to press the pendant, most find it within the minute; those who do
# not wear it do not (fewer than 8 % wore it at all times: Taylor & Agamanolis, CHI 2010).
BUTTON_TESTED_SHARE = 0.80
BUTTON_TEST_S = (5.0, 40.0)  # after the request ends
# The call-back after one's own alarm: a false alarm is mostly answered with a 1; after a real
# emergency the person is often on the floor, away from the phone.
CALLBACK_FALSE = {"well": 0.80, "silent": 0.05, "no_answer": 0.15}
CALLBACK_GENUINE = {"help": 0.30, "no_answer": 0.70}
# A neighbour, relative or doctor phoned by the ladder: "well" takes charge with a 1.
CONTACT = {"well": 0.50, "no_answer": 0.35, "voicemail": 0.15}
SMS_DELIVERED_S = 6.0
# Words a second of a <Say> at the product's 85 % speech rate, for someone listening.
WORDS_PER_S = 2.2

# -- Operators (assumptions) ----------------------------------------------------------------

# Operators on shift at each local hour, for 5,000 people; scaled with --enrollees (at least
# one). The centre also makes the operator-mode weekly calls between alarms.
OPERATORS_BY_HOUR = [2] * 6 + [3] * 16 + [2] * 2
PEOPLE_PER_SHIFT_SCALE = 5_000
# From an alarm reaching a free operator's screen to their taking charge: log-normal, median
# 12 s, 90th percentile about 21 s. Not measured: chosen so that a centre with room to spare
# answers about as a good British one does. MASCOT Telecare (Merton, London) answered 98.2 %
# of alarm calls within 60 s and 99.84 % within 3 minutes in 2015-16 (its published
# performance report); a US monitoring co-op puts an alarm on a dispatcher's screen in 16 s
# on average (alt.security.alarms, 2005).
PICK_UP_MEDIAN_S = 12.0
PICK_UP_SIGMA = 0.45
# How long an alarm keeps an operator, by what it turns out to be (seconds, uniform).
HANDLING_S = {
    "false_alarm": (60, 180),  # "I pressed it by mistake", a chat
    "genuine": (480, 1200),  # ambulance called, the neighbour with the key sent, stay on
    "help_requested": (300, 900),  # pressed 9 on a call: doctor or family arranged
    "missed_courtesy_calls": (180, 480),  # ringing the person again, then the contacts
    "heat_check_unanswered": (180, 480),  # the same, in the heat: the neighbour with a key
    "device_offline": (120, 300),  # phoning the person about their base unit
    "low_battery": (60, 180),
    "checked": (30, 90),  # already taken charge of (the person pressed 1): a look, closed
}
WRAP_UP_S = 20.0  # notes after each alarm or call, before the next
OPERATOR_CALL_S = (180.0, 480.0)  # a weekly call made by an operator
OPERATOR_RINGS_S = 45.0  # letting it ring before giving up on an operator's call
BREAK_OFF_S = 15.0  # "excuse me, an emergency: we will call you back", when an alarm waits
OPERATOR_CALL_ANSWERED = 0.88  # the same person at home answers an operator too

# -- Devices (assumptions) ------------------------------------------------------------------

OFFLINE_SHARE = 0.002  # devices that fall silent in a day (unplugged base, power cut)
BACK_ONLINE_SHARE = 0.5  # of those, back the same day
BACK_AFTER_MIN = (20, 180)
LOW_BATTERY_SHARE = 0.002  # pendants reporting a low battery in a day
HEARTBEAT_S = 60  # the product's default period (telecare.models.Device)

# -- Warnings --------------------------------------------------------------------------------

# The Ministry of Health's heat-wave bulletin: today's level and the next two days'. Red (3)
# today: everyone covered is warned and those living alone get a check call.
HEAT_LEVELS = (3, 3, 2)
HEAT_BULLETIN_AT = time(7, 30)  # local time it is imported (the onData scrape)
SCAM_AT = time(10, 30)  # an operator reports false carabinieri in Milan
SCAM_MESSAGE = ("Attenzione: in questi giorni a Milano e nei comuni vicini falsi carabinieri "
                "telefonano agli anziani chiedendo denaro o gioielli per un familiare nei guai. "
                "I carabinieri veri non chiedono mai soldi: chiuda e chiami il 112.")
