"""Hostile and badly encoded XML is refused, never expanded, never fetched."""

from __future__ import annotations

import http.server
import threading
import time

import pytest

from portal.bookkeeping.formats import FormatError, parse_statement, parse_ubl
from portal.bookkeeping.formats.xmlsafe import parse_xml
from tests.bookkeeping import samples


@pytest.fixture
def listener():
    """A local HTTP server that records every request made to it."""
    hits: list[str] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802
            hits.append(self.path)
            body = b'<!ENTITY xxe "fetched">'
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", hits
    server.shutdown()
    server.server_close()


def test_billion_laughs_is_refused_quickly():
    started = time.monotonic()
    with pytest.raises(FormatError) as error:
        parse_ubl(samples.xml_bomb())
    assert time.monotonic() - started < 1
    assert error.value.message.template == (
        "This XML file declares a DTD or entities, which are not accepted."
    )


def test_external_file_entity_is_refused_and_not_read():
    with pytest.raises(FormatError) as error:
        parse_ubl(samples.xxe_xml("file:///etc/passwd"))
    assert "DTD or entities" in str(error.value)
    assert "root:" not in str(error.value)
    assert "root:" not in repr(error.value.__cause__)


def test_external_entity_over_http_is_refused_and_not_fetched(listener):
    url, hits = listener
    with pytest.raises(FormatError, match="DTD or entities"):
        parse_ubl(samples.xxe_xml(f"{url}/secret"))
    with pytest.raises(FormatError, match="DTD or entities"):
        parse_ubl(samples.xxe_dtd_xml(f"{url}/evil.dtd"))
    with pytest.raises(FormatError, match="DTD or entities"):
        parse_statement(samples.xxe_dtd_xml(f"{url}/evil.dtd"))
    time.sleep(0.1)
    assert hits == []


def test_the_listener_does_record_requests(listener):
    # The no-fetch test above is only meaningful if a request would be seen.
    import urllib.request

    url, hits = listener
    urllib.request.urlopen(f"{url}/probe", timeout=5).read()
    assert hits == ["/probe"]


def test_undeclared_entity_is_refused():
    with pytest.raises(FormatError):
        parse_xml(b"<a>&xxe;</a>")


def test_declared_utf8_with_latin1_bytes():
    data = samples.ubl_invoice(supplier_name="Caf\u00e9 Zo\u00eb").decode().encode("latin-1")
    with pytest.raises(FormatError) as error:
        parse_ubl(data)
    assert "encoding" in str(error.value)


def test_latin1_declared_as_such_is_read():
    text = samples.ubl_invoice(supplier_name="Caf\u00e9 Zo\u00eb").decode()
    text = text.replace('encoding="UTF-8"', 'encoding="ISO-8859-1"')
    invoice = parse_ubl(text.encode("latin-1"))
    assert invoice.supplier.name == "Caf\u00e9 Zo\u00eb"


def test_utf16_with_bom_is_read():
    text = samples.ubl_invoice().decode().replace('encoding="UTF-8"', 'encoding="UTF-16"')
    assert parse_ubl(text.encode("utf-16")).number == "INV-2025-0042"


@pytest.mark.parametrize(
    "data",
    [
        bytes(range(256)),
        b"<a><b></a>",
        b"<?xml version='1.0'?>",
        b"   ",
    ],
)
def test_junk_is_refused(data):
    with pytest.raises(FormatError):
        parse_xml(data)
