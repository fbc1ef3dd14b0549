"""Bulk import of enrollees from a social-services spreadsheet saved as CSV.

Every bad row is reported with its spreadsheet row number (header = 1), each bad field and the
reason; good rows are imported in batches, each person with their phones and contacts at once.
The columns are documented for social workers in docs/import-format.md.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from typing import TextIO
from zoneinfo import ZoneInfo

from sqlalchemy import insert, select
from sqlalchemy.exc import DataError, IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from telecare import audit
from telecare.actor import Actor
from telecare.enrolment import rules
from telecare.enrolment.record import EnrolleeInput, read_enrollee
from telecare.enrolment.service import SCALAR_FIELDS, already_enrolled
from telecare.errors import N_, RowError, ValidationFailed
from telecare.models import Contact, Enrollee, EnrolleePhone, EnrolleeState, PhoneKind
from telecare.settings import CallsSettings, EnrolmentSettings

SCALAR_COLUMNS = list(SCALAR_FIELDS)
PHONE_COLUMNS = {"landline": PhoneKind.LANDLINE, "mobile": PhoneKind.MOBILE}
CONTACT_FIELDS = ["name", "relation", "phone", "holds_key", "can_sms", "language", "notes"]
MAX_CONTACTS = 3
CONTACT_COLUMNS = [f"contact_{n}_{name}" for n in range(1, MAX_CONTACTS + 1)
                   for name in CONTACT_FIELDS]
COLUMNS = SCALAR_COLUMNS + list(PHONE_COLUMNS) + CONTACT_COLUMNS
REQUIRED_COLUMNS = ["first_name", "last_name", "sex", "birth_date", "codice_fiscale",
                    "address_street", "municipality_istat", "consent_date"]
BATCH_SIZE = 500
# Codici fiscali looked up per query: well under SQLite's and PostgreSQL's parameter limits.
LOOKUP_CHUNK = 500
DEFAULT_ZONE = ZoneInfo("Europe/Rome")

_ITEM_FIELD = re.compile(r"(phones|contacts)\[(\d+)\]\.(\w+)")


@dataclass
class ImportReport:
    rows: int = 0  # people rows read (blank rows are skipped and not counted)
    imported: int = 0
    unchanged: int = 0  # already enrolled, same person: nothing to do
    errors: list[RowError] = field(default_factory=list)
    # True when the file itself was refused (not UTF-8, not CSV, bad header): no row was read.
    refused: bool = False

    @property
    def rejected(self) -> int:
        """Rows with at least one error."""
        return len({e.row for e in self.errors if e.row > 1})

    def summary(self) -> str:
        return (f"imported {self.imported}, unchanged {self.unchanged}, rejected {self.rejected}"
                f" (rows with errors) of {self.rows} rows")


def report_csv(report: ImportReport) -> str:
    """The errors as a CSV file (row, field, reason) to hand back to the social worker."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["row", "field", "reason"])
    writer.writerows((e.row, e.field, e.reason) for e in report.errors)
    return out.getvalue()


def import_enrollees(
    session_factory: sessionmaker[Session],
    stream: TextIO,
    actor: Actor,
    now: datetime,
    policy: EnrolmentSettings,
    progress: Callable[[int], None] | None = None,
    *,
    file_name: str | None = None,
    zone: tzinfo = DEFAULT_ZONE,
    batch_size: int = BATCH_SIZE,
    calls: CallsSettings | None = None,
) -> ImportReport:
    """Import every good row of a CSV file; `progress` is called with the number of rows just
    handled after each batch (as click's progressbar.update expects)."""
    report = ImportReport()
    table = _read_table(stream, report)
    if table is None:
        report.refused = True
        return report
    header, records = table
    today = now.astimezone(zone).date()
    importer = _Importer(session_factory, actor, now, policy, today, report, calls)
    try:
        for start in range(0, len(records), batch_size):
            batch = records[start:start + batch_size]
            importer.import_batch(header, batch)
            if progress is not None:
                progress(len(batch))
        importer.record_audit(file_name if file_name is not None
                              else str(getattr(stream, "name", "")))
    finally:
        importer.close()
    report.errors.sort(key=lambda e: e.row)
    return report


