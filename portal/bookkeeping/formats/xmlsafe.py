"""The one way the formats parse XML, and the readers of the values inside it.

``parse_xml`` first lets defusedxml read the prolog (up to the root element) with DTDs, entity
declarations and external references forbidden, so a billion-laughs bomb or an external entity
(``file:///etc/passwd``, ``http://…``) is refused before anything is expanded or fetched. Only
then does lxml build the tree, with a parser that resolves no entities, loads no DTD, uses no
network and refuses huge text nodes. A DOCTYPE can only stand before the root element, and an
undeclared entity is a well-formedness error, so reading the prolog is enough. Bytes that are
not in the encoding the document declares (UTF-8 when it declares none) are refused too.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import DefusedXMLParser
from lxml import etree

from portal.bookkeeping.formats import FormatError, VatSubtotal
from portal.messages import N_, Message

_CENT = Decimal("0.01")
_DECIMAL = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)")


class _RootReached(Exception):
    """Raised at the root element: the prolog, where a DTD could be, has been read."""


class _StopAtRoot:
    def start(self, tag: str, attrib: dict[str, str]) -> None:
        raise _RootReached

    def end(self, tag: str) -> None:  # pragma: no cover - the root is never closed here
        pass

    def data(self, data: str) -> None:
        pass

    def close(self) -> None:
        pass


def check_prolog(data: bytes) -> None:
    """Refuse a DOCTYPE, entity declaration or external reference (defusedxml, expat)."""
    parser = DefusedXMLParser(
        target=_StopAtRoot(), forbid_dtd=True, forbid_entities=True, forbid_external=True
    )
    try:
        parser.feed(data)
        parser.close()
    except _RootReached:
        return
    except DefusedXmlException as error:
        raise FormatError(
            N_("This XML file declares a DTD or entities, which are not accepted.")
        ) from error
    except (SyntaxError, ValueError, LookupError) as error:  # ParseError is a SyntaxError
        raise _unreadable(str(error)) from error
    raise FormatError(N_("This XML file has no content."))  # pragma: no cover - close() raises


def _unreadable(detail: str) -> FormatError:
    if "encoding" in detail.lower():
        return FormatError(
            N_("This XML file is not in the character encoding it declares (UTF-8 if none).")
        )
    return FormatError(N_("This XML file is damaged and cannot be read."))


_PARSER_OPTIONS: dict[str, Any] = {
    "resolve_entities": False,
    "no_network": True,
    "load_dtd": False,
    "dtd_validation": False,
    "huge_tree": False,
    "remove_comments": True,
    "remove_pis": True,
    "collect_ids": False,
}


def parse_xml(data: bytes) -> etree._Element:
    """The root element of ``data``, parsed safely; ``FormatError`` for anything dubious."""
    if not isinstance(data, bytes | bytearray):
        raise TypeError("parse_xml takes bytes")
    if not data.strip():
        raise FormatError(N_("The file is empty."))
    check_prolog(bytes(data))
    parser = etree.XMLParser(**_PARSER_OPTIONS)
    try:
        root = etree.fromstring(bytes(data), parser=parser)
    except etree.XMLSyntaxError as error:
        detail = " ".join(str(entry.type_name) + " " + entry.message for entry in error.error_log)
        raise _unreadable(detail or str(error)) from error
    info = root.getroottree().docinfo
    if info.doctype or info.internalDTD is not None or info.externalDTD is not None:
        raise FormatError(N_("This XML file declares a DTD or entities, which are not accepted."))
    return root


# --- values ----------------------------------------------------------------------------------


def text(
    node: etree._Element | None, path: str | None = None, ns: dict | None = None
) -> str | None:
    """The stripped text of ``node`` (or of its first ``path`` match); ``None`` when empty."""
    if node is not None and path is not None:
        node = node.find(path, ns)
    if node is None or node.text is None:
        return None
    value = " ".join(node.text.split())
    return value or None


def number(value: str | None, what: Message) -> Decimal | None:
    """A plain decimal (``12.5``, ``-3``): no exponent, no comma, no NaN."""
    if value is None:
        return None
    if not _DECIMAL.fullmatch(value.strip()):
        raise FormatError(N_("The %(field)s is not a number: %(value)s.", field=what, value=value))
    try:
        return Decimal(value.strip())
    except InvalidOperation as error:  # pragma: no cover - the pattern keeps these out
        raise FormatError(
            N_("The %(field)s is not a number: %(value)s.", field=what, value=value)
        ) from error


def amount(value: str | None, what: Message, *, required: bool = False) -> Decimal | None:
    """A monetary amount: at most two decimals (Peppol/EN 16931), returned with two places."""
    if value is None:
        if required:
            raise missing(what)
        return None
    result = number(value, what)
    assert result is not None
    decimals = value.strip().partition(".")[2]
    if len(decimals) > 2:
        raise FormatError(
            N_(
                "The %(field)s has more than two decimals: %(value)s.",
                field=what,
                value=value.strip(),
            )
        )
    return result.quantize(_CENT)


def iso_date(value: str | None, what: Message, *, required: bool = False) -> date | None:
    """A date as ``YYYY-MM-DD`` (a time or zone after it is ignored)."""
    if value is None:
        if required:
            raise missing(what)
        return None
    try:
        return date.fromisoformat(value.strip()[:10])
    except ValueError as error:
        raise FormatError(
            N_("The %(field)s is not a valid date: %(value)s.", field=what, value=value)
        ) from error


def compact_date(value: str | None, what: Message, *, required: bool = False) -> date | None:
    """A date as ``YYYYMMDD`` (UN/CEFACT format 102)."""
    if value is None:
        if required:
            raise missing(what)
        return None
    try:
        return datetime.strptime(value.strip(), "%Y%m%d").date()
    except ValueError as error:
        raise FormatError(
            N_("The %(field)s is not a valid date: %(value)s.", field=what, value=value)
        ) from error


def missing(what: Message) -> FormatError:
    return FormatError(N_("The invoice has no %(field)s.", field=what))


def negate(value: Decimal) -> Decimal:
    """``-value``, without a negative zero."""
    return -value if value else value


class Amounts:
    """An invoice's amounts as the portal books them: a credit note's negated."""

    def __init__(self, ns: dict, credit: bool) -> None:
        self.ns, self.credit = ns, credit

    def __call__(self, node, path: str, what: Message, *, required: bool = False):
        value = amount(text(node, path, self.ns), what, required=required)
        return None if value is None else (negate(value) if self.credit else value)

    def vat_subtotal(
        self, node, category: str, percent: str, taxable: str, tax: str
    ) -> VatSubtotal:
        """One VAT breakdown row (UBL's TaxSubtotal, CII's ApplicableTradeTax), by its paths."""
        code = text(node, category, self.ns)
        what = code or "?"
        return VatSubtotal(
            category=code,
            percent=number(
                text(node, percent, self.ns),
                N_("VAT percentage of category %(category)s", category=what),
            ),
            taxable=self(
                node,
                taxable,
                N_("taxable amount of VAT category %(category)s", category=what),
                required=True,
            ),
            tax=self(
                node,
                tax,
                N_("VAT amount of VAT category %(category)s", category=what),
                required=True,
            ),
        )
