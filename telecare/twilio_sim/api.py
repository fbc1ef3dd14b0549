"""The REST actions: validate parameters as Twilio does, keep the resources, start playback."""

from __future__ import annotations

from telecare.twilio_sim.people import Behaviour
from telecare.twilio_sim.resources import E164, ApiError, SimCall, SimMessage, new_sid, now

FINAL = {"completed", "busy", "failed", "no-answer", "canceled"}


class Api:
    def __init__(self, sim):
        self.sim = sim

    def _injected_fault(self) -> None:
        fault = self.sim.take_fault()
        if fault is not None:
            raise fault

    def _to(self, form: dict) -> str:
        to = form.get("To", "")
        if not to:
            raise ApiError(400, 21604, "A 'To' phone number is required.")
        if not form.get("From"):
            raise ApiError(400, 21603, "A 'From' phone number is required.")
        if not E164.match(to) or self.sim.person(to).behaviour == Behaviour.INVALID:
            raise ApiError(400, 21211, f"Invalid 'To' Phone Number: {to}")
        return to

    def create_call(self, match, form: dict, multi: list) -> tuple[int, dict]:
        self._injected_fault()
        to = self._to(form)
        if not form.get("Url") and not form.get("Twiml"):
            raise ApiError(400, 21205, "Url parameter is required.")
        try:
            timeout = int(form.get("Timeout") or 60)
        except ValueError:
            raise ApiError(400, 21210, "Timeout must be an integer") from None
        events = [v for k, v in multi if k == "StatusCallbackEvent"] or ["completed"]
        call = SimCall(sid=new_sid("CA"), account_sid=self.sim.account_sid, to=to,
                       from_=form["From"], url=form.get("Url", ""),
                       method=form.get("Method", "POST"), twiml=form.get("Twiml", ""),
                       status_callback=form.get("StatusCallback", ""), status_events=events,
                       machine_detection=form.get("MachineDetection", ""), timeout=timeout)
        created = call.as_json()  # as created: "queued", before playback moves it on
        self.sim.add_call(call)
        return 201, created

    def fetch_call(self, match, form, multi) -> tuple[int, dict]:
        return 200, self._call(match).as_json()

    def update_call(self, match, form, multi) -> tuple[int, dict]:
        call = self._call(match)
        status = form.get("Status", "")
        if status not in {"", "completed", "canceled"}:
            raise ApiError(400, 21218, f"Invalid Status: {status}")
        if status and call.status not in FINAL:
            call.hang_up_requested.set()
            call.keys.put(None)
            call.done.wait(timeout=10)
        return 200, call.as_json()

    def _call(self, match) -> SimCall:
        call = self.sim.calls_by_sid.get(match.group("sid"))
        if call is None:
            raise ApiError(404, 20404, f"The requested resource Call {match.group('sid')} "
                                       "was not found")
        return call

    def create_message(self, match, form, multi) -> tuple[int, dict]:
        self._injected_fault()
        to = self._to(form)
        if not form.get("Body"):
            raise ApiError(400, 21602, "Message body is required.")
        if to in self.sim.unsubscribed:
            raise ApiError(400, 21610, "Attempt to send to unsubscribed recipient")
        message = SimMessage(sid=new_sid("SM"), account_sid=self.sim.account_sid, to=to,
                             from_=form["From"], body=form["Body"],
                             status_callback=form.get("StatusCallback", ""))
        created = message.as_json()
        self.sim.add_message(message)
        return 201, created

    def fetch_message(self, match, form, multi) -> tuple[int, dict]:
        return 200, self._message(match).as_json()

    def update_message(self, match, form, multi) -> tuple[int, dict]:
        """Twilio's two updates: redact the body (Body=""), cancel one not yet sent."""
        message = self._message(match)
        if form.get("Status") == "canceled":
            if message.status not in {"queued", "accepted", "scheduled"}:
                raise ApiError(400, 30409, "Message cannot be canceled: it was already sent")
            message.status = "canceled"
        elif "Body" in form and form["Body"] == "":
            message.body = ""
        else:
            raise ApiError(400, 21218, "Only Body='' or Status=canceled may be updated")
        touch(message)
        return 200, message.as_json()

    def _message(self, match) -> SimMessage:
        message = self.sim.messages_by_sid.get(match.group("sid"))
        if message is None:
            raise ApiError(404, 20404, f"The requested resource Message {match.group('sid')} "
                                       "was not found")
        return message


def touch(resource) -> None:
    resource.updated = now()
