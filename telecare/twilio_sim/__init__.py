"""The local Twilio stand-in: `TwilioSim` in tests, `telecare phone-sim` for the demo."""

from telecare.twilio_sim.people import Behaviour, Person
from telecare.twilio_sim.sim import TwilioSim

__all__ = ["Behaviour", "Person", "TwilioSim"]
