"""Each audit event as one sentence in the reader's language.

``audit.record(account, action, target, **details)`` keeps the facts; this module says them:
one function per action in use (``SENTENCES``), and a plain fallback for any other action
that never shows raw ``None`` or dict syntax.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from typing import Any

from flask_babel import format_currency
from flask_babel import gettext as _

from portal.models import AuditEvent, Role
from portal.modules import MODULES
from portal.permissions import ROLE_LABELS


def _text(value: Any) -> str:
    """A detail as words: nothing for None, lists joined, dicts as "key: value"."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if isinstance(value, list | tuple | set):
        return ", ".join(text for text in (_text(item) for item in value) if text)
    if isinstance(value, dict):
        return ", ".join(f"{key}: {_text(item)}" for key, item in value.items() if _text(item))
    return str(value)


def _items(value: Any) -> list:
    return list(value) if isinstance(value, list | tuple) else [value] if value else []


def _role(value: Any) -> str:
    try:
        return str(ROLE_LABELS[Role(value)])
    except (ValueError, KeyError):
        return _text(value) or "—"


def _module(value: Any) -> str:
    module = MODULES.get(value or "")
    return str(module.name) if module else _text(value)


def _administration(target: Any) -> str:
    """ "3001101 Bakkerij" (code and name, as recorded) as "3001101 (Bakkerij)"."""
    code, _space, name = _text(target).partition(" ")
    return f"{code} ({name})" if name else code


def _money(value: Any) -> str:
    try:
        return format_currency(Decimal(str(value)), "EUR")
    except (InvalidOperation, ValueError, TypeError):
        return _text(value) or "—"


Facts = dict[str, Any]
Sentence = Callable[[str, str, Facts], str]


def _linked(who: str, target: str, d: Facts) -> str:
    params = {"who": who, "client": _text(d.get("client")), "admin": _administration(target)}
    if d.get("connection"):
        sentence = _(
            "%(who)s linked %(client)s to administration %(admin)s through %(owner)s's connection",
            owner=_text(d["connection"]),
            **params,
        )
    else:
        sentence = _("%(who)s linked %(client)s to administration %(admin)s", **params)
    if d.get("previous"):
        sentence += "; " + _("before, it was %(previous)s", previous=_text(d["previous"]))
    if d.get("moved_from"):
        sentence += "; " + _(
            "the administration was linked to %(client)s before", client=_text(d["moved_from"])
        )
    return sentence


def _connected(reconnected: bool) -> Sentence:
    def sentence(who: str, target: str, d: Facts) -> str:
        params = {"who": who, "user": _text(d.get("exact_user")) or target, "email": target}
        if reconnected:
            text = _("%(who)s connected Exact Online again as %(user)s (%(email)s)", **params)
        else:
            text = _("%(who)s connected Exact Online as %(user)s (%(email)s)", **params)
        if d.get("unreachable"):
            text += "; " + _(
                "it cannot reach the administrations of %(names)s",
                names=_text(d["unreachable"]),
            )
        return text

    return sentence


def _created_account(who: str, target: str, d: Facts) -> str:
    if d.get("billed_to"):
        return _(
            "%(who)s created the account %(name)s, billed to %(payer)s",
            who=who,
            name=target,
            payer=_text(d["billed_to"]),
        )
    return _("%(who)s created the account %(name)s", who=who, name=target)


def _purged(who: str, target: str, d: Facts) -> str:
    params = {"who": who, "rows": _text(d.get("rows")) or "0"}
    if d.get("divisions"):
        return _(
            "%(who)s removed %(rows)s rows of previous administrations (%(codes)s)",
            codes=_text(d["divisions"]),
            **params,
        )
    return _("%(who)s removed %(rows)s rows of previous administrations", **params)


