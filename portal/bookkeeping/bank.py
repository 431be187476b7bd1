"""Bank and card statements (MT940, camt.053): import them, list their transactions.

An import is all or nothing: the file, the statements, the transactions and the items made of
them are committed together, or — on any error — none of it stays (the stored file is deleted
again). Re-importing the same file, or a statement that overlaps one imported before, is no
error: a transaction whose ``key`` (the parser's: the bank's reference, else a hash of what
identifies the payment) is already there for that bank account is skipped.

Each new debit (not a reversal) becomes a ``BANK`` item to prepare: the amount paid, the
counterparty as supplier (matched with Exact's suppliers by name), the remittance text as
description, the supplier rule's proposal, and its receipt when one is already there
(``pairing``). Credits are kept as transactions but are no items.

Made for statements of 10,000 lines: the existing keys come in a query per 5,000 lines,
items are flushed in one batch and transactions inserted in bulk.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import date
from uuid import uuid4

from sqlalchemy import Select, func, insert, or_, select
from sqlalchemy.orm import aliased

from portal import audit, clock
from portal.bookkeeping import formats, pairing, settings
from portal.bookkeeping.files import clean_filename, max_file_size, size_text
from portal.bookkeeping.masterdata import MasterData
from portal.bookkeeping.rules import default_journal, propose
from portal.bookkeeping.storage import storage
from portal.extensions import db
from portal.messages import N_, Message
from portal.models import (
    Account,
    BankAccount,
    BankStatement,
    BankTransaction,
    BookItem,
    ItemKind,
    StoredFile,
    SupplierRule,
    User,
)

# What a statement file is stored as (``StoredFile.file_type``).
FILE_TYPES = {"camt053": "xml", "mt940": "mt940"}


@dataclass
class ImportResult:
    """What one statement file brought: statements, lines in it, lines new, items made."""

    filename: str
    statements: int = 0
    lines_total: int = 0
    lines_new: int = 0
    items_new: int = 0
    paired: int = 0
    bank_accounts: list[str] = field(default_factory=list)

    @property
    def duplicates(self) -> int:
        """Lines skipped because they were imported before."""
        return self.lines_total - self.lines_new

    @property
    def summary(self) -> Message:
        """In words: "12 transactions, 3 new, 9 already imported"."""
        numbers = {"total": self.lines_total, "new": self.lines_new, "old": self.duplicates}
        if self.lines_total == 1:
            return N_("%(total)s transaction, %(new)s new, %(old)s already imported", **numbers)
        return N_("%(total)s transactions, %(new)s new, %(old)s already imported", **numbers)


def import_statement(
    account: Account, user: User | None, filename: str, data: bytes
) -> ImportResult:
    """Import a statement file into the account; commits, or raises and keeps nothing.

    ``formats.FormatError`` (its ``message`` is for the user) when the file is no MT940 or
    camt.053 statement, or a statement in it is wrong (IBAN, balances)."""
    check_size(data)
    statements = formats.parse_statement(data)
    written: list[str] = []
    try:
        stored = _store_file(account, user, filename, data, statements[0].format, written)
        result = ImportResult(filename=filename)
        master = MasterData.of(account)
        rule_codes = _rule_codes(account.id)
        for statement in statements:
            _import_one(account, user, stored, statement, result, master, rule_codes)
        audit.record(
            account,
            "bookkeeping.statement_imported",
            filename[:200],
            actor=user,
            statements=result.statements,
            lines=result.lines_total,
            new=result.lines_new,
        )
        db.session.commit()
    except BaseException:
        db.session.rollback()
        for key in written:
            storage().delete(key)
        raise
    return result


def _store_file(
    account: Account,
    user: User | None,
    filename: str,
    data: bytes,
    statement_format: str,
    written: list[str],
) -> StoredFile:
    """The statement's StoredFile: the one already there for the same bytes (importing a
    statement again is allowed: it adds nothing new), else a new one whose storage key is added
    to ``written`` (deleted again by the caller when the import fails).

    Not ``files.store_upload``: that one refuses the same bytes twice and takes only the file
    types of receipts, and an MT940 file is text."""
    sha256 = hashlib.sha256(data).hexdigest()
    existing = db.session.scalar(
        select(StoredFile).where(StoredFile.account_id == account.id, StoredFile.sha256 == sha256)
    )
    if existing is not None:
        return existing
    key = f"{account.id}/{uuid4().hex}"
    storage().put(key, data)
    written.append(key)
    stored = StoredFile(
        account_id=account.id,
        sha256=sha256,
        storage_key=key,
        filename=clean_filename(filename, "statement"),
        file_type=FILE_TYPES.get(statement_format, statement_format)[:10],
        size=len(data),
        uploaded_by_id=user.id if user else None,
        uploaded_at=clock.now(),
    )
    db.session.add(stored)
    db.session.flush()
    return stored


def check_size(data: bytes) -> None:
    """``FormatError`` for a statement larger than the upload limit (``MAX_FILE_SIZE``)."""
    limit = max_file_size()
    if len(data) > limit:
        raise formats.FormatError(
            N_("The file is too large: at most %(limit)s per file.", limit=size_text(limit))
        )


def _rule_codes(account_id: int) -> set[str]:
    """Supplier codes that have a rule (so ``propose`` is asked only where it can propose)."""
    return set(
        db.session.scalars(
            select(SupplierRule.supplier_code).where(SupplierRule.account_id == account_id)
        )
    )


def bank_account_for(account: Account, iban: str) -> BankAccount:
    """The account's bank account with this IBAN, made on its first statement."""
    found = db.session.scalar(
        select(BankAccount).where(BankAccount.account_id == account.id, BankAccount.iban == iban)
    )
    if found is None:
        found = BankAccount(account_id=account.id, iban=iban, created_at=clock.now())
        db.session.add(found)
        db.session.flush()
    return found


