"""Finding enrollees by name, codice fiscale or municipality, a page at a time, in SQL."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

from sqlalchemy import Select, and_, func, or_, select
from sqlalchemy.orm import Session, selectinload

from telecare.enrolment.municipalities import normalise_istat, registry
from telecare.models import Enrollee, EnrolleeState

MAX_PER_PAGE = 200
# The start of a codice fiscale: six letters, then the year's digits. Names never hold digits;
# a whole code may (omocodia) have letters in every digit place, so that shape counts too.
_CF_START = re.compile(r"^[A-Z]{6}[0-9]", re.IGNORECASE)
_OMO = "[0-9LMNPQRSTUV]"
_CF_WHOLE = re.compile(rf"^[A-Z]{{6}}{_OMO}{{2}}[A-Z]{_OMO}{{2}}[A-Z]{_OMO}{{3}}[A-Z]$",
                       re.IGNORECASE)


@dataclass(frozen=True)
class Page:
    items: list[Enrollee]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))

    @property
    def has_previous(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages


def search_enrollees(session: Session, q: str = "", state: EnrolleeState | None = None,
                     municipality: str = "", page: int = 1, per_page: int = 50,
                     with_details: bool = False) -> Page:
    """One page of matches ordered by name; counting and paging happen in the database."""
    per_page = max(1, min(per_page, MAX_PER_PAGE))
    page = max(1, page)
    query = _filtered(select(Enrollee), q, state, municipality)
    total = session.scalar(_filtered(select(func.count(Enrollee.id)), q, state, municipality))
    query = query.order_by(Enrollee.last_name, Enrollee.first_name, Enrollee.id)
    query = query.limit(per_page).offset((page - 1) * per_page)
    if with_details:
        query = query.options(selectinload(Enrollee.phones), selectinload(Enrollee.contacts))
    return Page(items=list(session.scalars(query)), total=total or 0, page=page,
                per_page=per_page)


def _filtered(query: Select, q: str, state: EnrolleeState | None, municipality: str) -> Select:
    if state is not None:
        query = query.where(Enrollee.state == state)
    if municipality.strip():
        query = query.where(Enrollee.municipality_istat.in_(municipality_codes(municipality)))
    text = q.strip()
    if not text:
        return query
    compact = text.replace(" ", "").upper()
    if _CF_START.match(compact) or _CF_WHOLE.match(compact):
        return query.where(Enrollee.codice_fiscale.startswith(compact))
    if text.isdigit():
        return query.where(Enrollee.municipality_istat == normalise_istat(text))
    conditions = []
    codes = municipality_codes(text)
    if codes:
        conditions.append(Enrollee.municipality_istat.in_(codes))
    # Every word must start the first or the last name: "rossi maria", "maria ros".
    words = [w.lower() for w in text.split()]
    conditions.append(
        and_(*[or_(func.lower(Enrollee.first_name).startswith(w, autoescape=True),
                   func.lower(Enrollee.last_name).startswith(w, autoescape=True))
               for w in words])
    )
    return query.where(or_(*conditions))


def municipality_codes(text: str) -> list[str]:
    """ISTAT codes for a code or a municipality's name (any case); empty when none match."""
    text = text.strip()
    if text.isdigit():
        return [normalise_istat(text)]
    return list(_names().get(text.casefold(), ()))


@cache
def _names() -> dict[str, tuple[str, ...]]:
    names: dict[str, list[str]] = {}
    for municipality in registry().values():
        names.setdefault(municipality.name.casefold(), []).append(municipality.istat)
    return {name: tuple(codes) for name, codes in names.items()}
