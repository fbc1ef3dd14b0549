"""The TwiML we answer Twilio with: a prompt, one digit, a replay on silence or a wrong key."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined, TemplateNotFound
from twilio.twiml.voice_response import VoiceResponse

TEMPLATES = Path(__file__).resolve().parent / "templates"
DEFAULT_LANGUAGE = "it"
# Twilio's <Say language> wants a region; these are the regions our enrollees speak.
SAY_LANGUAGES = {"it": "it-IT", "en": "en-GB", "fr": "fr-FR", "de": "de-DE", "es": "es-ES",
                 "ro": "ro-RO", "ar": "arb", "zh": "cmn-CN"}
# An elderly person may need several hearings; after this many, we say goodbye.
MAX_PROMPTS = 3
GATHER_SECONDS = 8
OPERATOR_DIGIT = "0"
# Elderly listeners: neural and Polly voices read SSML, and at this rate they speak slowly
# enough to follow (Twilio's basic voices would read the tags aloud, so they get plain text).
SPEECH_RATE = "85%"
SSML_VOICES = ("Polly.", "Google.")


@cache
def _environment() -> Environment:
    # Plain text, not HTML: VoiceResponse escapes it for XML.
    return Environment(loader=FileSystemLoader(TEMPLATES), autoescape=False,
                       undefined=StrictUndefined, keep_trailing_newline=False)


def wording(language: str, line: str, **params) -> str:
    """One line of a script in the person's language, Italian when we have none in theirs."""
    try:
        template = _environment().get_template(f"{language}/{line}.txt")
    except TemplateNotFound:
        template = _environment().get_template(f"{DEFAULT_LANGUAGE}/{line}.txt")
    return " ".join(template.render(**params).split())


def voices(configured: list[str]) -> dict[str, str]:
    """Parse the `voices` setting ("it=Polly.Bianca") into a language -> voice map."""
    found = {}
    for item in configured:
        language, _, voice = item.partition("=")
        if language.strip() and voice.strip():
            found[language.strip()] = voice.strip()
    return found


class Script:
    """What one call says, in one language with one voice."""

    def __init__(self, language: str, voice: str | None = None):
        known = language.isalpha() and (TEMPLATES / language).is_dir()
        self.language = language if known else DEFAULT_LANGUAGE
        self.voice = voice

    def say(self, response, text: str) -> None:
        """One spoken line, into a <Response> or a <Gather>."""
        kwargs = {"language": SAY_LANGUAGES.get(self.language, "it-IT")}
        if self.voice:
            kwargs["voice"] = self.voice
        if self.voice and self.voice.startswith(SSML_VOICES):
            response.say(**kwargs).prosody(text, rate=SPEECH_RATE)
        else:
            response.say(text, **kwargs)

    def line(self, response, line: str, **params) -> None:
        self.say(response, wording(self.language, line, **params))

    def prompt(self, script: str, params: dict, digit: str, *, gather_url: str,
               replay_url: str) -> str:
        """The prompt inside a one-digit <Gather>; silence falls through to a replay."""
        response = VoiceResponse()
        gather = response.gather(num_digits=1, action=gather_url, method="POST",
                                 timeout=GATHER_SECONDS)
        self.say(gather, wording(self.language, script, digit=digit, **params))
        response.redirect(replay_url, method="POST")
        return str(response)

    def retry(self, replay_url: str) -> str:
        response = VoiceResponse()
        self.say(response, wording(self.language, "retry"))
        response.redirect(replay_url, method="POST")
        return str(response)

    def closing(self, line: str) -> str:
        """A last line and a hang-up: thanks, goodbye, or the voicemail message."""
        response = VoiceResponse()
        self.say(response, wording(self.language, line))
        response.hangup()
        return str(response)

    def bridge(self, operator_number: str, caller_id: str) -> str:
        response = VoiceResponse()
        self.say(response, wording(self.language, "operator"))
        response.dial(operator_number, caller_id=caller_id or None)
        return str(response)
