"""Accounts, roles, login throttling and the audit log.

Roles: `admin` (every territory; manages territories and accounts), `coordinator` (one
territory, everything), `viewer` (one territory, read only). Passwords are hashed with argon2.
Login failures are stored in the database so that several app processes agree on throttling.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache

from pwdlib import PasswordHash
from sqlalchemy import Column, Index, Text, delete, func
from sqlmodel import Field, Session, SQLModel, col, select

from survey.models import Territory, utcnow

ROLES = ("admin", "coordinator", "viewer")
ROLE_LABELS = {
    "admin": "Administrateur",
    "coordinator": "Coordinateur",
    "viewer": "Lecteur (lecture seule)",
}
PASSWORD_MIN_LENGTH = 12
THROTTLE_FAILURES = 5
THROTTLE_WINDOW = timedelta(minutes=15)
THROTTLE_LOCK = timedelta(minutes=15)

# Fixed, documented demo logins (README): the demo territory is public test data.
DEMO_ACCOUNTS = (
    ("coordinateur@example.org", "demo-coordination-2026", "coordinator", "Coordination (démo)"),
    ("lecteur@example.org", "demo-lecture-2026", "viewer", "Lecture (démo)"),
)


class User(SQLModel, table=True):
    """A person who signs in: administrator, coordinator or viewer of one territory."""

    # "user" is a reserved word in PostgreSQL: a plain name keeps raw SQL simple.
    __tablename__ = "account"

    id: int | None = Field(default=None, primary_key=True)
    email: str = Field(max_length=200, unique=True, index=True)
    full_name: str = Field(default="", max_length=160)
    password_hash: str = Field(max_length=200)
    role: str = Field(max_length=12)  # ROLES
    territory_id: int | None = Field(default=None, foreign_key="territory.id", index=True)
    active: bool = True
    # Bumped on password change or reset: sessions carrying an older version are refused.
    session_version: int = 1
    created_at: datetime = Field(default_factory=utcnow)
    last_login_at: datetime | None = None

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    @property
    def display_name(self) -> str:
        return self.full_name or self.email


class AuditEvent(SQLModel, table=True):
    """Who did what, when: coordinator and administrator actions, logins."""

    __table_args__ = (Index("ix_auditevent_territory_at", "territory_id", "at"),)

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=utcnow, index=True)
    # No foreign keys: the log must outlive the accounts and territories it mentions.
    user_id: int | None = None
    user_email: str = Field(default="", max_length=200)
    territory_id: int | None = None
    action: str = Field(max_length=60)
    target: str = Field(default="", max_length=300)
    detail: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))


class LoginAttempt(SQLModel, table=True):
    """One login attempt, kept for throttling (failures per e-mail and per address)."""

    __table_args__ = (
        Index("ix_loginattempt_email_at", "email", "at"),
        Index("ix_loginattempt_ip_at", "ip", "at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=utcnow)
    email: str = Field(max_length=200)
    ip: str = Field(default="", max_length=64)
    success: bool = False


class AccountError(ValueError):
    """A French message for the user, and the form field it concerns."""

    def __init__(self, message: str, field: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class Throttled(AccountError):
    def __init__(self, retry_after: timedelta) -> None:
        minutes = max(1, int(retry_after.total_seconds() // 60) + 1)
        super().__init__(
            "Trop de tentatives de connexion échouées. Pour protéger le compte, la connexion "
            f"est suspendue : réessayez dans {minutes} minute{'s' if minutes > 1 else ''}."
        )
        self.retry_after = retry_after


INVALID_LOGIN = "Adresse e-mail ou mot de passe incorrect."


@lru_cache
def _hasher() -> PasswordHash:
    return PasswordHash.recommended()


@lru_cache
def _dummy_hash() -> str:
    # Verified for unknown e-mails so that response time does not reveal which accounts exist.
    return _hasher().hash("compte-inexistant-pour-le-temps-de-reponse")


def hash_password(password: str) -> str:
    return _hasher().hash(password)


def verify_password(password: str, password_hash: str) -> bool:
    try:
        return _hasher().verify(password, password_hash)
    except Exception:  # a malformed stored hash never lets anyone in
        return False


def normalise_email(email: str) -> str:
    return email.strip().lower()


def check_password_strength(password: str, field: str = "password") -> None:
    if len(password) < PASSWORD_MIN_LENGTH:
        raise AccountError(
            f"Le mot de passe doit comporter au moins {PASSWORD_MIN_LENGTH} caractères.", field
        )
    if len(password) > 200:
        raise AccountError("Le mot de passe est trop long (200 caractères au maximum).", field)
    if not password.strip():
        raise AccountError("Le mot de passe ne peut pas être fait que d'espaces.", field)


def _check_email(email: str) -> str:
    email = normalise_email(email)
    local, _, domain = email.partition("@")
    if not local or "." not in domain or " " in email or len(email) > 200:
        raise AccountError("Indiquez une adresse e-mail valide (nom@domaine.fr).", "email")
    return email


# --- territories ---------------------------------------------------------------------------


def territory_by_code(session: Session, code: str) -> Territory | None:
    return session.exec(select(Territory).where(Territory.code == code.strip())).first()


def create_territory(session: Session, code: str, name: str) -> Territory:
    """A new territory (département); the caller commits."""
    code, name = code.strip(), name.strip()
    if not code or len(code) > 10 or not all(c.isalnum() for c in code):
        raise AccountError(
            "Le code du territoire est le numéro du département (par exemple 23 ou 2A), "
            "10 caractères au plus, lettres et chiffres seulement.",
            "code",
        )
    if not name or len(name) > 120:
        raise AccountError("Indiquez le nom du territoire (120 caractères au plus).", "name")
    if territory_by_code(session, code) is not None:
        raise AccountError(f"Le territoire {code} existe déjà.", "code")
    territory = Territory(code=code, name=name)
    session.add(territory)
    session.flush()
    return territory


# --- users ---------------------------------------------------------------------------------


def user_by_email(session: Session, email: str) -> User | None:
    return session.exec(select(User).where(User.email == normalise_email(email))).first()


def create_user(
    session: Session,
    email: str,
    password: str,
    role: str,
    territory: Territory | None = None,
    full_name: str = "",
) -> User:
    """A new account; the caller commits. Admins have no territory, others exactly one."""
    email = _check_email(email)
    if role not in ROLES:
        raise AccountError(
            "Le rôle doit être admin, coordinator (coordinateur) ou viewer (lecteur).", "role"
        )
    if role == "admin" and territory is not None:
        raise AccountError(
            "Un administrateur voit tous les territoires : n'indiquez pas de territoire.",
            "territory",
        )
    if role != "admin" and territory is None:
        raise AccountError(
            "Un coordinateur ou un lecteur est rattaché à un territoire : indiquez-le.",
            "territory",
        )
    if len(full_name) > 160:
        raise AccountError("Le nom est trop long (160 caractères au plus).", "full_name")
    check_password_strength(password)
    if user_by_email(session, email) is not None:
        raise AccountError(f"Un compte existe déjà pour {email}.", "email")
    user = User(
        email=email,
        full_name=full_name.strip(),
        password_hash=hash_password(password),
        role=role,
        territory_id=territory.id if territory else None,
    )
    session.add(user)
    session.flush()
    return user


def set_password(user: User, new_password: str, field: str = "new_password") -> None:
    """Replace the password and log out every existing session of the user."""
    check_password_strength(new_password, field)
    user.password_hash = hash_password(new_password)
    user.session_version += 1


def change_password(user: User, current: str, new: str, confirm: str) -> None:
    """The user's own change: the current password is required. Caller commits."""
    if not verify_password(current, user.password_hash):
        raise AccountError("Le mot de passe actuel est incorrect.", "current_password")
    if new != confirm:
        raise AccountError("Les deux nouveaux mots de passe ne sont pas identiques.", "confirm")
    if new == current:
        raise AccountError("Choisissez un mot de passe différent de l'actuel.", "new_password")
    set_password(user, new)


