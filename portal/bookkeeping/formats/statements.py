"""Bank statements: MT940 (with the SEPA ``:86:`` details of ING, ABN AMRO and Rabobank) and
ISO 20022 camt.053 (any 001.xx version; 001.02, .04 and .08 are the ones in use).

Every statement is checked: its account must be a valid IBAN and its opening balance plus its
lines must give its closing balance. Each line gets a ``key`` that is the same whenever the
same transaction arrives again (a statement downloaded twice, two overlapping statements): the
bank's reference when it gives one, else a hash of what identifies the transaction. A key that
occurs more than once in one file (two identical payments without a bank reference) gets
``#2``, ``#3``, … so that neither is lost; downloaded again, they get the same suffixes.
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from datetime import date
from decimal import Decimal

from lxml import etree

from portal.bookkeeping.formats import FormatError, Statement, StatementLine, clean_iban
from portal.bookkeeping.formats.xmlsafe import number, parse_xml
from portal.messages import N_

CAMT053 = re.compile(r"urn:iso:std:iso:20022:tech:xsd:camt\.053\.001\.\d{2}")
_CENT = Decimal("0.01")
_NOT_PROVIDED = {"NOTPROVIDED", "NONREF", "NOT PROVIDED"}
_MT940_START = re.compile(r"\A(?:\{1:|:20:|(?:[^\n]{0,80}\n){1,6}:20:)")


def parse_statement(data: bytes) -> list[Statement]:
    """The statements in an MT940 or camt.053 file; ``FormatError`` for any other file, a
    wrong encoding, an invalid account IBAN, or balances that do not add up."""
    if not data or not data.strip():
        raise FormatError(N_("The file is empty."))
    head = data[:4096].lstrip(b"\xef\xbb\xbf \t\r\n")
    if head.startswith(b"<"):
        statements = _camt053(data)
    else:
        text = _decode(data)
        if not _MT940_START.match(text.lstrip("\ufeff \t\r\n")):
            raise _not_a_statement()
        statements = _mt940(text)
    _number_duplicate_keys(statements)
    return statements


def _not_a_statement() -> FormatError:
    return FormatError(N_("This file is not an MT940 or camt.053 bank statement."))


# --- MT940 -----------------------------------------------------------------------------------


def _decode(data: bytes) -> str:
    """MT940 text: UTF-8, else Windows-1252 (what Dutch banks send); binary data is refused."""
    data = data.removeprefix(b"\xef\xbb\xbf")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        text = data.decode("cp1252", errors="replace")
    if re.search(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufffd]", text):
        raise FormatError(N_("This statement is not a text file in a known character encoding."))
    return text


def _strip_envelope(text: str) -> str:
    """Drop the SWIFT envelope (``{1:…}{2:…}{4:`` … ``-}``) around each message."""
    lines = []
    for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        stripped = line.strip()
        if stripped.startswith("{"):
            stripped = re.sub(r"^(?:\{[1-3]:(?:\{[^{}]*\}|[^{}])*\})*(?:\{4:)?", "", stripped)
            line = stripped
        if stripped.startswith("-}") or stripped.startswith("{5:") or stripped == "}":
            continue
        lines.append(line)
    return "\n".join(lines)


def _mt940(text: str) -> list[Statement]:
    import mt940

    try:
        blocks = mt940.parse_statements(_strip_envelope(text), options=mt940.Options.all())
    except Exception as error:  # noqa: BLE001 - the library raises RuntimeError, ValueError, …
        raise FormatError(N_("This MT940 statement is damaged and cannot be read.")) from error
    if not blocks:
        raise _not_a_statement()
    return [_mt940_statement(block) for block in blocks]


def _account_iban(value: str) -> str:
    """The IBAN of ``:25:``: ``NL…``, ``NL… EUR``, ``NL…EUR`` or ``BIC/NL…``."""
    candidate = value.strip().rsplit("/", 1)[-1].replace(" ", "").upper()
    iban = clean_iban(candidate)
    if iban is None and re.fullmatch(r".+[A-Z]{3}", candidate):
        iban = clean_iban(candidate[:-3])
    if iban is None:
        raise FormatError(
            N_("The statement's account %(account)s is not a valid IBAN.", account=value.strip())
        )
    return iban


def _mt940_statement(block) -> Statement:
    data = block.data
    account = data.get("account_identification")
    if not account:
        raise FormatError(N_("The statement has no account (:25:)."))
    iban = _account_iban(str(account))
    currency = block.currency
    opening = data.get("final_opening_balance") or data.get("intermediate_opening_balance")
    closing = data.get("final_closing_balance") or data.get("intermediate_closing_balance")
    lines = []
    for transaction in block:
        details = transaction.data
        if "amount" not in details:
            continue  # an :86: before any :61:
        value = Decimal(details["amount"].amount)
        line_currency = details["amount"].currency or currency
        if not line_currency:
            raise FormatError(N_("The statement has no currency."))
        currency = currency or line_currency
        value_date = _plain_date(details.get("date"))
        booking_date = _plain_date(details.get("entry_date")) or value_date
        sepa = _mt940_details(details)
        bank_reference = _reference(details.get("bank_reference"))
        line = StatementLine(
            key="",
            booking_date=booking_date,
            value_date=value_date,
            amount=_cents(value),
            currency=line_currency,
            counterparty_name=sepa["name"],
            counterparty_iban=sepa["iban"],
            description=sepa["description"],
            end_to_end_id=sepa["eref"],
            bank_reference=bank_reference,
            reversal=str(details.get("status", "")).upper().startswith("R"),
        )
        line.key = bank_reference or _hash_key(iban, line)
        lines.append(line)
    if not currency:
        raise FormatError(N_("The statement has no currency."))
    statement = Statement(
        format="mt940",
        iban=iban,
        currency=currency,
        statement_id=_text(data.get("transaction_reference")),
        opening_balance=_cents(Decimal(opening.amount.amount)) if opening else None,
        closing_balance=_cents(Decimal(closing.amount.amount)) if closing else None,
        lines=lines,
    )
    _check_balances(statement)
    return statement


def _plain_date(value) -> date | None:
    return date(value.year, value.month, value.day) if value else None


def _text(value) -> str | None:
    if value is None:
        return None
    text = " ".join(str(value).split())
    return text or None


def _reference(value) -> str | None:
    text = _text(value)
    return None if text is None or text.upper() in _NOT_PROVIDED else text


# The SEPA keys of a structured ``:86:`` (ING, ABN AMRO, Rabobank): ``/KEY/value``.
_SEPA_KEYS = (
    "TRTP|IBAN|BIC|NAME|REMI|EREF|CSID|MARF|ORDP|BENM|CNTP|PREF|RTRN|ADDR|ISDT|PURP|ULTC|ULTD|"
    "ULTB|SVCL|CREF|CDTRREFTP|CDTRREF|FX|EXCH|CHGS|OAMT|NRTX|TRID"
)
_SEPA_KEY = re.compile(rf"/({_SEPA_KEYS})/")


def _sepa_fields(details: str) -> dict[str, str]:
    """``/TRTP/SEPA OVERBOEKING/IBAN/NL…/NAME/…/REMI/…`` as a dict (first occurrence wins)."""
    fields: dict[str, str] = {}
    matches = list(_SEPA_KEY.finditer(details))
    for index, match in enumerate(matches):
        if index and match.start() < matches[index - 1].end():
            continue
        end = matches[index + 1].start() if index + 1 < len(matches) else len(details)
        fields.setdefault(match.group(1), details[match.end() : end])
    return fields


def _mt940_details(details: dict) -> dict[str, str | None]:
    """Counterparty, description and end-to-end id of a transaction's ``:86:``."""
    if details.get("purpose") or details.get("applicant_name"):  # German ``?20`` structure
        return {
            "name": _text(details.get("applicant_name")),
            "iban": clean_iban(_text(details.get("applicant_iban"))),
            "description": _text(details.get("purpose")) or "",
            "eref": _reference(details.get("end_to_end_reference")),
        }
    raw = str(details.get("transaction_details") or "")
    joined = "".join(line.strip("\r") for line in raw.split("\n"))
    if not _SEPA_KEY.search(joined):
        counterparty_iban = _iban_in(str(details.get("extra_details") or ""))
        return {
            "name": None,
            "iban": counterparty_iban,
            "description": " ".join(raw.split()),
            "eref": None,
        }
    fields = _sepa_fields(joined)
    name = fields.get("NAME")
    iban = fields.get("IBAN")
    if "CNTP" in fields:  # ING: /CNTP/iban/bic/name/city/
        parts = fields["CNTP"].split("/")
        iban = iban or (parts[0] if parts else None)
        name = name or (parts[2] if len(parts) > 2 else None)
    remi = fields.get("REMI", "")
    for prefix in ("USTD//", "USTD/"):
        if remi.startswith(prefix):
            remi = remi[len(prefix) :]
            break
    else:
        if remi.startswith("STRD/"):  # /REMI/STRD/CUR/1234567890/
            remi = remi.rsplit("/", 2)[-2] if remi.endswith("/") else remi.rsplit("/", 1)[-1]
    counterparty_iban = clean_iban(_text(iban)) or _iban_in(str(details.get("extra_details") or ""))
    return {
        "name": _text(name.strip("/")) if name else None,
        "iban": counterparty_iban,
        "description": _text(remi.strip("/")) or "",
        "eref": _reference(fields.get("EREF", "").strip("/")),
    }


