"""The permission model: capabilities per role, delegation as the weaker of two roles."""

from __future__ import annotations

import itertools

import pytest

from portal.models import Role
from portal.permissions import (
    MINIMUM_ROLE,
    NEVER_DELEGATED,
    ROLES,
    STRENGTH,
    Action,
    Authority,
    authority,
    grantable_roles,
    may_manage,
    portal_roles,
)
from tests.factories import add_member, link_client, make_portal, make_user, make_user_with_account


def test_a_stronger_role_may_everything_a_weaker_one_may():
    for weaker, stronger in itertools.combinations(ROLES, 2):
        assert STRENGTH[weaker] < STRENGTH[stronger]
        for action in Action:
            if Authority(own=weaker).can(action):
                assert Authority(own=stronger).can(action), (weaker, stronger, action)


def test_every_action_has_a_minimum_role_and_read_only_only_looks():
    assert set(MINIMUM_ROLE) == set(Action)
    assert [a for a in Action if Authority(own=Role.READ_ONLY).can(a)] == [Action.VIEW]
    assert all(Authority(own=Role.OWNER).can(a) for a in Action)


@pytest.mark.parametrize(
    ("portal_role", "granted"),
    list(itertools.product(ROLES, [r for r in ROLES if r != Role.OWNER])),
)
def test_delegation_is_the_weaker_of_the_portal_role_and_the_granted_role(db, portal_role, granted):
    office_owner, _ = make_user_with_account()
    portal = make_portal(office_owner)
    _u, client = make_user_with_account()
    link_client(portal, client, role=granted)
    user = make_user()
    add_member(portal, user, portal_role)
    db.session.commit()
    found = authority(user, client)
    expected = portal_role if STRENGTH[portal_role] <= STRENGTH[granted] else granted
    assert found.own is None and found.delegated == expected and found.portal_id == portal.id
    for action in Action:
        allowed = STRENGTH[expected] >= STRENGTH[MINIMUM_ROLE[action]]
        assert found.can(action) == (allowed and action not in NEVER_DELEGATED), action


def test_a_pending_link_gives_no_authority(db):
    office_owner, _ = make_user_with_account()
    portal = make_portal(office_owner)
    _u, client = make_user_with_account()
    link_client(portal, client, status="pending")
    assert authority(office_owner, client) == Authority()


def test_an_own_membership_and_a_delegation_add_up_but_owners_stay_own():
    both = Authority(own=Role.MEMBER, delegated=Role.ADMIN, portal_id=1)
    assert both.role == Role.ADMIN
    assert both.can(Action.LINK_DOSSIER) and both.can(Action.MANAGE_ACCESS)
    assert not both.can(Action.MANAGE_PORTAL_ACCESS) and not both.can(Action.MANAGE_OWNERS)
    assert Authority(own=Role.ADMIN).can(Action.MANAGE_PORTAL_ACCESS)


def test_nobody_grants_above_their_own_role(db):
    owner, account = make_user_with_account()
    assert grantable_roles(Authority(own=Role.ADMIN), account) == [
        Role.READ_ONLY,
        Role.MEMBER,
        Role.BOOKKEEPER,
        Role.ADMIN,
    ]
    assert Role.OWNER in grantable_roles(Authority(own=Role.OWNER), account)
    assert grantable_roles(Authority(own=Role.BOOKKEEPER), account) == []
    # a delegated admin may invite the first owner of an account that has none
    _u, other = make_user_with_account()
    assert Role.OWNER not in grantable_roles(Authority(delegated=Role.ADMIN), other)


def test_only_owners_manage_owners_and_the_portal_gets_at_most_admin():
    assert not may_manage(Authority(own=Role.ADMIN), Role.OWNER)
    assert may_manage(Authority(own=Role.ADMIN), Role.ADMIN)
    assert not may_manage(Authority(delegated=Role.ADMIN), Role.OWNER)
    assert may_manage(Authority(own=Role.OWNER), Role.OWNER)
    assert portal_roles(Authority(own=Role.OWNER))[-1] == Role.ADMIN
    assert portal_roles(Authority(delegated=Role.ADMIN)) == []