KEYS_PER_QUERY = 5_000  # well under the bound-parameter limits of SQLite and PostgreSQL


def _existing_keys(bank_account: BankAccount, keys: list[str]) -> set[str]:
    """Which of ``keys`` the bank account has already: one query per 5,000 keys, never one
    per line."""
    found: set[str] = set()
    for start in range(0, len(keys), KEYS_PER_QUERY):
        found.update(
            db.session.scalars(
                select(BankTransaction.key).where(
                    BankTransaction.account_id == bank_account.account_id,
                    BankTransaction.bank_account_id == bank_account.id,
                    BankTransaction.key.in_(keys[start : start + KEYS_PER_QUERY]),
                )
            )
        )
    return found


def _cut(value: str | None, length: int) -> str | None:
    return value[:length] if value else value


def _import_one(
    account: Account,
    user: User | None,
    stored: StoredFile,
    statement: formats.Statement,
    result: ImportResult,
    master: MasterData,
    rule_codes: set[str],
) -> None:
    bank_account = bank_account_for(account, statement.iban)
    seen = _existing_keys(bank_account, [line.key[:100] for line in statement.lines])
    new_lines = []
    for line in statement.lines:
        key = line.key[:100]
        if key not in seen:
            seen.add(key)
            new_lines.append(line)
    row = BankStatement(
        account_id=account.id,
        bank_account_id=bank_account.id,
        file_id=stored.id,
        format=statement.format[:10],
        statement_ref=_cut(statement.statement_id, 64),
        opening_balance=statement.opening_balance,
        closing_balance=statement.closing_balance,
        lines_total=len(statement.lines),
        lines_new=len(new_lines),
        imported_at=clock.now(),
        imported_by_id=user.id if user else None,
    )
    db.session.add(row)
    db.session.flush()
    items = _items_for(account, user, statement, new_lines, master, rule_codes)
    if new_lines:
        db.session.execute(
            insert(BankTransaction),
            [
                _transaction_row(account, bank_account, row, line, items.get(index))
                for index, line in enumerate(new_lines)
            ],
        )
    result.statements += 1
    result.lines_total += row.lines_total
    result.lines_new += row.lines_new
    result.items_new += len(items)
    result.paired += pairing.pair_items(list(items.values()))
    if statement.iban not in result.bank_accounts:
        result.bank_accounts.append(statement.iban)


