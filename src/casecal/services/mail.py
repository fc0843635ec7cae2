"""Outgoing email through aiosmtplib, configured by settings. Without ``smtp_host`` the message
is logged (recipients and subject) instead of sent."""

from __future__ import annotations

from email.message import EmailMessage

import aiosmtplib
import structlog

from casecal.config import Settings

log = structlog.get_logger(__name__)


def build_message(settings: Settings, to: str, subject: str, body: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = settings.mail_from
    message["To"] = to
    message["Subject"] = subject
    message.set_content(body)
    return message


async def send_mail(settings: Settings, to: str, subject: str, body: str) -> bool:
    """Send one plain-text message; True when handed to the SMTP server. Failures are logged
    and reported as False, never raised: a notice must not break the action behind it."""
    if not settings.smtp_host:
        log.info("mail not sent: no SMTP host configured", to=to, subject=subject)
        return False
    try:
        await aiosmtplib.send(
            build_message(settings, to, subject, body),
            hostname=settings.smtp_host,
            port=settings.smtp_port,
            username=settings.smtp_username or None,
            password=settings.smtp_password or None,
            start_tls=settings.smtp_starttls,
            timeout=30,
        )
    except (aiosmtplib.SMTPException, OSError) as exc:
        log.warning("mail failed", to=to, subject=subject, error=type(exc).__name__)
        return False
    log.info("mail sent", to=to, subject=subject)
    return True
