"""Fake but realistic enrollees of the Città metropolitana di Milano, for demos and benchmarks.

People are spread over the province's 133 municipalities in proportion to their population
(telecare/data/population_mi.csv, derived from ISTAT data by scripts/derive_population.py).
"""

from __future__ import annotations

import csv
import io
import itertools
import random
from bisect import bisect_right
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta, tzinfo
from functools import cache
from importlib import resources
from typing import TextIO

from codicefiscale import codicefiscale as cf_library
from faker import Faker
from faker.providers.person.it_IT import Provider as ItalianNames
from sqlalchemy import Table, select, text
from sqlalchemy.orm import Session, sessionmaker

from telecare import audit
from telecare.actor import Actor
from telecare.enrolment import rules
from telecare.enrolment.importer import (
    COLUMNS,
    DEFAULT_ZONE,
    as_csv_row,
    enrollee_rows,
    insert_enrollees,
    item_rows,
)
from telecare.enrolment.municipalities import registry
from telecare.enrolment.record import ContactInput, EnrolleeInput, PhoneInput
from telecare.models import (
    Contact,
    Enrollee,
    EnrolleePhone,
    EnrolleeState,
    PhoneKind,
    Relation,
    Sex,
)
from telecare.settings import EnrolmentSettings

# Where many of Milan's elderly were born: the 1950s-60s migration from the south and the
# Veneto, plus Lombardy's own towns. Belfiore (cadastral) codes, as in the codice fiscale.
BIRTHPLACES_ELSEWHERE = ["F839", "G273", "A662", "H501", "D643", "C351", "H224", "A794",
                         "B157", "G388", "D150", "L219", "L736", "H703", "B519", "L049"]
MOBILE_PREFIXES = ["320", "324", "327", "328", "329", "330", "331", "333", "334", "335", "336",
                   "337", "338", "339", "340", "342", "344", "345", "346", "347", "348", "349",
                   "350", "351", "366", "380", "388", "389", "391", "392", "393"]
HEALTH_NOTES = ["", "", "Ipertensione", "Diabete di tipo 2", "Cardiopatia: porta un pacemaker",
                "Fibrillazione atriale, in terapia anticoagulante", "BPCO, ossigeno di notte",
                "Lieve deficit uditivo: parlare lentamente e ad alta voce",
                "Cammina con il deambulatore", "Esiti di frattura del femore",
                "Morbo di Parkinson", "Decadimento cognitivo lieve", "Ipovedente",
                "Allergia alla penicillina", "Insufficienza renale cronica"]
ACCESS_NOTES = ["Citofono {last}", "Chiave dalla vicina del pianerottolo",
                "Portineria aperta 8-13 e 15-19", "Cancello carraio, citofono a sinistra",
                "Scala B, ascensore fino al 5° piano", "Casa di ringhiera, ultima porta",
                "Cane in casa, tranquillo", "Chiave in portineria", ""]
CONSENT_NOTES = ["Firmato in presenza dell'assistente sociale",
                 "Firmato dalla figlia, amministratrice di sostegno",
                 "Firmato a domicilio", ""]
AGE_EXCEPTIONS = ["Dipendenza documentata: esiti di ictus", "Invalidità civile al 100%",
                  "Morbo di Parkinson avanzato, vive sola",
                  "Demenza iniziale, segnalata dal medico di base",
                  "Dimissione protetta dopo ricovero"]
NEIGHBOUR_NOTES = ["Abita al piano di sopra", "Stesso pianerottolo", "Portinaia dello stabile",
                   "Abita nel palazzo di fronte", ""]
SEXES = list(Sex)
BROKEN_KINDS = ("codice_fiscale", "landline", "municipality_istat", "birth_date", "duplicate")


@dataclass(frozen=True)
class Place:
    istat: str
    name: str
    population: int
    cadastral_code: str


@cache
def places_mi() -> tuple[Place, ...]:
    """The municipalities of the Città metropolitana di Milano with their 2011 population."""
    text = resources.files("telecare").joinpath("data/population_mi.csv").read_text("utf-8")
    lines = [line for line in text.splitlines() if not line.startswith("#")]
    known = registry()
    return tuple(Place(row["istat"], row["name"], int(row["population_2011"]),
                       known[row["istat"]].cadastral_code)
                 for row in csv.DictReader(lines) if row["istat"] in known)


# The library's full `encode` parses and looks everything up (~5 ms a person); its public parts,
# cached, take microseconds, which is what 100,000 people need.
_lastname_code = cache(cf_library.encode_lastname)
_firstname_code = cache(cf_library.encode_firstname)