def is_purchase(line: formats.StatementLine) -> bool:
    """A debit that is a payment (a reversed credit is no purchase)."""
    return line.amount < 0 and not line.reversal


def _items_for(
    account: Account,
    user: User | None,
    statement: formats.Statement,
    lines: list[formats.StatementLine],
    master: MasterData,
    rule_codes: set[str],
) -> dict[int, BookItem]:
    """The BANK items of the new debits, flushed in one batch: {index in ``lines``: item}."""
    items: dict[int, BookItem] = {}
    journal = None
    for index, line in enumerate(lines):
        if not is_purchase(line):
            continue
        item = _item_of(account, user, statement, line, master)
        if journal is None:  # the same for every debit: looked up once
            journal = default_journal(item, master, settings.of(account.id)) or ""
        item.journal_code, item.entry_date = journal or None, item.document_date
        if item.supplier_code in rule_codes:
            propose(item, master)
        items[index] = item
    db.session.add_all(items.values())
    db.session.flush()
    return items


def _item_of(
    account: Account,
    user: User | None,
    statement: formats.Statement,
    line: formats.StatementLine,
    master: MasterData,
) -> BookItem:
    supplier = master.supplier_for(None, line.counterparty_name)
    return BookItem(
        account_id=account.id,
        kind=ItemKind.BANK,
        source=_source(statement, line),
        supplier_name=_cut(line.counterparty_name, 255),
        supplier_iban=_cut(line.counterparty_iban, 34),
        document_date=line.booking_date,
        currency=(line.currency or statement.currency or "EUR")[:3],
        amount=-line.amount,
        supplier_code=supplier.code if supplier else None,
        supplier_exact_id=supplier.exact_id if supplier else None,
        supplier_unknown=supplier is None,
        description=_cut(line.description, 255) or None,
        created_at=clock.now(),
        created_by_id=user.id if user else None,
    )


def _source(statement: formats.Statement, line: formats.StatementLine) -> dict:
    """The transaction as it came, for the item's "what arrived" (JSON: texts, no Decimal)."""
    return {
        "type": "bank_transaction",
        "format": statement.format,
        "bank_account": statement.iban,
        "statement": statement.statement_id,
        "key": line.key,
        "booking_date": line.booking_date.isoformat(),
        "value_date": line.value_date.isoformat() if line.value_date else None,
        "amount": f"{line.amount:.2f}",
        "currency": line.currency,
        "counterparty_name": line.counterparty_name,
        "counterparty_iban": line.counterparty_iban,
        "description": line.description,
        "end_to_end_id": line.end_to_end_id,
        "bank_reference": line.bank_reference,
        "reversal": line.reversal,
    }


def _transaction_row(
    account: Account,
    bank_account: BankAccount,
    statement: BankStatement,
    line: formats.StatementLine,
    item: BookItem | None,
) -> dict:
    return {
        "account_id": account.id,
        "bank_account_id": bank_account.id,
        "statement_id": statement.id,
        "key": line.key[:100],
        "booking_date": line.booking_date,
        "value_date": line.value_date,
        "amount": line.amount,
        "currency": (line.currency or "EUR")[:3],
        "counterparty_name": _cut(line.counterparty_name, 255),
        "counterparty_iban": _cut(line.counterparty_iban, 34),
        "description": line.description or None,
        "end_to_end_id": _cut(line.end_to_end_id, 100),
        "bank_reference": _cut(line.bank_reference, 100),
        "item_id": item.id if item is not None else None,
    }


# --- reading ---------------------------------------------------------------------------------