def set_active(user: User, active: bool) -> None:
    user.active = active
    if not active:
        user.session_version += 1


# --- login and throttling ------------------------------------------------------------------


def _lock_end(times: list[datetime]) -> datetime | None:
    """End of the latest lock: THROTTLE_FAILURES failures within THROTTLE_WINDOW lock for
    THROTTLE_LOCK from the last of them."""
    times = sorted(_aware(t) for t in times)
    end = None
    n = THROTTLE_FAILURES
    for i in range(n - 1, len(times)):
        if times[i] - times[i - n + 1] <= THROTTLE_WINDOW:
            end = times[i] + THROTTLE_LOCK
    return end


def _aware(t: datetime) -> datetime:
    return t if t.tzinfo else t.replace(tzinfo=UTC)


def throttle_check(session: Session, email: str, ip: str, now: datetime | None = None) -> None:
    """Raise Throttled when the e-mail or the address is locked."""
    now = now or datetime.now(UTC)
    email = normalise_email(email)
    since = now - THROTTLE_WINDOW - THROTTLE_LOCK
    last_success = session.exec(
        select(func.max(LoginAttempt.at)).where(
            LoginAttempt.email == email, col(LoginAttempt.success).is_(True)
        )
    ).one()
    email_since = max(since, _aware(last_success)) if last_success else since
    checks = [(LoginAttempt.email == email, email_since)]
    if ip:
        checks.append((LoginAttempt.ip == ip, since))
    ends = []
    for clause, start in checks:
        times = session.exec(
            select(LoginAttempt.at)
            .where(clause, col(LoginAttempt.success).is_(False), col(LoginAttempt.at) > start)
            .order_by(col(LoginAttempt.at).desc())
            .limit(100)
        ).all()
        end = _lock_end(list(times))
        if end is not None:
            ends.append(end)
    if ends and max(ends) > now:
        raise Throttled(max(ends) - now)


