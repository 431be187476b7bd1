"""The audit log says each event as a sentence in the reader's language."""

from __future__ import annotations

import html
import re
from pathlib import Path

import pytest

from portal.blueprints.audit.sentences import SENTENCES
from portal.extensions import db as _db
from portal.models import AuditEvent
from tests.factories import make_user, make_user_with_account

ROOT = Path(__file__).resolve().parents[2]

# (target, details) as the code records them, with the awkward values it may hold (None, lists)
SAMPLES = {
    "account.created": ("Bakkerij De Klant", {"billed_to": "Kantoor Noord"}),
    "portal.created": ("Kantoor Noord", {"portal_email": "info@noord.example"}),
    "portal.client_added": ("Bakkerij De Klant", {}),
    "access.portal_added": ("Kantoor Noord", {}),
    "portal.client_created": ("Bakkerij De Klant", {"billed_to": "Kantoor Noord"}),
    "access.invited": ("kees@example.com", {"role": "bookkeeper"}),
    "access.portal_granted": ("Kantoor Noord", {"role": "member"}),
    "portal.client_granted_access": ("Bakkerij De Klant", {}),
    "access.accepted": ("kees@example.com", {"role": "member"}),
    "access.invitation_revoked": ("kees@example.com", {}),
    "access.revoked": ("kees@example.com", {}),
    "access.role_changed": ("kees@example.com", {"old": "member", "new": "admin"}),
    "access.portal_role_changed": ("Kantoor Noord", {"old": "member", "new": "admin"}),
    "portal.client_role_changed": ("Bakkerij De Klant", {"old": "member", "new": "admin"}),
    "access.portal_revoked": ("Kantoor Noord", {}),
    "portal.client_left": ("Bakkerij De Klant", {}),
    "module.enabled": ("exact_online", {}),
    "module.disabled": ("exact_online", {}),
    "portal.billing_changed": (None, {}),
    "sync.previous_administration_purged": ("3001101", {"rows": 12, "divisions": [3001102]}),
    "exact.connected": (
        "olga@noord.example",
        {"exact_user": "Olga", "country": "nl", "unreachable": []},
    ),
    "exact.reconnected": (
        "olga@noord.example",
        {"exact_user": None, "country": None, "unreachable": ["Bakkerij De Klant"]},
    ),
    "exact.disconnected": (None, {}),
    "exact.activated": (
        "3001101 Bakkerij",
        {"client": "Bakkerij De Klant", "previous": None, "connection": "Kantoor Noord"},
    ),
    "exact.overwritten": (
        "3001102 Slagerij",
        {
            "client": "Bakkerij De Klant",
            "previous": "3001101 Bakkerij (Kantoor Noord)",
            "moved_from": "Slagerij Jansen",
        },
    ),
    "exact.moved_away": ("3001102 Slagerij", {"to": "Bakkerij De Klant"}),
    "exact.link_blocked": ("3001101", {"changes": ["VAT: NL001 → NL002"]}),
    "exact.link_confirmed": ("3001101", {}),
    "bookkeeping.category_saved": ("Brandstof", {}),
    "bookkeeping.category_deleted": ("Brandstof", {}),
    "bookkeeping.supplier_rule_saved": ("1", {}),
    "bookkeeping.supplier_rule_deleted": ("1", {}),
    "bookkeeping.item_ready": ("17", {}),
    "bookkeeping.item_back_to_preparing": ("17", {}),
    "bookkeeping.bulk_assign": (None, {"items": [17, 18]}),
    "bookkeeping.bulk_ready": (None, {"items": [17, 18]}),
    "bookkeeping.statement_imported": ("ing.xml", {"statements": 1, "lines": 12, "new": 3}),
    "bookkeeping.items_paired": ("17/18", {}),
    "bookkeeping.items_unpaired": ("17/18", {}),
    "bookkeeping.exported": (None, {"items": 3, "failed": 1, "run_id": 4}),
    "bookkeeping.export_requested": (None, {"items": [17, 18]}),
    "bookkeeping.export_back": (None, {"items": [17]}),
    "claim.submitted": ("Beurs Utrecht", {"claim_id": 3, "total": "33.46"}),
    "claim.approved": ("Beurs Utrecht", {"claim_id": 3, "item_id": 9, "total": "33.46"}),
    "claim.rejected": ("Beurs Utrecht", {"claim_id": 3, "reason": "Geen bon"}),
}


def _actions_in_use() -> set[str]:
    found = set()
    for path in (ROOT / "portal").rglob("*.py"):
        for call in re.findall(r"audit\.record\((.*?)\)\n", path.read_text(), re.S):
            found.update(re.findall(r'"([a-z_]+\.[a-z_]+)"', call))
    return found


def test_every_action_in_use_has_a_sentence_and_a_sample():
    in_use = _actions_in_use()
    assert len(in_use) > 20
    assert in_use <= set(SENTENCES), in_use - set(SENTENCES)
    assert set(SENTENCES) == set(SAMPLES)


def _rows(client, account_id: int) -> list[str]:
    page = client.get(f"/a/{account_id}/audit/").get_data(as_text=True)
    cells = re.findall(r'data-testid="audit-event".*?</td>\s*<td>(.*?)</td>', page, re.S)
    return [html.unescape(cell).strip() for cell in cells]


@pytest.mark.parametrize("language", ["en", "nl"])
def test_each_action_is_a_sentence_without_raw_values(login, client, db, language):
    user, account = make_user_with_account(name="Olga", language=language)
    for action, (target, details) in SAMPLES.items():
        _db.session.add(
            AuditEvent(
                account_id=account.id,
                actor_id=user.id,
                action=action,
                target=target,
                details=details,
            )
        )
    _db.session.add(  # an action this page does not know, with odd details
        AuditEvent(
            account_id=account.id,
            action="billing.plan_changed",
            target=None,
            details={"old": None, "new": {"plan": "pro", "seats": None}, "flags": [None]},
        )
    )
    _db.session.commit()
    login(user)
    rows = _rows(client, account.id)
    assert len(rows) == len(SAMPLES) + 1
    for row in rows:
        assert row
        assert "None" not in row and "{" not in row and "}" not in row, row
        assert "%(" not in row, row
    for action in SAMPLES:
        assert not any(action in row for row in rows), action  # a sentence, not the name
    text = "\n".join(rows)
    if language == "en":
        assert (
            "Olga linked Bakkerij De Klant to administration 3001101 (Bakkerij) through "
            "Kantoor Noord's connection" in text
        )
        assert "Olga changed the role of the office Kantoor Noord from Member to Admin" in text
        assert "Olga turned on the module Exact Online" in text
    else:
        assert "Olga koppelde Bakkerij De Klant aan administratie 3001101 (Bakkerij)" in text
        assert "van Lid naar Beheerder" in text
        assert "linked" not in text and "changed the role" not in text


def test_an_activation_records_whose_connection_it_went_through(db):
    from portal.exact import links
    from tests.factories import link_client, make_account, make_exact_connection, make_portal

    owner = make_user(name="Olga")
    office = make_portal(owner, name="Kantoor Noord")
    client = make_account(name="Bakkerij De Klant")
    link_client(office, client)
    connection = make_exact_connection(office)
    links.activate(client, connection, 3001101, owner)
    _db.session.flush()
    event = (
        _db.session.query(AuditEvent)
        .filter_by(account_id=client.id, action="exact.activated")
        .one()
    )
    assert event.details["connection"] == "Kantoor Noord"
