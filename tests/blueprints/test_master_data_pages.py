"""The read-only master-data pages as an accountant reads them: translated headers, amounts,
percentages, dates and times in the user's language and time zone, transaction lines with date,
GL account, relation and journal, filters, and CSV / Excel downloads of what is filtered."""

from __future__ import annotations

import csv
import html
import io
import re
from datetime import UTC, datetime
from decimal import Decimal

import openpyxl
import pytest

from portal import modules
from portal.extensions import db as _db
from portal.models import ConnectionStatus, ExactRecord, SyncState
from tests.factories import (
    link_client,
    make_division_link,
    make_exact_connection,
    make_portal,
    make_user_with_account,
)
from tests.helpers import sql_statements

DIVISION = 3001101
MARCH_1 = int(datetime(2026, 3, 1, tzinfo=UTC).timestamp() * 1000)
JAN_10 = int(datetime(2025, 1, 10, tzinfo=UTC).timestamp() * 1000)


def _office(language: str | None):
    owner, _own = make_user_with_account(language=language)
    portal = make_portal(owner)
    _client_user, client_account = make_user_with_account()
    link_client(portal, client_account)
    modules.set_enabled(portal, "exact_online", True)
    connection = make_exact_connection(portal, divisions=[])
    connection.status = ConnectionStatus.CONNECTED
    make_division_link(client_account, connection, DIVISION, division_name="Bakkerij Jansen")
    _db.session.commit()
    return owner, client_account


@pytest.fixture
def dutch(db, login):
    owner, account = _office("nl")
    _rows(account)
    login(owner)
    return account


@pytest.fixture
def english(db, login):
    owner, account = _office("en")
    _rows(account)
    login(owner)
    return account


def _record(account, entity: str, exact_id: str, code, description, data: dict, **extra):
    return {
        "account_id": account.id,
        "entity": entity,
        "exact_id": exact_id,
        "code": code,
        "description": description,
        "data": data,
        "division_code": DIVISION,
        "deleted_at": extra.get("deleted_at"),
        "synced_at": datetime.now(UTC),
    }


def _line(account, n: int, gl: str, amount, when_ms: int, year: int, period: int, **data):
    return _record(
        account,
        "transaction_lines",
        f"tl-{n}",
        str(26000000 + n),
        data.get("Description", f"Regel {n}"),
        {
            "ID": f"tl-{n}",
            "EntryNumber": 26000000 + n,
            "LineNumber": 1,
            "JournalCode": data.pop("JournalCode", "70"),
            "Date": f"/Date({when_ms})/",
            "FinancialYear": year,
            "FinancialPeriod": period,
            "GLAccountCode": gl,
            "AccountCode": data.pop("AccountCode", "              1001"),
            "AmountDC": amount,
            "Description": f"Regel {n}",
            **data,
        },
    )


def _rows(account, extra_lines: int = 0) -> None:
    rows = [
        _record(
            account,
            "gl_accounts",
            "gl-4000",
            "4000",
            "Kantoorkosten",
            {"Code": "4000", "Description": "Kantoorkosten", "BalanceType": "W"},
        ),
        _record(
            account,
            "gl_accounts",
            "gl-1100",
            "1100",
            "Bank",
            {"Code": "1100", "Description": "Bank", "BalanceType": "B"},
        ),
        _record(
            account,
            "vat_codes",
            "vat-1",
            "1",
            "Verkopen hoog",
            {"Code": "1", "Description": "Verkopen hoog", "Percentage": 0.21, "Type": "E"},
        ),
        _record(
            account,
            "accounts",
            "acc-1001",
            "1001",
            "Drukkerij Pietersen",
            {"Code": "              1001", "Name": "Drukkerij Pietersen", "IsSupplier": True},
        ),
        _record(
            account,
            "journals",
            "j-70",
            "70",
            "Inkoopboek",
            {"Code": "70", "Description": "Inkoopboek", "Type": 22},
        ),
        _record(
            account,
            "accounts",
            "acc-gone",
            "1002",
            "Weg BV",
            {"Code": "1002", "Name": "Weg BV"},
            deleted_at=datetime(2026, 1, 15, 23, 30, tzinfo=UTC),
        ),
        _line(account, 1, "4000", -3961.85, MARCH_1, 2026, 3, Description="Kantoorartikelen"),
        _line(account, 2, "1100", 125.5, JAN_10, 2025, 1, JournalCode="20", AccountCode="  1009"),
    ]
    rows += [_line(account, 100 + i, "1100", 10, JAN_10, 2025, 1) for i in range(extra_lines)]
    _db.session.execute(ExactRecord.__table__.insert(), rows)
    _db.session.commit()