def _iban_in(text: str) -> str | None:
    """Rabobank puts the counterparty's IBAN on the second line of ``:61:``."""
    match = re.search(r"\b[A-Z]{2}\d{2}[A-Z0-9]{10,30}\b", text.replace(" ", ""))
    return clean_iban(match.group(0)) if match else None


# --- camt.053 --------------------------------------------------------------------------------


def _camt053(data: bytes) -> list[Statement]:
    root = parse_xml(data)
    qname = etree.QName(root)
    if qname.localname != "Document" or not CAMT053.fullmatch(qname.namespace or ""):
        raise _not_a_statement()
    ns = {"c": qname.namespace}
    statements = [_camt_statement(node, ns) for node in root.iterfind("c:BkToCstmrStmt/c:Stmt", ns)]
    if not statements:
        raise _not_a_statement()
    return statements


def _find(node, path: str, ns: dict) -> str | None:
    found = node.find(path, ns)
    return _text(found.text) if found is not None else None


def _signed(node, ns: dict, indicator: str | None = None) -> tuple[Decimal, str | None] | None:
    """The ``Amt`` under ``node`` signed by ``CdtDbtInd`` (debit negative), and its currency."""
    amount = node.find("c:Amt", ns)
    if amount is None:
        return None
    value = number(_text(amount.text), N_("amount"))
    if value is None:
        return None
    if (indicator or _find(node, "c:CdtDbtInd", ns)) == "DBIT":
        value = -value
    return _cents(value), amount.get("Ccy")