@cache
def _birthdate_code(born: date, sex: str) -> str:
    return cf_library.encode_birthdate(datetime(born.year, born.month, born.day), sex)


def codice_fiscale(last_name: str, first_name: str, sex: str, born: date, place: str) -> str:
    """The codice fiscale of a person born at the place with this Belfiore code."""
    code = (_lastname_code(last_name) + _firstname_code(first_name)
            + _birthdate_code(born, sex) + place)
    return code + cf_library.encode_cin(code)


class PersonFactory:
    """Makes fake enrollees; the same seed gives the same people."""

    def __init__(self, seed: int | None, today: date, policy: EnrolmentSettings,
                 contacts: int = 2, avoid: set[str] | frozenset = frozenset()):
        self.random = random.Random(seed)
        self.today, self.policy, self.contacts = today, policy, contacts
        faker = Faker("it_IT")
        faker.seed_instance(seed)
        # Name lists straight from Faker's Italian provider; street names drawn once from Faker
        # (a Faker call per field would dominate the time for 100,000 people).
        self.first_names = {Sex.FEMALE: sorted(ItalianNames.first_names_female),
                            Sex.MALE: sorted(ItalianNames.first_names_male)}
        self.last_names = sorted(ItalianNames.last_names)
        kinds = ["Via"] * 7 + ["Viale", "Corso", "Piazza", "Largo", "Vicolo"]
        self.streets = [f"{self.random.choice(kinds)} {faker.street_name().split(' ', 1)[-1]}"
                        for _ in range(800)]
        self.places = places_mi()
        self.cumulative = list(itertools.accumulate(p.population for p in self.places))
        self.taken = set(avoid)

    def people(self, count: int) -> Iterator[EnrolleeInput]:
        for _ in range(count):
            yield self.person()

    def person(self, *, age: int | None = None, exception: str | None = None) -> EnrolleeInput:
        """A new person (codice fiscale not yet taken); age and exception reason if given."""
        while True:
            person = self._candidate(age, exception)
            # Two people can share a code (omocodia): the tax office then changes digits into
            # letters. Here a collision simply means making someone else.
            if person.codice_fiscale not in self.taken:
                self.taken.add(person.codice_fiscale)
                return person

    def _candidate(self, age: int | None, exception: str | None) -> EnrolleeInput:
        rng = self.random
        sex = Sex.FEMALE if rng.random() < 0.65 else Sex.MALE  # most very old people are women
        first_name = self.pick(self.first_names[sex])
        last_name = self.pick(self.last_names)
        if age is None:
            age = self.number(70, 79) if rng.random() < 0.08 else int(rng.triangular(80, 101, 82))
        anniversary = date(self.today.year - age, self.today.month, min(self.today.day, 28))
        born = anniversary - timedelta(days=self.number(0, 363))  # exactly `age` years old
        if rules.age_on(born, self.today) < self.policy.minimum_age and exception is None:
            exception = self.pick(AGE_EXCEPTIONS)
        # Weighted by population: a draw on the running total of inhabitants.
        place = self.places[bisect_right(self.cumulative, rng.random() * self.cumulative[-1])]
        born_at = self.pick(BIRTHPLACES_ELSEWHERE) if rng.random() < 0.35 else place.cadastral_code
        languages = self.policy.languages
        language = languages[0] if rng.random() < 0.95 or len(languages) == 1 else self.pick(
            languages[1:])
        postal_code = f"201{self.number(21, 62)}" if place.istat == "015146" else ""
        return EnrolleeInput(
            first_name=first_name, last_name=last_name, sex=sex, birth_date=born,
            codice_fiscale=codice_fiscale(last_name, first_name, sex.value, born, born_at),
            language=language,
            address_street=f"{self.pick(self.streets)} {self.number(1, 180)}",
            address_postal_code=postal_code,
            address_floor=self.pick(["", "terra", "1", "2", "3", "4", "5", "6", "rialzato"]),
            municipality_istat=place.istat, latitude=None, longitude=None,
            lives_alone=rng.random() < 0.6,
            health_notes=self.pick(HEALTH_NOTES),
            access_notes=self.pick(ACCESS_NOTES).format(last=last_name),
            consent_date=self.today - timedelta(days=self.number(0, 3 * 365 - 1)),
            consent_note=self.pick(CONSENT_NOTES),
            age_exception_reason=exception or "",
            phones=self._phones(), contacts=self._contacts(last_name, language),
        )

    def _phones(self) -> list[PhoneInput]:
        has_landline = self.random.random() < 0.85
        phones = [PhoneInput(self.landline(), PhoneKind.LANDLINE)] if has_landline else []
        if not has_landline or self.random.random() < 0.4:
            phones.append(PhoneInput(self.mobile(), PhoneKind.MOBILE))
        return phones

    def _contacts(self, last_name: str, language: str) -> list[ContactInput]:
        rng = self.random
        contacts = []
        for slot in range(self.contacts):
            sex = self.pick(SEXES)
            first = self.pick(self.first_names[sex])
            if slot == 0:
                relation = Relation.NEIGHBOUR if rng.random() < 0.7 else Relation.FRIEND
                contacts.append(ContactInput(
                    name=f"{first} {self.pick(self.last_names)}", relation=relation,
                    phone=self.mobile(), can_sms=True, language="it", holds_key=True,
                    notes=self.pick(NEIGHBOUR_NOTES) if relation == Relation.NEIGHBOUR else ""))
            elif slot == 2:
                contacts.append(ContactInput(
                    name=f"Dott. {first} {self.pick(self.last_names)}", relation=Relation.DOCTOR,
                    phone=self.landline(), can_sms=False, language="it", holds_key=False,
                    notes="Medico di base"))
            else:
                family = last_name if rng.random() < 0.6 else self.pick(self.last_names)
                contacts.append(ContactInput(
                    name=f"{first} {family}", relation=Relation.FAMILY, phone=self.mobile(),
                    can_sms=True, language=language, holds_key=rng.random() < 0.5))
        return contacts

    # random.choice and randint cost a few microseconds each through _randbelow; 100,000
    # people need about 30 draws each, so these two use random() directly.
    def pick(self, items):
        return items[int(self.random.random() * len(items))]

    def number(self, low: int, high: int) -> int:
        """A whole number from low to high, both included."""
        return low + int(self.random.random() * (high - low + 1))

    def landline(self) -> str:
        # Milan's area code 02 and eight digits, the first not 0 or 1; every such number
        # passes phonenumbers' check (tests/test_seed.py validates what is generated).
        return f"+3902{self.number(20_000_000, 99_999_999)}"

    def mobile(self) -> str:
        return f"+39{self.pick(MOBILE_PREFIXES)}{self.number(0, 9_999_999):07d}"


