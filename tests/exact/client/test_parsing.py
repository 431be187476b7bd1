from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from portal.exact.client.parsing import (
    clean_record,
    endpoint_of,
    filter_datetime,
    format_date,
    normalize_code,
    pad_account_code,
    parse_date,
    parse_dates,
    unwrap,
    unwrap_one,
)


def test_parse_date_milliseconds_is_aware_utc():
    value = parse_date("/Date(1382667872203)/")
    assert value == datetime(2013, 10, 25, 2, 24, 32, 203000, tzinfo=UTC)
    assert value.tzinfo is not None and value.utcoffset() == timedelta(0)


def test_parse_date_offset_does_not_move_the_instant():
    assert parse_date("/Date(1382667872203+0100)/") == parse_date("/Date(1382667872203)/")
    assert parse_date("/Date(1382667872203-0530)/") == parse_date("/Date(1382667872203)/")


def test_parse_date_negative_and_empty():
    assert parse_date("/Date(-86400000)/") == datetime(1969, 12, 31, tzinfo=UTC)
    assert parse_date(None) is None
    assert parse_date("") is None
    with pytest.raises(ValueError):
        parse_date("2026-01-01")


def test_format_date_iso_without_zone():
    assert format_date(date(2026, 1, 31)) == "2026-01-31T00:00:00"
    assert format_date(datetime(2026, 1, 31, 13, 5, 7, 999)) == "2026-01-31T13:05:07"
    cet = timezone(timedelta(hours=1))
    assert format_date(datetime(2026, 1, 31, 13, 0, tzinfo=cet)) == "2026-01-31T12:00:00"
    assert filter_datetime(date(2026, 1, 1)) == "datetime'2026-01-01T00:00:00'"


def test_account_codes():
    assert normalize_code("              1001") == "1001"
    assert normalize_code(None) is None
    assert pad_account_code("1001") == " " * 14 + "1001"
    assert len(pad_account_code(7)) == 18


def test_unwrap_results_with_next_drops_metadata_and_deferred():
    payload = {
        "d": {
            "results": [
                {
                    "__metadata": {"uri": "x", "type": "Exact.Web.Api.Models.GLAccount"},
                    "ID": "a",
                    "Code": "  1000",
                    "BalanceSide": {"__deferred": {"uri": "y"}},
                }
            ],
            "__next": "https://start.exactonline.nl/api/v1/1/x?$skiptoken=guid'a'",
        }
    }
    rows, next_url = unwrap(payload)
    assert rows == [{"ID": "a", "Code": "  1000"}]
    assert next_url.endswith("$skiptoken=guid'a'")


def test_unwrap_bare_list_and_single_record():
    assert unwrap({"d": [{"ID": 1, "__metadata": {}}]}) == ([{"ID": 1}], None)
    assert unwrap({"d": {"results": []}}) == ([], None)
    single = {"d": {"__metadata": {}, "EntryID": "e", "EntryNumber": 7}}
    assert unwrap(single) == ([{"EntryID": "e", "EntryNumber": 7}], None)
    assert unwrap_one(single) == {"EntryID": "e", "EntryNumber": 7}
    assert unwrap_one({"d": []}) is None
    with pytest.raises(ValueError):
        unwrap({"error": "x"})


def test_expanded_navigation_properties_become_lists():
    record = {"ID": 1, "Lines": {"results": [{"__metadata": {}, "Amount": 5}]}}
    assert clean_record(record) == {"ID": 1, "Lines": [{"Amount": 5}]}


def test_parse_dates_in_a_record():
    record = parse_dates({"Modified": "/Date(0)/", "Name": "x"})
    assert record == {"Modified": datetime(1970, 1, 1, tzinfo=UTC), "Name": "x"}


@pytest.mark.parametrize(
    ("value", "endpoint"),
    [
        ("financial/GLAccounts", "financial/GLAccounts"),
        ("/financial/GLAccounts?$select=ID", "financial/GLAccounts"),
        (
            "https://start.exactonline.nl/api/v1/123/financial/GLAccounts(guid'abc')?$select=ID",
            "financial/GLAccounts",
        ),
        ("https://start.exactonline.nl/api/v1/current/Me", "current/Me"),
        ("http://127.0.0.1:5001/api/v1/9/sync/Financial/GLAccounts", "sync/Financial/GLAccounts"),
    ],
)
def test_endpoint_of(value, endpoint):
    assert endpoint_of(value) == endpoint
