"""Configuration, read from the environment (and an optional `.env` file) only here."""

from __future__ import annotations

import secrets
from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

VAR_DIR = Path("var")


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    database_url: str = Field(
        default=f"sqlite:///{VAR_DIR / 'carte.sqlite3'}",
        description="SQLAlchemy URL; PostgreSQL as postgresql+psycopg://user@host/db",
    )
    secret_key: str = Field(
        default="",
        description="Signs sessions and derives personal links. Generated in var/ when empty.",
    )
    base_url: str = Field(
        default="http://127.0.0.1:8000",
        description="Public address of the service, used to print personal links.",
    )
    var_dir: Path = VAR_DIR
    db_pool_size: int = Field(
        default=20,
        ge=1,
        le=200,
        description="PostgreSQL connections kept open per server process. Keep it at least the "
        "number of requests a process serves at once: a request finding no idle connection "
        "opens a new one, and PostgreSQL forks a process for it (docs/performance.md).",
    )

    # E-mail is optional; without smtp_host the links are exported for a mail merge.
    smtp_host: str = Field(default="", description="SMTP server; empty disables e-mail sending.")
    smtp_port: int = Field(default=25, description="SMTP port (587 with STARTTLS usually).")
    smtp_user: str = Field(default="", description="SMTP login, if the server needs one.")
    smtp_password: str = Field(default="", description="SMTP password.")
    smtp_starttls: bool = Field(default=False, description="Upgrade the connection with STARTTLS.")
    mail_from: str = Field(default="", description="Sender address of invitations and reminders.")
    contact_email: str = Field(
        default="",
        description="Address shown on /accessibilite to report a problem; MAIL_FROM when empty.",
    )

    # Retention of personal data and of the audit log (carte retention)
    personal_data_retention_months: int = Field(
        default=36,
        ge=1,
        description="Months after which professionals who left and gave no answer since are "
        "erased by `carte retention --apply` (docs/rgpd.md).",
    )
    audit_retention_months: int = Field(
        default=12,
        ge=1,
        description="Months the audit log is kept: older events are deleted by "
        "`carte retention --apply`, except erasure records (docs/rgpd.md).",
    )

    def resolved_secret(self) -> str:
        """The configured secret, or a development secret kept in `var/secret_key`.

        Changing the secret invalidates every personal link: keep it with the backups.
        """
        if self.secret_key:
            return self.secret_key
        path = self.var_dir / "secret_key"
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(secrets.token_urlsafe(48))
            path.chmod(0o600)
        return path.read_text().strip()


@lru_cache
def get_settings() -> Settings:
    return Settings()
