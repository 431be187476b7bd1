"""The mail job: deliver one stored message by SMTP, or keep it in the outbox."""

from __future__ import annotations

import smtplib
from email.message import EmailMessage

from flask import current_app

from portal import clock
from portal.extensions import db
from portal.jobs.context import app_job
from portal.models import OutboxMessage


@app_job
def deliver_mail(message_id: int) -> str:
    """Send the message; without an SMTP server it stays in the outbox page as 'stored'."""
    message = db.session.get(OutboxMessage, message_id)
    if message is None or message.status in ("sent", "stored"):
        return "skipped"
    if current_app.config.get("MAIL_SERVER"):
        _send_smtp(message)
        message.status = "sent"
    else:
        message.status = "stored"
    message.delivered_at = clock.now()
    db.session.commit()
    return message.status


def _send_smtp(message: OutboxMessage) -> None:
    config = current_app.config
    email = EmailMessage()
    email["From"] = config["MAIL_DEFAULT_SENDER"]
    email["To"] = message.recipient
    email["Subject"] = message.subject
    email.set_content(message.body_text)
    email.add_alternative(message.body_html, subtype="html")
    with smtplib.SMTP(config["MAIL_SERVER"], config["MAIL_PORT"], timeout=30) as smtp:
        if config["MAIL_USE_TLS"]:
            smtp.starttls()
        if config.get("MAIL_USERNAME"):
            smtp.login(config["MAIL_USERNAME"], config["MAIL_PASSWORD"])
        smtp.send_message(email)