# Reading the file ------------------------------------------------------------------------


def _read_table(stream, report: ImportReport) -> tuple[list[str], list] | None:
    """The header and the non-blank rows with their numbers, or None when the file is refused."""
    try:
        text = stream.read()
    except UnicodeDecodeError as exc:
        report.errors.append(_not_utf8(exc))
        return None
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError as exc:
            report.errors.append(_not_utf8(exc))
            return None
    text = text.removeprefix("\ufeff")  # Excel's "CSV UTF-8" starts with a byte-order mark
    if not text.strip():
        report.errors.append(RowError.of(0, "file", N_("is empty")))
        return None
    delimiter = _sniff_delimiter(text.split("\n", 1)[0])
    try:
        rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
    except csv.Error as exc:
        report.errors.append(RowError.of(0, "file", N_("is not a readable CSV file (%(why)s)"),
                                         {"why": str(exc)}))
        return None
    # "First name" and "first_name" alike: spreadsheets grow capitals and spaces.
    header = ["_".join(name.lower().split()) for name in rows[0]]
    report.errors += check_header(header)
    if report.errors:
        return None
    # Row numbers as the spreadsheet shows them: the header is row 1.
    records = [(number, cells) for number, cells in enumerate(rows[1:], start=2)
               if any(cell.strip() for cell in cells)]
    report.rows = len(records)
    return header, records


def _sniff_delimiter(header_line: str) -> str:
    # Italian Excel writes semicolons (the comma is the decimal separator there).
    return max([",", ";", "\t"], key=header_line.count)


def _not_utf8(exc: UnicodeDecodeError) -> RowError:
    return RowError.of(0, "file", N_("is not UTF-8 text (byte %(byte)d): in Excel use "
                                     "Save as > CSV UTF-8"), {"byte": exc.start})


def check_header(header: list[str]) -> list[RowError]:
    """Everything wrong with the header row, each column named once."""
    errors = []
    named = [name for name in header if name]
    for name in sorted({n for n in named if named.count(n) > 1}):
        errors.append(RowError.of(1, name, N_("appears more than once in the header")))
    for name in named:
        if name not in COLUMNS:
            errors.append(RowError.of(1, name, N_("is not a known column "
                                                  "(see docs/import-format.md)")))
    for name in REQUIRED_COLUMNS:
        if name not in named:
            errors.append(RowError.of(1, name, N_("is a required column and is missing")))
    if not any(name in named for name in PHONE_COLUMNS):
        errors.append(RowError.of(1, "landline", N_("the file needs a landline or a mobile "
                                                   "column (or both)")))
    return errors


def raw_record(header: list[str], cells: list[str]) -> tuple[dict, dict[str, str]]:
    """The dict read_enrollee takes, and which column each phone or contact field came from."""
    values = {name: cell for name, cell in zip(header, cells, strict=False) if name}
    raw: dict = {name: values.get(name, "") for name in SCALAR_COLUMNS}
    columns: dict[str, str] = {}
    phones = []
    for column, kind in PHONE_COLUMNS.items():
        if values.get(column, "").strip():
            phones.append({"number": values[column], "kind": kind.value})
            columns[f"phones[{len(phones)}]"] = column
    contacts = []
    for n in range(1, MAX_CONTACTS + 1):
        item = {name: values.get(f"contact_{n}_{name}", "") for name in CONTACT_FIELDS}
        if any(value.strip() for value in item.values()):
            if not item["can_sms"].strip():
                del item["can_sms"]  # left blank: decided from the number (mobile or not)
            contacts.append(item)
            columns[f"contacts[{len(contacts)}]"] = f"contact_{n}"
    raw["phones"], raw["contacts"] = phones, contacts
    return raw, columns


def column_for(field_name: str, columns: dict[str, str]) -> str:
    """The CSV column a read_enrollee field name refers to."""
    match = _ITEM_FIELD.fullmatch(field_name)
    if match:
        kind, index, attribute = match.groups()
        column = columns.get(f"{kind}[{index}]", field_name)
        return column if kind == "phones" else f"{column}_{attribute}"
    if field_name == "phones":
        return "landline"
    return field_name