def authenticate(session: Session, email: str, password: str, ip: str = "") -> User:
    """The active user with these credentials, or AccountError/Throttled.

    Records the attempt (and the audit event); the caller commits even on failure, so that
    failures count.
    """
    email = normalise_email(email)[:200]
    ip = ip[:64]
    throttle_check(session, email, ip)
    user = user_by_email(session, email) if email else None
    ok = verify_password(password, user.password_hash if user else _dummy_hash())
    ok = ok and user is not None and user.active
    session.add(LoginAttempt(email=email, ip=ip, success=ok))
    if not ok:
        audit(session, user, "login.failed", target=email, detail=f"adresse {ip}")
        raise AccountError(INVALID_LOGIN, "email")
    assert user is not None
    user.last_login_at = datetime.now(UTC)
    audit(session, user, "login", target=email, detail=f"adresse {ip}")
    return user


def purge_login_attempts(session: Session, older_than: timedelta = timedelta(days=30)) -> int:
    """Forget old attempts (they hold e-mails and addresses). Returns the number removed."""
    result = session.execute(
        delete(LoginAttempt).where(col(LoginAttempt.at) < datetime.now(UTC) - older_than)
    )
    return result.rowcount or 0


# --- audit ---------------------------------------------------------------------------------


def audit(
    session: Session,
    user: User | None,
    action: str,
    target: str = "",
    detail: str = "",
    territory_id: int | None = None,
) -> AuditEvent:
    """Add an audit event (the caller commits). The territory defaults to the user's."""
    event = AuditEvent(
        user_id=user.id if user else None,
        user_email=user.email if user else "",
        territory_id=territory_id if territory_id is not None else (user and user.territory_id),
        action=action[:60],
        target=target[:300],
        detail=detail,
    )
    session.add(event)
    return event


@dataclass
class AuditPage:
    events: list[tuple[AuditEvent, str | None]]  # event, territory code
    page: int
    pages: int
    total: int


def audit_page(session: Session, page: int = 1, per_page: int = 50) -> AuditPage:
    """Newest first, with the territory code of each event."""
    total = session.exec(select(func.count()).select_from(AuditEvent)).one()
    pages = max(1, -(-total // per_page))
    page = min(max(1, page), pages)
    rows = session.exec(
        select(AuditEvent, Territory.code)
        .join(Territory, col(Territory.id) == col(AuditEvent.territory_id), isouter=True)
        .order_by(col(AuditEvent.at).desc(), col(AuditEvent.id).desc())
        .offset((page - 1) * per_page)
        .limit(per_page)
    ).all()
    return AuditPage([(e, c) for e, c in rows], page, pages, total)


def list_users(session: Session) -> list[tuple[User, str | None]]:
    return list(
        session.exec(
            select(User, Territory.code)
            .join(Territory, col(Territory.id) == col(User.territory_id), isouter=True)
            .order_by(col(Territory.code).nulls_first(), User.email)
        ).all()
    )


def ensure_demo_accounts(session: Session, territory: Territory) -> list[tuple[str, str, str]]:
    """Create the demo coordinator and viewer of `territory` if missing (idempotent).

    Returns (email, password, role) for each demo account; the caller commits.
    """
    out = []
    for email, password, role, name in DEMO_ACCOUNTS:
        if user_by_email(session, email) is None:
            create_user(session, email, password, role, territory, full_name=name)
        out.append((email, password, role))
    return out