# Seeding the database --------------------------------------------------------------------


@dataclass
class SeedReport:
    enrollees: int = 0
    phones: int = 0
    contacts: int = 0


def seed_enrollees(
    session_factory: sessionmaker[Session], count: int, actor: Actor, now: datetime,
    policy: EnrolmentSettings, *, seed: int | None = None, contacts: int = 2,
    zone: tzinfo = DEFAULT_ZONE, progress: Callable[[int], None] | None = None,
    batch_size: int = 2000,
) -> SeedReport:
    """Insert `count` fake enrollees (with phones and contacts) in bulk, one commit a batch."""
    report = SeedReport()
    with session_factory() as session:
        taken = set(session.scalars(select(Enrollee.codice_fiscale).where(
            Enrollee.state != EnrolleeState.ENDED)))
        factory = PersonFactory(seed, now.astimezone(zone).date(), policy, contacts, taken)
        people = factory.people(count)
        while batch := list(itertools.islice(people, batch_size)):
            bulk_insert(session, batch, now)
            session.commit()
            report.enrollees += len(batch)
            report.phones += sum(len(p.phones) for p in batch)
            report.contacts += sum(len(p.contacts) for p in batch)
            if progress is not None:
                progress(len(batch))
        audit.record(session, actor, "seed", "enrollee", None, now, enrollees=report.enrollees,
                     seed=seed)
        session.commit()
        if session.get_bind().dialect.name == "postgresql" and report.enrollees:
            # Fresh statistics, or the planner may keep treating the tables as empty and scan
            # them in full for every look-up by codice fiscale.
            session.execute(text("ANALYZE enrollee, enrollee_phone, contact"))
            session.commit()
    return report