def _main(response) -> str:
    assert response.status_code == 200, response.status_code
    return response.get_data(as_text=True).split("<main>", 1)[1]


def _text(markup: str) -> str:
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", markup)))


def _headers(markup: str) -> list[str]:
    head = markup.split("<thead>", 1)[1].split("</thead>", 1)[0]
    return [_text(h).strip() for h in re.findall(r"<th[^>]*>(.*?)</th>", head, re.S) if h.strip()]


def _body_rows(markup: str) -> list[str]:
    body = markup.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    return [_text(r) for r in re.findall(r"<tr[^>]*>(.*?)</tr>", body, re.S)]


# --- headers and values in the user's language ---------------------------------------------------


def test_headers_are_translated_for_a_dutch_user(dutch, client):
    page = _main(client.get(f"/a/{dutch.id}/sync/data/gl_accounts"))
    headers = _headers(page)
    assert "Omschrijving" in headers and "Balanssoort" in headers
    assert "BalanceType" not in headers and "Description" not in headers
    rows = _body_rows(page)
    assert any("Winst-en-verliesrekening" in r for r in rows)
    assert any("Balans" in r for r in rows)


def test_english_headers_and_enumerations_in_words(english, client):
    page = _main(client.get(f"/a/{english.id}/sync/data/gl_accounts"))
    assert "Balance type" in _headers(page)
    rows = _body_rows(page)
    assert any("Profit and loss" in r for r in rows) and any("Balance sheet" in r for r in rows)


def test_amounts_are_money_in_the_users_locale(dutch, client):
    nl = html.unescape(_main(client.get(f"/a/{dutch.id}/sync/data/transaction_lines")))
    assert "€\xa0-3.961,85" in nl  # Babel's (CLDR's) Dutch pattern: a non-breaking space
    assert "-3961.85" not in nl


def test_amounts_in_english(english, client):
    en = _text(_main(client.get(f"/a/{english.id}/sync/data/transaction_lines")))
    assert "-€3,961.85" in en  # Babel's (CLDR's) English pattern puts the sign first


def test_vat_percentage_as_a_percentage(dutch, client):
    page = _text(_main(client.get(f"/a/{dutch.id}/sync/data/vat_codes")))
    assert "21%" in page and "0.21" not in page
    assert "Exclusief btw" in page


def test_times_show_in_europe_amsterdam(dutch, client, db):
    db.session.add(
        SyncState(
            account_id=dutch.id,
            cursors={},
            last_status="succeeded",
            last_run_at=datetime(2026, 7, 1, 22, 15, tzinfo=UTC),
        )
    )
    db.session.commit()
    page = _text(_main(client.get(f"/a/{dutch.id}/sync/data/accounts?deleted=1")))
    assert "16 jan 2026 00:30" in page  # 23:30 UTC on the 15th, in winter time
    assert "2 jul 2026 00:15" in page  # 22:15 UTC, in summer time
    assert "UTC" not in page


# --- transaction lines ------------------------------------------------------------------------


def test_transaction_lines_show_date_gl_account_relation_and_journal(dutch, client):
    page = _main(client.get(f"/a/{dutch.id}/sync/data/transaction_lines"))
    headers = _headers(page)
    for header in ("Datum", "Grootboekrekening", "Relatie", "Dagboek", "Omschrijving", "Bedrag"):
        assert header in headers, headers
    line = next(r for r in _body_rows(page) if "Kantoorartikelen" in r)
    assert "1 mrt 2026" in line
    assert "4000 Kantoorkosten" in line  # the name from the synced GL accounts
    assert "Drukkerij Pietersen" in line  # the relation from the synced accounts
    assert "70 Inkoopboek" in line


def test_filters_and_search_by_gl_account_code(dutch, client):
    url = f"/a/{dutch.id}/sync/data/transaction_lines"
    by_gl = _main(client.get(url + "?gl=4000"))
    assert "1 regel" in _text(by_gl) and "Kantoorartikelen" in by_gl
    assert "Regel 2" not in by_gl
    by_search = _main(client.get(url + "?q=4000"))
    assert "Kantoorartikelen" in by_search and "Regel 2" not in by_search
    by_year = _main(client.get(url + "?year=2025"))
    assert "Regel 2" in by_year and "Kantoorartikelen" not in by_year
    by_period = _main(client.get(url + "?year=2026&period=3"))
    assert "Kantoorartikelen" in by_period and "Regel 2" not in by_period
    by_journal = _main(client.get(url + "?journal=20"))
    assert "Regel 2" in by_journal and "Kantoorartikelen" not in by_journal
    by_relation = _main(client.get(url + "?relation=1001"))
    assert "Kantoorartikelen" in by_relation and "Regel 2" not in by_relation
    # nonsense filters are no error
    assert client.get(url + "?year=abc&period=-1&gl=%25").status_code == 200


