"""E-mail as configured: the SMTP settings that survey.mailing sends with."""

from __future__ import annotations

from app.settings import Settings
from survey.mailing import SmtpConfig


def smtp_config(settings: Settings) -> SmtpConfig | None:
    """The SMTP settings, or None when e-mail sending is not configured."""
    if not settings.smtp_host:
        return None
    return SmtpConfig(
        host=settings.smtp_host,
        port=settings.smtp_port,
        user=settings.smtp_user,
        password=settings.smtp_password,
        starttls=settings.smtp_starttls,
        mail_from=settings.mail_from or f"carte-partenariale@{settings.smtp_host}",
    )
