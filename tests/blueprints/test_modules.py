"""Modules: a registry, admins switch them, audit events, pages unreachable while off."""

from __future__ import annotations

from sqlalchemy import select

from portal import modules
from portal.models import AuditEvent, Role
from tests.factories import add_member, make_user, make_user_with_account


def test_registry_lists_exact_online_first():
    assert next(iter(modules.MODULES)) == "exact_online"
    module = modules.MODULES["exact_online"]
    assert str(module.name) == "Exact Online" and module.description


def test_admin_switches_a_module_on_and_off_with_audit_events(login, client, db):
    owner, account = make_user_with_account()
    login(owner)
    assert client.get(f"/a/{account.id}/exact/").status_code == 404  # off
    page = client.get(f"/a/{account.id}/modules/").get_data(as_text=True)
    assert "Exact Online" in page and "Switch on" in page
    client.post(f"/a/{account.id}/modules/exact_online", data={"enabled": "1"})
    assert client.get(f"/a/{account.id}/exact/").status_code == 200
    assert b"Exact Online" in client.get(f"/a/{account.id}/").data  # in the navigation
    client.post(f"/a/{account.id}/modules/exact_online", data={"enabled": "0"})
    assert client.get(f"/a/{account.id}/exact/").status_code == 404
    actions = list(
        db.session.scalars(
            select(AuditEvent.action)
            .where(AuditEvent.action.like("module.%"))
            .order_by(AuditEvent.id)
        )
    )
    assert actions == ["module.enabled", "module.disabled"]


def test_switching_to_the_same_state_writes_no_audit_event(login, client, db):
    owner, account = make_user_with_account()
    login(owner)
    for _ in range(2):
        client.post(f"/a/{account.id}/modules/exact_online", data={"enabled": "1"})
    assert (
        db.session.scalars(select(AuditEvent).where(AuditEvent.action == "module.enabled"))
        .all()
        .__len__()
        == 1
    )


def test_members_cannot_switch_modules(login, client, db):
    owner, account = make_user_with_account()
    member = make_user()
    add_member(account, member, Role.MEMBER)
    db.session.commit()
    login(member)
    assert (
        client.post(f"/a/{account.id}/modules/exact_online", data={"enabled": "1"}).status_code
        == 403
    )
    assert not modules.is_enabled(account, "exact_online")


def test_unknown_module_is_a_404(login, client, db):
    owner, account = make_user_with_account()
    login(owner)
    assert client.post(f"/a/{account.id}/modules/nope", data={"enabled": "1"}).status_code == 404


def test_audit_log_is_for_admins(login, client, db):
    owner, account = make_user_with_account()
    member = make_user()
    add_member(account, member, Role.MEMBER)
    db.session.commit()
    login(owner)
    client.post(f"/a/{account.id}/modules/exact_online", data={"enabled": "1"})
    page = client.get(f"/a/{account.id}/audit/").get_data(as_text=True)
    assert "module.enabled" in page and owner.name in page
    client.post("/logout")
    login(member)
    assert client.get(f"/a/{account.id}/audit/").status_code == 403


def test_audit_log_pages_newest_first_and_a_page_beyond_shows_the_last(login, client, db):
    from portal import audit

    owner, account = make_user_with_account()
    for i in range(55):
        audit.record(account, f"test.event_{i:02d}", actor=owner if i % 2 else None)
    db.session.commit()
    login(owner)
    first = client.get(f"/a/{account.id}/audit/").get_data(as_text=True)
    assert "Page 1 of 2" in first and "test.event_54" in first and "test.event_04" not in first
    assert "Older" in first and "Newer" not in first
    last = client.get(f"/a/{account.id}/audit/?page=7").get_data(as_text=True)
    assert "Page 2 of 2" in last and "test.event_00" in last and "test.event_05" not in last
    assert "Newer" in last and "Older" not in last
    assert owner.name in last and "The portal" in last  # the actor's name, or the portal
