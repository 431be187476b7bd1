"""Sending mail: render now (in the user's language), store, deliver from a worker."""

from __future__ import annotations

from contextlib import nullcontext

from flask import render_template
from flask_babel import force_locale
from rq import Retry

from portal.extensions import db
from portal.models import OutboxMessage
from portal.queue import enqueue_after_commit


def send_mail(
    recipient: str, subject, template: str, language: str | None = None, **context
) -> OutboxMessage:
    """Store a message rendered from ``emails/<template>.txt|.html``; a worker delivers it.

    ``subject`` may be a lazy string: it is rendered in ``language`` (the recipient's), else in
    the current one. The message is part of the caller's transaction: it is delivered only if
    that commits.
    """
    with force_locale(language) if language else nullcontext():
        message = OutboxMessage(
            recipient=recipient,
            subject=str(subject),
            body_text=render_template(f"emails/{template}.txt", **context),
            body_html=render_template(f"emails/{template}.html", **context),
        )
    db.session.add(message)
    db.session.flush()
    enqueue_after_commit(
        "mail",
        "portal.jobs.mail.deliver_mail",
        message.id,
        job_id=f"mail-{message.id}",
        retry=Retry(max=3, interval=[10, 60, 300]),
        failure_ttl=7 * 24 * 3600,
    )
    return message


def send_mail_to(people, subject, template: str, **context) -> None:
    """``send_mail`` to each person, in their own language, with ``person`` in the context."""
    for person in people:
        send_mail(
            person.email, subject, template, language=person.language, person=person, **context
        )
