"""Italian first, English on request; the committed catalogues are compiled from their sources."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from babel.messages.mofile import read_mo, write_mo
from babel.messages.pofile import read_po

from telecare.models import Role

TRANSLATIONS = Path(__file__).resolve().parents[2] / "web" / "translations"


def test_it_speaks_italian_by_default(client):
    page = client.get("/login").get_data(as_text=True)
    assert '<html lang="it">' in page and "Accedi a Telecare" in page


def test_it_speaks_the_browsers_language(client):
    page = client.get("/login", headers={"Accept-Language": "en-GB,en;q=0.9"})
    assert "Sign in to Telecare" in page.get_data(as_text=True)


def test_it_keeps_the_language_picked_on_the_login_page(client):
    client.get("/login?lang=en")
    page = client.get("/login", headers={"Accept-Language": "it"}).get_data(as_text=True)
    assert '<html lang="en">' in page


def test_it_follows_the_users_own_language_and_the_picker(client, login, users, session):
    login(Role.ADMIN)
    assert "Iscritti" in client.get("/enrollees").get_data(as_text=True)
    client.post("/language", data={"language": "en", "next": "/enrollees"})
    assert "Enrollees" in client.get("/enrollees").get_data(as_text=True)
    session.refresh(users[Role.ADMIN])
    assert users[Role.ADMIN].language == "en"


@pytest.mark.parametrize("language", ["it", "en"])
def test_it_ships_compiled_catalogues_that_match_their_sources(language):
    folder = TRANSLATIONS / language / "LC_MESSAGES"
    with (folder / "messages.po").open("rb") as fh:
        source = read_po(fh, locale=language)
    compiled = io.BytesIO()
    write_mo(compiled, source)
    with (folder / "messages.mo").open("rb") as fh:
        shipped = read_mo(fh)
    compiled.seek(0)
    expected = read_mo(compiled)
    assert _messages(shipped) == _messages(expected)
    if language == "it":  # English is the source language: its catalogue may stay empty
        assert len(_messages(shipped)) > 100


def _messages(catalog) -> dict:
    def key(value):
        return tuple(value) if isinstance(value, list | tuple) else value

    return {key(m.id): key(m.string) for m in catalog if m.id}


def test_it_translates_every_message_into_italian():
    with (TRANSLATIONS / "it" / "LC_MESSAGES" / "messages.po").open("rb") as fh:
        catalog = read_po(fh, locale="it")
    untranslated = [m.id for m in catalog if m.id and not (
        all(m.string) if isinstance(m.string, tuple) else m.string)]
    fuzzy = [m.id for m in catalog if m.id and m.fuzzy]
    assert untranslated == [] and fuzzy == []


def test_it_has_every_message_of_the_code_in_the_catalogue():
    """A new N_() in the core, or _() in a page, needs `pybabel extract` and a translation."""
    from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
    from babel.messages.frontend import parse_mapping_cfg

    root = TRANSLATIONS.parents[1]
    with (root / "babel.cfg").open() as fh:
        method_map, options_map = parse_mapping_cfg(fh)
    with (TRANSLATIONS / "it" / "LC_MESSAGES" / "messages.po").open("rb") as fh:
        known = {m.id for m in read_po(fh, locale="it") if m.id}
    found = {message for _, _, message, _, _ in extract_from_dir(
        root, method_map, options_map, keywords=DEFAULT_KEYWORDS) if message}
    assert len(found) > 100
    assert found - known == set()