def _camt_date(node, path: str, ns: dict) -> date | None:
    value = _find(node, f"{path}/c:Dt", ns) or _find(node, f"{path}/c:DtTm", ns)
    if value is None:
        return None
    try:
        return date.fromisoformat(value[:10])
    except ValueError as error:
        raise FormatError(
            N_("The statement has an invalid date: %(value)s.", value=value)
        ) from error


def _camt_statement(node, ns: dict) -> Statement:
    account = _find(node, "c:Acct/c:Id/c:IBAN", ns)
    if not account:
        raise FormatError(N_("The statement has no account IBAN."))
    iban = clean_iban(account)
    if iban is None:
        raise FormatError(
            N_("The statement's account %(account)s is not a valid IBAN.", account=account)
        )
    currency = _find(node, "c:Acct/c:Ccy", ns)
    opening = closing = previous_closing = None
    for balance in node.iterfind("c:Bal", ns):
        code = _find(balance, "c:Tp/c:CdOrPrtry/c:Cd", ns)
        signed = _signed(balance, ns)
        if signed is None:
            continue
        currency = currency or signed[1]
        if code == "OPBD":
            opening = signed[0]
        elif code == "PRCD":
            previous_closing = signed[0]
        elif code == "CLBD":
            closing = signed[0]
    if opening is None:
        opening = previous_closing
    lines: list[StatementLine] = []
    for entry in node.iterfind("c:Ntry", ns):
        status = _find(entry, "c:Sts", ns) or _find(entry, "c:Sts/c:Cd", ns) or "BOOK"
        if status != "BOOK":
            continue
        lines.extend(_camt_entry(entry, ns, iban, currency))
    if not currency:
        currency = lines[0].currency if lines else None
    if not currency:
        raise FormatError(N_("The statement has no currency."))
    statement = Statement(
        format="camt053",
        iban=iban,
        currency=currency,
        statement_id=_find(node, "c:Id", ns),
        opening_balance=opening,
        closing_balance=closing,
        lines=lines,
    )
    _check_balances(statement)
    return statement


