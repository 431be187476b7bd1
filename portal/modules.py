"""The module registry: features an account switches on.

Adding a module is one entry here (and its blueprint checking ``require_module``).
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import abort
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from portal import clock
from portal.extensions import db
from portal.models import Account, AccountKind, AccountModule


@dataclass(frozen=True)
class Module:
    key: str
    name: object  # a lazy, translated string
    description: object
    kinds: tuple[AccountKind, ...] = (AccountKind.CLIENT, AccountKind.PORTAL)
    endpoint: str | None = None  # the module's main page


MODULES: dict[str, Module] = {
    module.key: module
    for module in (
        Module(
            key="exact_online",
            name=_l("Exact Online"),
            description=_l(
                "Connect Exact Online, link administrations (dossiers) and sync master data."
            ),
            endpoint="exact.overview",
        ),
        Module(
            key="bookkeeping",
            name=_l("Bookkeeping"),
            description=_l(
                "Receipts, e-invoices, bank statements and expense claims, prepared with "
                "Exact Online's master data."
            ),
            kinds=(AccountKind.CLIENT,),
            endpoint="bookkeeping.items",
        ),
    )
}


def modules_for(account: Account) -> list[Module]:
    return [m for m in MODULES.values() if account.kind in m.kinds]


def enabled_keys(account: Account) -> set[str]:
    return set(
        db.session.scalars(
            select(AccountModule.key).where(
                AccountModule.account_id == account.id, AccountModule.enabled.is_(True)
            )
        )
    )


def is_enabled(account: Account, key: str) -> bool:
    return key in enabled_keys(account)


def set_enabled(account: Account, key: str, enabled: bool) -> bool:
    """Switch a module; returns whether anything changed. The caller commits."""
    if key not in MODULES or account.kind not in MODULES[key].kinds:
        raise KeyError(key)
    row = db.session.scalar(
        select(AccountModule).where(
            AccountModule.account_id == account.id, AccountModule.key == key
        )
    )
    if row is None:
        row = AccountModule(account_id=account.id, key=key, enabled=False)
        db.session.add(row)
    if row.enabled == enabled:
        return False
    row.enabled, row.changed_at = enabled, clock.now()
    return True


def require_module(account: Account, key: str) -> None:
    """A module's pages are unreachable (404) while it is off."""
    if not is_enabled(account, key):
        abort(404)
