"""The import page: upload a CSV, read the per-row report, download the errors."""

from __future__ import annotations

import csv
import io
import re

from sqlalchemy import select

from telecare.models import Enrollee, Role
from tests.factories import enrollee_data

COLUMNS = ["first_name", "last_name", "sex", "birth_date", "codice_fiscale", "address_street",
           "municipality_istat", "consent_date", "landline", "contact_1_name",
           "contact_1_phone", "contact_1_holds_key"]


def csv_file(*records: dict) -> io.BytesIO:
    out = io.StringIO()
    writer = csv.DictWriter(out, COLUMNS, extrasaction="ignore")
    writer.writeheader()
    for record in records:
        row = dict(record, landline=record["phones"][0]["number"],
                   contact_1_name=record["contacts"][0]["name"],
                   contact_1_phone=record["contacts"][0]["phone"], contact_1_holds_key="sì")
        writer.writerow(row)
    return io.BytesIO(out.getvalue().encode("utf-8"))


def test_it_imports_good_rows_and_reports_bad_ones(client, login, session):
    login(Role.SOCIAL_WORKER)
    good, bad = enrollee_data(), enrollee_data(municipality_istat="999999")
    response = client.post("/import", data={"file": (csv_file(good, bad), "anziani.csv")},
                           content_type="multipart/form-data")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "anziani.csv" in page
    assert re.search(r'stat-number">1</span><span class="stat-label">importati', page)
    assert re.search(r"<td>3</td><td class=\"mono\">municipality_istat</td>", page)
    assert "999999 non è nell&#39;elenco ISTAT dei comuni" in page  # the reader's language
    stored = session.scalars(select(Enrollee.codice_fiscale)).all()
    assert good["codice_fiscale"] in stored and bad["codice_fiscale"] not in stored

    link = re.search(r'href="(/import/reports/[^"]+\.csv)"', page).group(1)
    download = client.get(link)
    assert download.status_code == 200
    assert download.headers["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(download.get_data(as_text=True))))
    assert rows[0] == ["row", "field", "reason"]
    assert rows[1][:2] == ["3", "municipality_istat"]


def test_it_keeps_an_error_report_to_the_session_that_made_it(app, client, login, users):
    login(Role.SOCIAL_WORKER)
    page = client.post("/import", data={"file": (csv_file(enrollee_data(sex="X")), "a.csv")},
                       content_type="multipart/form-data").get_data(as_text=True)
    link = re.search(r'href="(/import/reports/[^"]+\.csv)"', page).group(1)
    with app.test_client() as other:
        login(Role.ADMIN, other)
        assert other.get(link).status_code == 404


def test_it_refuses_a_file_that_is_not_utf8(client, login):
    login(Role.SOCIAL_WORKER)
    body = io.BytesIO("first_name;last_name\nNicolò;Bianchi\n".encode("latin-1"))
    response = client.post("/import", data={"file": (body, "vecchio.csv")},
                           content_type="multipart/form-data")
    assert response.status_code == 422
    assert "UTF-8" in response.get_data(as_text=True)


def test_it_asks_for_a_file(client, login):
    login(Role.SOCIAL_WORKER)
    assert client.post("/import", data={}).status_code == 400