def as_csv_row(person: EnrolleeInput) -> dict[str, str]:
    """The inverse of raw_record: one person as a row of the import file."""
    row = {name: _cell(getattr(person, name)) for name in SCALAR_COLUMNS}
    for phone in person.phones:
        row[phone.kind.value] = phone.number
    for n, contact in enumerate(person.contacts[:MAX_CONTACTS], start=1):
        for name in CONTACT_FIELDS:
            row[f"contact_{n}_{name}"] = _cell(getattr(contact, name))
    return row


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(getattr(value, "value", value))


# Writing ---------------------------------------------------------------------------------


def insert_enrollees(session: Session, people: Sequence[EnrolleeInput],
                     now: datetime) -> list[int]:
    """Insert new enrolments with their phones and contacts in three bulk statements.

    The codici fiscali must be distinct; the caller commits."""
    if not people:
        return []
    table = Enrollee.__table__
    # RETURNING with executemany is batched by SQLAlchemy ("insertmanyvalues") on SQLite and
    # PostgreSQL alike; the codice fiscale, unique here, pairs each new id with its person.
    returned = session.execute(insert(table).returning(table.c.id, table.c.codice_fiscale),
                               enrollee_rows(people, now)).all()
    ids = {code: id_ for id_, code in returned}
    phones, contacts = item_rows(people, ids)
    if phones:
        session.execute(insert(EnrolleePhone.__table__), phones)
    if contacts:
        session.execute(insert(Contact.__table__), contacts)
    return [ids[p.codice_fiscale] for p in people]


def enrollee_rows(people: Iterable[EnrolleeInput], now: datetime) -> list[dict]:
    """Rows of the enrollee table for new, active enrolments."""
    return [{**{name: getattr(p, name) for name in SCALAR_FIELDS},
             "state": EnrolleeState.ACTIVE, "state_reason": "", "enrolled_at": now,
             "state_changed_at": now, "updated_at": now} for p in people]


def item_rows(people: Iterable[EnrolleeInput],
              ids: dict[str, int]) -> tuple[list[dict], list[dict]]:
    """Rows of the phone and contact tables, given each person's id by codice fiscale."""
    phones, contacts = [], []
    for person in people:
        enrollee_id = ids[person.codice_fiscale]
        phones += [{"enrollee_id": enrollee_id, "number": p.number, "kind": p.kind,
                    "position": i} for i, p in enumerate(person.phones)]
        contacts += [{"enrollee_id": enrollee_id, "position": i, "name": c.name,
                      "relation": c.relation, "phone": c.phone, "can_sms": c.can_sms,
                      "language": c.language, "holds_key": c.holds_key, "notes": c.notes}
                     for i, c in enumerate(person.contacts)]
    return phones, contacts


def current_enrolments(session: Session, codes: Iterable[str]) -> dict[str, tuple]:
    """Codice fiscale -> (id, first_name, last_name, birth_date) of current enrolments."""
    codes = list(codes)
    found = {}
    for start in range(0, len(codes), LOOKUP_CHUNK):
        chunk = codes[start:start + LOOKUP_CHUNK]
        found.update((row.codice_fiscale, tuple(row[1:])) for row in session.execute(
            select(Enrollee.codice_fiscale, Enrollee.id, Enrollee.first_name,
                   Enrollee.last_name, Enrollee.birth_date)
            .where(Enrollee.codice_fiscale.in_(chunk), Enrollee.state != EnrolleeState.ENDED)
        ))
    return found


def _same_person(existing: tuple, person: EnrolleeInput) -> bool:
    _, first_name, last_name, birth_date = existing
    return (_fold(first_name) == _fold(person.first_name)
            and _fold(last_name) == _fold(person.last_name)
            and birth_date == person.birth_date)


def _fold(name: str) -> str:
    return " ".join(name.split()).casefold()