@dataclass
class BankAccountOverview:
    bank_account: BankAccount
    transactions: int
    statements: list[BankStatement]


def overview(account_id: int, statements_per_account: int = 20) -> list[BankAccountOverview]:
    """The account's bank accounts, their number of transactions and latest statements (three
    queries, whatever the number of accounts)."""
    accounts = list(
        db.session.scalars(
            select(BankAccount)
            .where(BankAccount.account_id == account_id)
            .order_by(BankAccount.iban)
        )
    )
    if not accounts:
        return []
    counts = dict(
        db.session.execute(
            select(BankTransaction.bank_account_id, func.count())
            .where(BankTransaction.account_id == account_id)
            .group_by(BankTransaction.bank_account_id)
        ).all()
    )
    ranked = (
        select(
            BankStatement.id,
            func.row_number()
            .over(
                partition_by=BankStatement.bank_account_id,
                order_by=(BankStatement.imported_at.desc(), BankStatement.id.desc()),
            )
            .label("position"),
        )
        .where(BankStatement.account_id == account_id)
        .subquery()
    )
    latest = db.session.scalars(
        select(BankStatement)
        .join(ranked, ranked.c.id == BankStatement.id)
        .where(ranked.c.position <= statements_per_account)
        .order_by(BankStatement.imported_at.desc(), BankStatement.id.desc())
    )
    grouped: dict[int, list[BankStatement]] = {a.id: [] for a in accounts}
    for statement in latest:
        grouped[statement.bank_account_id].append(statement)
    return [BankAccountOverview(a, counts.get(a.id, 0), grouped[a.id]) for a in accounts]


# The list filters of ``transactions``: which transactions to show.
STATES = ("paired", "missing", "debits", "credits")


@dataclass
class TransactionFilter:
    bank_account_id: int | None = None
    state: str | None = None  # one of STATES
    date_from: date | None = None
    date_to: date | None = None
    search: str = ""


def transactions(account_id: int, filters: TransactionFilter) -> Select:
    """Rows (transaction, its item, the item's paired item, that one's file, bank account) of
    the account, newest first, filtered: one select for a whole page (no query per row)."""
    paired = aliased(BookItem, name="paired")
    query = (
        select(BankTransaction, BookItem, paired, StoredFile, BankAccount)
        .join(BankAccount, BankAccount.id == BankTransaction.bank_account_id)
        .outerjoin(BookItem, BookItem.id == BankTransaction.item_id)
        .outerjoin(paired, paired.id == BookItem.paired_item_id)
        .outerjoin(StoredFile, StoredFile.id == paired.file_id)
        .where(BankTransaction.account_id == account_id)
    )
    if filters.bank_account_id:
        query = query.where(BankTransaction.bank_account_id == filters.bank_account_id)
    if filters.state == "paired":
        query = query.where(BookItem.paired_item_id.is_not(None))
    elif filters.state == "missing":
        query = query.where(BankTransaction.item_id.is_not(None), BookItem.paired_item_id.is_(None))
    elif filters.state == "debits":
        query = query.where(BankTransaction.amount < 0)
    elif filters.state == "credits":
        query = query.where(BankTransaction.amount > 0)
    if filters.date_from:
        query = query.where(BankTransaction.booking_date >= filters.date_from)
    if filters.date_to:
        query = query.where(BankTransaction.booking_date <= filters.date_to)
    if filters.search:
        text = filters.search
        query = query.where(
            or_(
                BankTransaction.counterparty_name.icontains(text, autoescape=True),
                BankTransaction.description.icontains(text, autoescape=True),
                BankTransaction.counterparty_iban.icontains(text, autoescape=True),
            )
        )
    return query.order_by(BankTransaction.booking_date.desc(), BankTransaction.id.desc())


def bank_accounts(account_id: int) -> list[BankAccount]:
    return list(
        db.session.scalars(
            select(BankAccount)
            .where(BankAccount.account_id == account_id)
            .order_by(BankAccount.iban)
        )
    )