def test_filters_survive_the_pager(db, login, client):
    owner, account = _office("nl")
    _rows(account, extra_lines=120)
    login(owner)
    page = _main(client.get(f"/a/{account.id}/sync/data/transaction_lines?gl=1100&year=2025"))
    assert "121 regels" in _text(page)
    pager = page.split('class="pager"', 1)[1].split("</nav>", 1)[0]
    next_link = html.unescape(re.search(r'href="([^"]+)" rel="next"', pager).group(1))
    assert "gl=1100" in next_link and "year=2025" in next_link and "page=2" in next_link


def test_the_page_costs_the_same_queries_for_5_or_200_lines(app, db, login, client):
    owner, account = _office("nl")
    _rows(account)
    login(owner)
    url = f"/a/{account.id}/sync/data/transaction_lines"

    def queries() -> int:
        with sql_statements(_db.engine) as statements:
            assert client.get(url).status_code == 200
        return len(statements)

    small = queries()
    lines = [
        _line(account, 1000 + i, f"{5000 + i}", i, MARCH_1, 2026, 3, AccountCode=f"{2000 + i}")
        for i in range(200)
    ]
    _db.session.execute(ExactRecord.__table__.insert(), lines)
    _db.session.commit()
    large = queries()
    assert large == small, (small, large)


# --- downloads ----------------------------------------------------------------------------------


def test_csv_download_has_the_filtered_rows_with_dutch_decimals(dutch, client):
    response = client.get(f"/a/{dutch.id}/sync/data/transaction_lines/download.csv?gl=4000")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    body = response.get_data()
    assert body.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig")), delimiter=";"))
    assert "Grootboekrekening" in rows[0] and "Bedrag" in rows[0]
    assert len(rows) == 2  # the header and the one filtered line
    line = dict(zip(rows[0], rows[1], strict=True))
    assert line["Bedrag"] == "-3961,85"
    assert Decimal(line["Bedrag"].replace(",", ".")) == Decimal("-3961.85")
    assert line["Grootboekrekening"] == "4000"
    assert line["Datum"] == "2026-03-01"


def test_csv_in_english_uses_commas_and_points(english, client):
    response = client.get(f"/a/{english.id}/sync/data/transaction_lines/download.csv")
    rows = list(csv.reader(io.StringIO(response.get_data().decode("utf-8-sig"))))
    assert len(rows) == 3
    amounts = {dict(zip(rows[0], r, strict=True))["Amount"] for r in rows[1:]}
    assert amounts == {"-3961.85", "125.50"}


def test_xlsx_download_has_the_filtered_rows_with_numbers(dutch, client):
    response = client.get(f"/a/{dutch.id}/sync/data/transaction_lines/download.xlsx?year=2026")
    assert response.status_code == 200
    assert response.mimetype.endswith("spreadsheetml.sheet")
    sheet = openpyxl.load_workbook(io.BytesIO(response.get_data())).active
    rows = list(sheet.iter_rows(values_only=True))
    assert len(rows) == 2
    line = dict(zip(rows[0], rows[1], strict=True))
    assert Decimal(str(line["Bedrag"])) == Decimal("-3961.85")
    assert line["Datum"].date() == datetime(2026, 3, 1).date()
    assert line["Grootboekrekening"] == "4000"


def test_xlsx_percentages_are_numbers(dutch, client):
    response = client.get(f"/a/{dutch.id}/sync/data/vat_codes/download.xlsx")
    sheet = openpyxl.load_workbook(io.BytesIO(response.get_data())).active
    rows = list(sheet.iter_rows(values_only=True))
    line = dict(zip(rows[0], rows[1], strict=True))
    assert Decimal(str(line["Percentage"])) == Decimal("0.21")


def test_a_download_above_the_limit_says_so(dutch, client, monkeypatch):
    from portal.blueprints import sync

    monkeypatch.setattr(sync, "MAX_DOWNLOAD_ROWS", 1)
    response = client.get(f"/a/{dutch.id}/sync/data/transaction_lines/download.csv")
    assert response.status_code == 302
    page = _text(_main(client.get(response.headers["Location"])))
    assert "2 regels" in page and "Verfijn de filters" in page
    # the filtered download within the limit still works
    ok = client.get(f"/a/{dutch.id}/sync/data/transaction_lines/download.csv?gl=4000")
    assert ok.status_code == 200