def _camt_entry(entry, ns: dict, iban: str, currency: str | None) -> list[StatementLine]:
    signed = _signed(entry, ns)
    if signed is None:
        raise FormatError(N_("An entry of the statement has no amount."))
    amount, line_currency = signed
    line_currency = line_currency or currency or ""
    indicator = _find(entry, "c:CdtDbtInd", ns)
    booking_date = _camt_date(entry, "c:BookgDt", ns)
    if booking_date is None:
        raise FormatError(N_("An entry of the statement has no booking date."))
    value_date = _camt_date(entry, "c:ValDt", ns)
    reversal = (_find(entry, "c:RvslInd", ns) or "").lower() in {"true", "1"}
    reference = _reference(_find(entry, "c:AcctSvcrRef", ns))
    entry_info = _find(entry, "c:AddtlNtryInf", ns)
    details = entry.findall("c:NtryDtls/c:TxDtls", ns)

    def line(tx, value: Decimal, tx_indicator: str | None, index: int | None) -> StatementLine:
        party, account = ("Cdtr", "CdtrAcct") if tx_indicator == "DBIT" else ("Dbtr", "DbtrAcct")
        name = e2e = description = counterparty_iban = None
        if tx is not None:
            name = _find(tx, f"c:RltdPties/c:{party}/c:Nm", ns) or _find(
                tx, f"c:RltdPties/c:{party}/c:Pty/c:Nm", ns
            )
            counterparty_iban = clean_iban(_find(tx, f"c:RltdPties/c:{account}/c:Id/c:IBAN", ns))
            e2e = _reference(_find(tx, "c:Refs/c:EndToEndId", ns))
            unstructured = [_text(node.text) for node in tx.iterfind("c:RmtInf/c:Ustrd", ns)]
            structured = [
                _text(node.text) for node in tx.iterfind("c:RmtInf/c:Strd/c:CdtrRefInf/c:Ref", ns)
            ]
            description = (
                " ".join(filter(None, unstructured))
                or " ".join(filter(None, structured))
                or _find(tx, "c:AddtlTxInf", ns)
            )
        result = StatementLine(
            key="",
            booking_date=booking_date,
            value_date=value_date,
            amount=value,
            currency=line_currency,
            counterparty_name=name,
            counterparty_iban=counterparty_iban,
            description=description or entry_info or "",
            end_to_end_id=e2e,
            bank_reference=reference,
            reversal=reversal,
        )
        base = reference or _hash_key(iban, result)
        result.key = base if index is None else f"{base}/{index}"
        return result

    if len(details) > 1:
        parts = []
        for tx in details:
            tx_indicator = _find(tx, "c:CdtDbtInd", ns) or indicator
            amount_node = tx.find("c:AmtDtls/c:TxAmt", ns)
            signed_tx = _signed(amount_node, ns, tx_indicator) if amount_node is not None else None
            signed_tx = signed_tx or _signed(tx, ns, tx_indicator)
            if signed_tx is None:
                break
            parts.append((tx, signed_tx[0], tx_indicator))
        # A batch whose parts have no amounts of their own, or do not add up to the entry,
        # stays one line (the balance check needs the entry's amount).
        if len(parts) == len(details) and sum(part[1] for part in parts) == amount:
            return [
                line(tx, value, tx_indicator, index)
                for index, (tx, value, tx_indicator) in enumerate(parts, start=1)
            ]
        return [line(None, amount, indicator, None)]
    return [line(details[0] if details else None, amount, indicator, None)]


# --- both ------------------------------------------------------------------------------------


def _cents(value: Decimal) -> Decimal:
    return value.quantize(_CENT) if value == value.quantize(_CENT) else value


def _hash_key(iban: str, line: StatementLine) -> str:
    parts = [
        iban,
        line.booking_date.isoformat(),
        f"{line.amount:.2f}",
        line.counterparty_iban or "",
        line.counterparty_name or "",
        line.end_to_end_id or "",
        line.description,
    ]
    return "sha256:" + hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()


def _number_duplicate_keys(statements: list[Statement]) -> None:
    seen: Counter[str] = Counter()
    for statement in statements:
        for line in statement.lines:
            seen[line.key] += 1
            if seen[line.key] > 1:
                line.key = f"{line.key}#{seen[line.key]}"


def _check_balances(statement: Statement) -> None:
    if statement.opening_balance is None or statement.closing_balance is None:
        return
    total = sum((line.amount for line in statement.lines), Decimal("0.00"))
    if statement.opening_balance + total != statement.closing_balance:
        raise FormatError(
            N_(
                "The statement's balances do not add up (opening balance %(opening)s + "
                "transactions %(total)s ≠ closing balance %(closing)s).",
                opening=f"{statement.opening_balance:.2f}",
                total=f"{total:.2f}",
                closing=f"{statement.closing_balance:.2f}",
            )
        )