class _Importer:
    def __init__(self, session_factory, actor: Actor, now: datetime,
                 policy: EnrolmentSettings, today, report: ImportReport,
                 calls: CallsSettings | None = None):
        self.session = session_factory()
        self.actor, self.now, self.policy, self.today = actor, now, policy, today
        self.calls = calls  # set: a weekly-call window must fall within the calling day
        self.report = report
        self.first_row: dict[str, int] = {}  # codice fiscale -> the row it first appeared on

    def import_batch(self, header: list[str], batch: list[tuple[int, list[str]]]) -> None:
        good: list[tuple[int, EnrolleeInput]] = []
        for number, cells in batch:
            person = self._read_row(header, number, cells)
            if person is not None:
                good.append((number, person))
        existing = current_enrolments(self.session, [p.codice_fiscale for _, p in good])
        new = []
        for number, person in good:
            found = existing.get(person.codice_fiscale)
            if found is None:
                new.append((number, person))
            elif _same_person(found, person):
                self.report.unchanged += 1
            else:
                self._already_enrolled(number, found[0])
        try:
            insert_enrollees(self.session, [p for _, p in new], self.now)
            self.session.commit()
            self.report.imported += len(new)
        except (IntegrityError, DataError):
            # Someone enrolled one of these people meanwhile, or a value the checks let through
            # does not fit a column: redo the batch one row at a time so only that row is lost.
            self.session.rollback()
            self._row_by_row(new)

    def _read_row(self, header: list[str], number: int, cells: list[str]):
        errors: list[RowError] = []
        if len(cells) > len(header) and any(c.strip() for c in cells[len(header):]):
            errors.append(RowError.of(number, "row", N_("has %(cells)d cells, the header has "
                                                        "%(columns)d columns"),
                                      {"cells": len(cells), "columns": len(header)}))
        raw, columns = raw_record(header, cells)
        person = None
        try:
            person = read_enrollee(raw, self.today, self.policy, self.calls)
        except ValidationFailed as exc:
            errors += [RowError.of(number, column_for(e.field, columns), e.template, e.params)
                       for e in exc.errors]
        code = rules.normalise_codice_fiscale(str(raw.get("codice_fiscale") or ""))
        if code:
            first = self.first_row.setdefault(code, number)
            if first != number:
                errors.append(RowError.of(number, "codice_fiscale",
                                          N_("repeats the codice fiscale of row %(row)d"),
                                          {"row": first}))
        if errors:
            self.report.errors += errors
            return None
        return person

    def _already_enrolled(self, number: int, record_id: int) -> None:
        error = already_enrolled(_Record(record_id))
        self.report.errors.append(RowError.of(number, error.field, error.template,
                                              error.params))

    def _row_by_row(self, new: list[tuple[int, EnrolleeInput]]) -> None:
        for number, person in new:
            try:
                with self.session.begin_nested():
                    insert_enrollees(self.session, [person], self.now)
                self.report.imported += 1
            except IntegrityError:
                found = current_enrolments(self.session, [person.codice_fiscale])
                code = found.get(person.codice_fiscale)
                if code is not None and _same_person(code, person):
                    self.report.unchanged += 1
                elif code is not None:
                    self._already_enrolled(number, code[0])
                else:
                    self.report.errors.append(RowError.of(
                        number, "row", N_("could not be saved: it conflicts with a stored "
                                          "record")))
            except DataError as exc:
                reason = str(exc.orig).splitlines()[0] if exc.orig else "a value does not fit"
                self.report.errors.append(RowError.of(
                    number, "row", N_("could not be saved: %(why)s"), {"why": reason}))
        self.session.commit()

    def record_audit(self, file_name: str) -> None:
        # One entry per import, not per person: counts and the file, never the health data.
        audit.record(self.session, self.actor, "import", "enrollee", None, self.now,
                     file=file_name, rows=self.report.rows, imported=self.report.imported,
                     unchanged=self.report.unchanged, rejected=self.report.rejected)
        self.session.commit()

    def close(self) -> None:
        self.session.close()


@dataclass(frozen=True)
class _Record:
    """Just enough of an Enrollee for service.already_enrolled's message."""

    id: int