def bulk_insert(session: Session, people: list[EnrolleeInput], now: datetime) -> None:
    """Insert new people in bulk: COPY on PostgreSQL, SQLAlchemy Core executemany elsewhere.

    On PostgreSQL psycopg parses each of the very long multi-row INSERTs that executemany
    becomes: seeding 100,000 people took 90 s that way, 33 s with COPY (the benchmark).
    On SQLite, writing through the driver directly saved little, so Core does it."""
    connection = session.connection()
    if connection.dialect.name != "postgresql":
        insert_enrollees(session, people, now)
        return
    rows = enrollee_rows(people, now)
    # Ids drawn from the table's own sequence, so COPY can write them with each person.
    ids = connection.execute(
        text("SELECT nextval(pg_get_serial_sequence('enrollee', 'id')) "
             "FROM generate_series(1, :n)"), {"n": len(rows)}).scalars().all()
    for row, id_ in zip(rows, ids, strict=True):
        row["id"] = id_
    phones, contacts = item_rows(people, {row["codice_fiscale"]: row["id"] for row in rows})
    for table, table_rows in ((Enrollee.__table__, rows), (EnrolleePhone.__table__, phones),
                              (Contact.__table__, contacts)):
        _copy(connection, table, table_rows)


def _copy(connection, table: Table, rows: list[dict]) -> None:
    if not rows:
        return
    dialect = connection.dialect
    names = list(rows[0])
    # Each value goes through its column type's own conversion, as SQLAlchemy would do it.
    processors = [table.c[name].type.dialect_impl(dialect).bind_processor(dialect)
                  for name in names]
    cursor = connection.connection.dbapi_connection.cursor()
    try:
        with cursor.copy(f"COPY {table.name} ({', '.join(names)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row([value if process is None else process(value)
                                for value, process in zip(row.values(), processors,
                                                          strict=True)])
    finally:
        cursor.close()


# A test file for the importer ------------------------------------------------------------


@dataclass
class ImportFile:
    text: str
    rows: int
    # Spreadsheet row number -> the field the importer must report for that row.
    broken: dict[int, str] = field(default_factory=dict)


def make_import_file(rows: int, broken_each: int, today: date, policy: EnrolmentSettings, *,
                     seed: int | None = None, avoid: set[str] | frozenset = frozenset(),
                     contacts: int = 2, delimiter: str = ",") -> ImportFile:
    """A CSV file of new people in which `broken_each` rows per kind of mistake are wrong:
    a wrong codice fiscale, a bad landline, an unknown municipality, someone under age with
    no reason, and a person repeated from an earlier row."""
    factory = PersonFactory(seed, today, policy, min(contacts, 3), avoid)
    rng = random.Random(seed)
    kinds = [kind for kind in BROKEN_KINDS for _ in range(broken_each)]
    if len(kinds) >= rows:
        raise ValueError(f"{len(kinds)} broken rows do not fit in {rows} rows")
    # Row 2 (the first person) is always good, so every repeat has an earlier good row to copy.
    positions = rng.sample(range(1, rows), len(kinds))
    rng.shuffle(kinds)
    breakage = dict(zip(positions, kinds, strict=True))
    people: list[EnrolleeInput] = []
    broken: dict[int, str] = {}
    last_good = 0
    for index in range(rows):
        kind = breakage.get(index)
        row_number = index + 2
        if kind == "duplicate":
            people.append(people[last_good])
            broken[row_number] = "codice_fiscale"
            continue
        if kind == "birth_date":
            young = rng.randint(max(policy.minimum_age - 20, 0), policy.minimum_age - 1)
            person = factory.person(age=young, exception="")
        else:
            person = factory.person()
        if kind == "codice_fiscale":
            code = person.codice_fiscale
            wrong = "A" if code[15] != "A" else "B"
            person = replace(person, codice_fiscale=code[:15] + wrong)
        elif kind == "municipality_istat":
            person = replace(person, municipality_istat="999999")
        if kind is None:
            last_good = index
        else:
            broken[row_number] = kind if kind != "duplicate" else "codice_fiscale"
        people.append(person)
    out = io.StringIO()
    write_rows(out, people, delimiter, bad_landlines={i + 2 for i, k in breakage.items()
                                                       if k == "landline"})
    return ImportFile(out.getvalue(), rows, broken)


def write_rows(out: TextIO, people: list[EnrolleeInput], delimiter: str = ",",
               bad_landlines: set[int] = frozenset()) -> None:
    """People as rows of an import file (header first); listed row numbers get a bad landline."""
    writer = csv.DictWriter(out, fieldnames=COLUMNS, delimiter=delimiter, lineterminator="\r\n",
                            restval="")
    writer.writeheader()
    for row_number, person in enumerate(people, start=2):
        row = as_csv_row(person)
        if row_number in bad_landlines:
            row["landline"] = "02 123"  # too short to be a number
        writer.writerow(row)