SENTENCES: dict[str, Sentence] = {
    "account.created": _created_account,
    "portal.created": lambda who, target, d: _(
        "%(who)s created the office %(name)s (%(email)s)",
        who=who,
        name=target,
        email=_text(d.get("portal_email")) or "—",
    ),
    "portal.client_added": lambda who, target, d: _(
        "%(who)s added the client %(client)s", who=who, client=target
    ),
    "access.portal_added": lambda who, target, d: _(
        "%(who)s added %(office)s as this account's office", who=who, office=target
    ),
    "portal.client_created": lambda who, target, d: _(
        "%(who)s created the client %(client)s", who=who, client=target
    ),
    "access.invited": lambda who, target, d: _(
        "%(who)s invited %(email)s as %(role)s", who=who, email=target, role=_role(d.get("role"))
    ),
    "access.accepted": lambda who, target, d: _(
        "%(who)s accepted the invitation as %(role)s", who=who, role=_role(d.get("role"))
    ),
    "access.invitation_revoked": lambda who, target, d: _(
        "%(who)s withdrew the invitation of %(email)s", who=who, email=target
    ),
    "access.revoked": lambda who, target, d: _(
        "%(who)s removed the access of %(email)s", who=who, email=target
    ),
    "access.role_changed": lambda who, target, d: _(
        "%(who)s changed the role of %(email)s from %(old)s to %(new)s",
        who=who,
        email=target,
        old=_role(d.get("old")),
        new=_role(d.get("new")),
    ),
    "access.portal_granted": lambda who, target, d: _(
        "%(who)s gave the office %(office)s access as %(role)s",
        who=who,
        office=target,
        role=_role(d.get("role")),
    ),
    "portal.client_granted_access": lambda who, target, d: _(
        "%(client)s gave this office access", client=target
    ),
    "access.portal_role_changed": lambda who, target, d: _(
        "%(who)s changed the role of the office %(office)s from %(old)s to %(new)s",
        who=who,
        office=target,
        old=_role(d.get("old")),
        new=_role(d.get("new")),
    ),
    "portal.client_role_changed": lambda who, target, d: _(
        "%(client)s changed this office's role from %(old)s to %(new)s",
        client=target,
        old=_role(d.get("old")),
        new=_role(d.get("new")),
    ),
    "access.portal_revoked": lambda who, target, d: _(
        "%(who)s revoked the access of the office %(office)s", who=who, office=target
    ),
    "portal.client_left": lambda who, target, d: _(
        "%(client)s revoked this office's access", client=target
    ),
    "module.enabled": lambda who, target, d: _(
        "%(who)s turned on the module %(module)s", who=who, module=_module(target)
    ),
    "module.disabled": lambda who, target, d: _(
        "%(who)s turned off the module %(module)s", who=who, module=_module(target)
    ),
    "portal.billing_changed": lambda who, target, d: _(
        "%(who)s changed the billing details", who=who
    ),
    "sync.previous_administration_purged": _purged,
    "exact.connected": _connected(reconnected=False),
    "exact.reconnected": _connected(reconnected=True),
    "exact.disconnected": lambda who, target, d: _(
        "%(who)s disconnected Exact Online (%(email)s)", who=who, email=target or "—"
    ),
    "exact.activated": _linked,
    "exact.overwritten": _linked,
    "exact.moved_away": lambda who, target, d: _(
        "%(who)s linked administration %(admin)s to %(client)s; this account no longer syncs it",
        who=who,
        admin=_administration(target),
        client=_text(d.get("to")) or "—",
    ),
    "exact.link_blocked": lambda who, target, d: _(
        "Exact Online reported other details for administration %(admin)s (%(changes)s); the "
        "link was blocked",
        admin=_administration(target),
        changes="; ".join(_text(change) for change in _items(d.get("changes"))) or "—",
    ),
    "exact.link_confirmed": lambda who, target, d: _(
        "%(who)s confirmed the details of administration %(admin)s",
        who=who,
        admin=_administration(target),
    ),
    "bookkeeping.category_saved": lambda who, target, d: _(
        "%(who)s saved the category %(name)s", who=who, name=target
    ),
    "bookkeeping.category_deleted": lambda who, target, d: _(
        "%(who)s deleted the category %(name)s", who=who, name=target
    ),
    "bookkeeping.supplier_rule_saved": lambda who, target, d: _(
        "%(who)s saved the rule for supplier %(supplier)s", who=who, supplier=target
    ),
    "bookkeeping.supplier_rule_deleted": lambda who, target, d: _(
        "%(who)s deleted the rule for supplier %(supplier)s", who=who, supplier=target
    ),
    "bookkeeping.item_ready": lambda who, target, d: _(
        "%(who)s marked item %(item)s ready to export", who=who, item=target
    ),
    "bookkeeping.item_back_to_preparing": lambda who, target, d: _(
        "%(who)s put item %(item)s back to preparing", who=who, item=target
    ),
    "bookkeeping.bulk_assign": lambda who, target, d: _(
        "%(who)s assigned pre-accounting values to items %(items)s",
        who=who,
        items=_text(d.get("items")) or "—",
    ),
    "bookkeeping.bulk_ready": lambda who, target, d: _(
        "%(who)s marked items %(items)s ready to export",
        who=who,
        items=_text(d.get("items")) or "—",
    ),
    "bookkeeping.statement_imported": lambda who, target, d: _(
        "%(who)s imported the bank statement %(file)s: %(lines)s transactions, %(new)s new",
        who=who,
        file=target,
        lines=_text(d.get("lines")) or "0",
        new=_text(d.get("new")) or "0",
    ),
    "bookkeeping.items_paired": lambda who, target, d: _(
        "%(who)s paired items %(items)s", who=who, items=target.replace("/", " + ")
    ),
    "bookkeeping.items_unpaired": lambda who, target, d: _(
        "%(who)s unpaired items %(items)s", who=who, items=target.replace("/", " + ")
    ),
    "bookkeeping.exported": lambda who, target, d: _(
        "%(who)s exported %(items)s items to Exact Online (%(failed)s failed)",
        who=who,
        items=_text(d.get("items")) or "0",
        failed=_text(d.get("failed")) or "0",
    ),
    "bookkeeping.export_requested": lambda who, target, d: _(
        "%(who)s exported items %(items)s to Exact Online",
        who=who,
        items=_text(d.get("items")) or "—",
    ),
    "bookkeeping.export_back": lambda who, target, d: _(
        "%(who)s put items %(items)s from the export queue back to preparing",
        who=who,
        items=_text(d.get("items")) or "—",
    ),
    "claim.submitted": lambda who, target, d: _(
        "%(who)s submitted the expense claim %(title)s (%(total)s)",
        who=who,
        title=target,
        total=_money(d.get("total")),
    ),
    "claim.approved": lambda who, target, d: _(
        "%(who)s approved the expense claim %(title)s (%(total)s)",
        who=who,
        title=target,
        total=_money(d.get("total")),
    ),
    "claim.rejected": lambda who, target, d: _(
        "%(who)s rejected the expense claim %(title)s: %(reason)s",
        who=who,
        title=target,
        reason=_text(d.get("reason")) or "—",
    ),
}


def _fallback(who: str, action: str, target: str, details: Facts) -> str:
    what = action.replace("_", " ").replace(".", ": ")
    sentence = _("%(who)s: %(what)s", who=who, what=what)
    if target:
        sentence += f" ({target})"
    facts = _text({key.replace("_", " "): value for key, value in details.items()})
    return f"{sentence}; {facts}" if facts else sentence


def describe(event: AuditEvent, actor_name: str | None) -> str:
    """The event as a sentence; any event, whatever its details, gives one."""
    who = actor_name or _("The portal")
    target = _text(event.target)
    details = event.details if isinstance(event.details, dict) else {}
    sentence = SENTENCES.get(event.action)
    if sentence is not None:
        try:
            return sentence(who, target, details)
        except (KeyError, TypeError, ValueError):
            pass
    return _fallback(who, event.action, target, details)
