"""The test language, after GoAlert's smoke tests: expect a call, check what was heard, press."""

from __future__ import annotations

from telecare.twilio_sim.resources import SimCall, SimMessage


class Phone:
    """One number as a test sees it."""

    def __init__(self, sim, number: str):
        self.sim, self.number = sim, number

    def expect_call(self, timeout: float = 10.0) -> CallInProgress:
        """The next call to this number that no one has expected yet."""

        def find():
            for call in self.sim.calls:
                if call.to == self.number and not getattr(call, "_claimed", False):
                    return call
            return None

        call = self.sim.wait_for(find, timeout, f"a call to {self.number}")
        call._claimed = True
        call.expected = True
        return CallInProgress(self.sim, call)

    def expect_sms(self, containing: str = "", timeout: float = 10.0) -> SimMessage:
        def find():
            for message in self.sim.messages:
                if (message.to == self.number and message.direction == "outbound-api"
                        and not message.expected and containing in message.body):
                    return message
            return None

        message = self.sim.wait_for(find, timeout, f"an SMS to {self.number} with "
                                                   f"{containing!r}")
        message.expected = True
        return message

    def text(self, body: str) -> int | None:
        """This person texts the service."""
        return self.sim.receive_sms(self.number, body)


class CallInProgress:
    def __init__(self, sim, call: SimCall):
        self.sim, self.call = sim, call

    def heard(self, text: str, timeout: float = 10.0) -> CallInProgress:
        self.sim.wait_for(lambda: any(text in line for line in self.call.heard), timeout,
                          f"{text!r} to be heard on {self.call.to} "
                          f"(heard so far: {self.call.heard})")
        return self

    def press(self, digits: str) -> CallInProgress:
        self.call.keys.put(digits)
        return self

    def stay_silent(self) -> CallInProgress:
        self.call.keys.put("")
        return self

    def hang_up(self) -> CallInProgress:
        self.call.keys.put(None)
        return self

    def ended(self, timeout: float = 10.0) -> CallInProgress:
        self.sim.wait_for(self.call.done.is_set, timeout, f"the call to {self.call.to} to end")
        return self
