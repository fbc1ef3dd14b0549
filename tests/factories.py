"""Valid enrollee records for tests; each call gives another person."""

from __future__ import annotations

import itertools
from datetime import date

from codicefiscale import codicefiscale

_names = itertools.cycle([
    ("Maria", "Rossi", "F"), ("Giuseppe", "Bianchi", "M"), ("Anna", "Colombo", "F"),
    ("Giovanni", "Ferrari", "M"), ("Rosa", "Esposito", "F"), ("Luigi", "Romano", "M"),
])
_day = itertools.count(1)


def enrollee_data(**overrides) -> dict:
    """A raw record, as a form or an API client would send it."""
    first, last, sex = next(_names)
    day = next(_day) % 28 + 1
    birth = overrides.pop("birth_date_value", date(1938, 4, day))
    record = {
        "first_name": first,
        "last_name": last,
        "sex": sex,
        "birth_date": birth.isoformat(),
        "codice_fiscale": codicefiscale.encode(
            lastname=last, firstname=first, gender=sex, birthdate=birth.isoformat(),
            birthplace="F205",
        ),
        "language": "it",
        "address_street": "Via Padova 10",
        "address_postal_code": "20127",
        "address_floor": "3",
        "municipality_istat": "015146",
        "lives_alone": True,
        "health_notes": "Diabete di tipo 2",
        "access_notes": "Citofono Rossi, chiave dalla vicina",
        "consent_date": "2026-11-01",
        "phones": [{"number": "+39 02 2614 5678", "kind": "landline"}],
        "contacts": [
            {"name": "Anna Verdi", "relation": "neighbour", "phone": "+39 333 123 4567",
             "holds_key": True},
            {"name": "Paolo Rossi", "relation": "family", "phone": "+39 347 765 4321",
             "holds_key": False},
        ],
    }
    record.update(overrides)
    return record
