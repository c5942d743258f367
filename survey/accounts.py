"""Accounts, roles, login throttling and the audit log.

Roles: `admin` (every territory; manages territories and accounts), `coordinator` (one
territory, everything, including its viewers' accounts), `viewer` (one territory, read only).
Passwords are hashed with argon2. Login failures are stored in the database so that several
app processes agree on throttling.

A viewer created by a coordinator has no password yet: they choose it through a one-time
link (see `issue_password_link`), which nothing in the database stores.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import smtplib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import formataddr, formatdate, make_msgid
from functools import lru_cache

from pwdlib import PasswordHash
from sqlalchemy import Column, Index, Text, case, delete, func, update
from sqlmodel import Field, Session, SQLModel, col, select

from survey import french, mailing, text
from survey.db import changed_rows
from survey.models import Territory, utcnow

ROLES = ("admin", "coordinator", "viewer")
ROLE_LABELS = {
    "admin": "Administrateur",
    "coordinator": "Coordinateur",
    "viewer": "Lecteur (lecture seule)",
}
PASSWORD_MIN_LENGTH = 12
# Failures within THROTTLE_WINDOW that lock logins for THROTTLE_LOCK: per account (the
# e-mail typed), and per address. The address threshold is higher because a whole office
# behind one NAT shares an address: one person's typos must not lock their colleagues.
THROTTLE_FAILURES_PER_ACCOUNT = 5
THROTTLE_FAILURES_PER_ADDRESS = 50
THROTTLE_WINDOW = timedelta(minutes=15)
THROTTLE_LOCK = timedelta(minutes=15)
# Login attempts (e-mail typed, address) are deleted after this by `carte retention --apply`.
LOGIN_ATTEMPT_RETENTION = timedelta(days=30)
PASSWORD_LINK_VALIDITY = timedelta(days=7)
# Stored instead of a hash while a new account waits for its owner to choose a password:
# no password verifies against it (see verify_password).
PENDING_PASSWORD = "!en-attente"

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

    @property
    def password_pending(self) -> bool:
        """Created without a password: waiting for its owner to use a one-time link."""
        return self.password_hash == PENDING_PASSWORD


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
    if password_hash == PENDING_PASSWORD:
        # Same cost as a real check: response time does not tell pending accounts apart.
        _hasher().verify(password, _dummy_hash())
        return False
    try:
        return _hasher().verify(password, password_hash)
    except Exception:  # a malformed stored hash never lets anyone in
        return False


def normalise_email(email: str) -> str:
    return email.strip().lower()


def check_password_strength(password: str, field: str = "password") -> None:
    if found := text.problem(password, "Mot de passe"):
        raise AccountError(found, field)
    if len(password) < PASSWORD_MIN_LENGTH:
        raise AccountError(
            f"Le mot de passe doit comporter au moins {PASSWORD_MIN_LENGTH} caractères.", field
        )
    if len(password) > 200:
        raise AccountError("Le mot de passe est trop long (200 caractères au maximum).", field)
    if not password.strip():
        raise AccountError("Le mot de passe ne peut pas être fait que d'espaces.", field)


def _check_email(email: str) -> str:
    if found := text.problem(email, "Adresse e-mail"):
        raise AccountError(found, "email")
    email = normalise_email(email)
    local, _, domain = email.partition("@")
    if not local or "." not in domain or " " in email or len(email) > 200:
        raise AccountError("Indiquez une adresse e-mail valide (nom@domaine.fr).", "email")
    return email


# --- territories ---------------------------------------------------------------------------


def territory_by_code(session: Session, code: str) -> Territory | None:
    return session.exec(select(Territory).where(Territory.code == code.strip())).first()


def list_territories(session: Session) -> list[Territory]:
    return list(session.exec(select(Territory).order_by(Territory.code)).all())


def territories_with_accounts(session: Session) -> list[tuple[Territory, int, int]]:
    """Every territory with its number of accounts and, among them, of coordinators."""
    coordinators = func.sum(case((col(User.role) == "coordinator", 1), else_=0))
    rows = session.exec(
        select(Territory, func.count(col(User.id)), coordinators)
        .join(User, col(User.territory_id) == col(Territory.id), isouter=True)
        .group_by(col(Territory.id))
        .order_by(Territory.code)
    ).all()
    return [(t, n or 0, c or 0) for t, n, c in rows]


def create_territory(session: Session, code: str, name: str) -> Territory:
    """A new territory (département); the caller commits."""
    for value, label, field in ((code, "Code du département", "code"), (name, "Nom", "name")):
        if found := text.problem(value, label):  # before strip(), which drops some
            raise AccountError(found, field)
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
    password: str | None,
    role: str,
    territory: Territory | None = None,
    full_name: str = "",
) -> User:
    """A new account; the caller commits. Admins have no territory, others exactly one.

    `password=None` creates the account without a password (`password_pending`): its owner
    chooses one through a one-time link."""
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
    if found := text.problem(full_name, "Nom"):
        raise AccountError(found, "full_name")
    if len(full_name) > 160:
        raise AccountError("Le nom est trop long (160 caractères au plus).", "full_name")
    if password is not None:
        check_password_strength(password)
    if user_by_email(session, email) is not None:
        raise AccountError(f"Un compte existe déjà pour {email}.", "email")
    user = User(
        email=email,
        full_name=full_name.strip(),
        password_hash=PENDING_PASSWORD if password is None else hash_password(password),
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


# --- viewers of a territory, managed by its coordinators -----------------------------------


def list_viewers(session: Session, territory_id: int) -> list[User]:
    """The viewer accounts of one territory (never coordinators or administrators)."""
    return list(
        session.exec(
            select(User)
            .where(User.territory_id == territory_id, User.role == "viewer")
            .order_by(User.email)
        ).all()
    )


def viewer_of(session: Session, territory_id: int, user_id: int) -> User | None:
    """The account `user_id` if it is a viewer of the territory, else None."""
    user = session.get(User, user_id)
    if user is None or user.role != "viewer" or user.territory_id != territory_id:
        return None
    return user


def create_viewer(session: Session, territory: Territory, email: str, full_name: str = "") -> User:
    """A viewer of `territory` without a password yet (see issue_password_link); the caller
    commits. Raises AccountError (invalid e-mail, e-mail already used by any account…)."""
    return create_user(session, email, None, "viewer", territory, full_name=full_name)


# --- one-time "choose your password" links -------------------------------------------------
#
# token = "{user id}.{expiry (Unix time)}.{MAC}", MAC = HMAC-SHA256(secret, user id, expiry,
# e-mail, session version, password hash), base64url. Nothing is stored: a copy of the
# database alone cannot produce a working link (the secret is needed). The link is
# - expiring: the expiry is part of the signed text;
# - single use: choosing the password changes the hash (and the session version), so the
#   MAC no longer matches; the change itself is a compare-and-swap on both values, so two
#   simultaneous uses cannot both succeed;
# - revocable: a newer link, a deactivation or a password reset bump the session version.

PASSWORD_LINK_INVALID = (
    "Ce lien n'est pas ou plus valable : il a peut-être déjà servi ou été remplacé par un "
    "lien plus récent. Demandez un nouveau lien au coordinateur de votre territoire."
)
PASSWORD_LINK_EXPIRED = (
    "Ce lien a expiré. Demandez un nouveau lien au coordinateur de votre territoire."
)
_MAC_LENGTH = 43  # base64url of 32 bytes, without padding


class PasswordLinkInvalid(AccountError):
    """The link is unknown, used, replaced or for an inactive account (404), or expired (410)."""

    def __init__(self, message: str = PASSWORD_LINK_INVALID, status: int = 404) -> None:
        super().__init__(message)
        self.status = status


def _password_link_mac(secret: str, user: User, expires: int) -> str:
    text = "\x1f".join(
        ["password-link", str(user.id), str(expires), user.email, str(user.session_version),
         user.password_hash]
    )  # fmt: skip
    mac = hmac.new(secret.encode(), text.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac).decode().rstrip("=")


def issue_password_link(
    secret: str, user: User, replace: bool = False, now: datetime | None = None
) -> tuple[str, datetime]:
    """A token letting `user` choose a password, and when it expires.

    `replace=True` makes every earlier link of the user stop working (and closes the user's
    open sessions): use it when a link is issued again. The caller commits.
    """
    if replace:
        user.session_version += 1
    now = now or datetime.now(UTC)
    expires = int((now + PASSWORD_LINK_VALIDITY).timestamp())
    token = f"{user.id}.{expires}.{_password_link_mac(secret, user, expires)}"
    return token, datetime.fromtimestamp(expires, UTC)


def password_link_user(
    session: Session, secret: str, token: str, now: datetime | None = None
) -> User:
    """The active account a one-time link opens, or PasswordLinkInvalid."""
    parts = token.split(".") if len(token) <= 80 and token.isascii() else []
    if len(parts) != 3 or not parts[0].isdecimal() or not parts[1].isdecimal():
        raise PasswordLinkInvalid()
    user_id, expires, mac = int(parts[0]), int(parts[1]), parts[2]
    if len(mac) != _MAC_LENGTH or user_id > 2**31 - 1 or expires > 2**40:
        raise PasswordLinkInvalid()
    user = session.get(User, user_id)
    expected = _password_link_mac(secret, user, expires) if user else "-" * _MAC_LENGTH
    if user is None or not hmac.compare_digest(expected, mac) or not user.active:
        raise PasswordLinkInvalid()
    now = now or datetime.now(UTC)
    if now.timestamp() > expires:
        raise PasswordLinkInvalid(PASSWORD_LINK_EXPIRED, status=410)
    return user


def set_password_with_link(
    session: Session, secret: str, token: str, new: str, confirm: str, now: datetime | None = None
) -> User:
    """Check the link, then set the password chosen by the account's owner; the link stops
    working. Raises PasswordLinkInvalid or AccountError (weak or mismatched password).
    The caller commits."""
    user = password_link_user(session, secret, token, now)
    check_password_strength(new, "new_password")
    if new != confirm:
        raise AccountError("Les deux mots de passe ne sont pas identiques.", "confirm")
    # Compare-and-swap: only one use of the link can change the row it was signed for.
    changed = session.execute(
        update(User)
        .where(
            col(User.id) == user.id,
            col(User.session_version) == user.session_version,
            col(User.password_hash) == user.password_hash,
        )
        .values(password_hash=hash_password(new), session_version=user.session_version + 1)
        .execution_options(synchronize_session=False)
    )
    if changed_rows(changed) != 1:
        raise PasswordLinkInvalid()
    session.refresh(user)
    return user


def password_link_message(
    mail_from: str,
    user: User,
    link: str,
    territory: Territory,
    expires: datetime,
    sender: User,
    login_url: str,
) -> EmailMessage:
    """The e-mail carrying a one-time link to choose a password."""
    msg = EmailMessage()
    msg["From"] = mail_from
    msg["To"] = formataddr((" ".join(user.full_name.split()), user.email))
    msg["Subject"] = f"Carte partenariale {territory.code} : votre accès en lecture"
    msg["Date"] = formatdate(localtime=True)
    msg["Message-ID"] = make_msgid(domain=mail_from.rpartition("@")[2] or "localhost")
    msg["Auto-Submitted"] = "auto-generated"
    greeting = f"Bonjour {' '.join(user.full_name.split())}," if user.full_name else "Bonjour,"
    msg.set_content(
        f"{greeting}\n\n"
        f"{sender.display_name} vous a ouvert un accès en lecture à la carte partenariale "
        f"du territoire {territory.code} — {territory.name} : la carte des partenariats, "
        "les chiffres et les rapports annuels.\n\n"
        "Pour choisir votre mot de passe, ouvrez ce lien personnel (il ne sert qu'une fois, "
        f"jusqu'au {french.date_fr(expires.date(), space=' ')} ; ne le transmettez pas) :\n{link}\n\n"
        f"Ensuite, connectez-vous sur {login_url} avec votre adresse e-mail ({user.email}) "
        "et ce mot de passe.\n\n"
        "Si vous n'attendiez pas ce message, ignorez-le : sans ce lien, aucun mot de passe "
        "n'est choisi et personne ne peut se connecter à ce compte.\n"
    )
    return msg


def send_password_link(smtp: mailing.SmtpConfig, message: EmailMessage) -> str:
    """Send the message; '' when sent, else a French reason. Never raises for a network or
    SMTP failure (the coordinator still has the link on screen)."""
    try:
        conn = mailing._connect(smtp)
    except (OSError, smtplib.SMTPException) as exc:
        return f"connexion au serveur d'envoi impossible : {mailing._describe(exc)}"
    try:
        conn.send_message(message)
    except (OSError, smtplib.SMTPException, ValueError) as exc:
        return f"envoi refusé : {mailing._describe(exc)}"
    finally:
        with contextlib.suppress(OSError, smtplib.SMTPException):
            conn.quit()
    return ""


# --- login and throttling ------------------------------------------------------------------


def _lock_end(times: list[datetime], n: int) -> datetime | None:
    """End of the latest lock: `n` failures within THROTTLE_WINDOW lock for THROTTLE_LOCK
    from the last of them."""
    times = sorted(_aware(t) for t in times)
    end = None
    for i in range(n - 1, len(times)):
        if times[i] - times[i - n + 1] <= THROTTLE_WINDOW:
            end = times[i] + THROTTLE_LOCK
    return end


def _aware(t: datetime) -> datetime:
    return t if t.tzinfo else t.replace(tzinfo=UTC)


def throttle_check(session: Session, email: str, ip: str, now: datetime | None = None) -> None:
    """Raise Throttled when the e-mail (THROTTLE_FAILURES_PER_ACCOUNT failures) or the
    address (THROTTLE_FAILURES_PER_ADDRESS failures, any e-mails) is locked."""
    now = now or datetime.now(UTC)
    email = normalise_email(email)
    since = now - THROTTLE_WINDOW - THROTTLE_LOCK
    last_success = session.exec(
        select(func.max(LoginAttempt.at)).where(
            LoginAttempt.email == email, col(LoginAttempt.success).is_(True)
        )
    ).one()
    email_since = max(since, _aware(last_success)) if last_success else since
    checks = [(LoginAttempt.email == email, email_since, THROTTLE_FAILURES_PER_ACCOUNT)]
    if ip:
        checks.append((LoginAttempt.ip == ip, since, THROTTLE_FAILURES_PER_ADDRESS))
    ends = []
    for clause, start, failures in checks:
        times = session.exec(
            select(LoginAttempt.at)
            .where(clause, col(LoginAttempt.success).is_(False), col(LoginAttempt.at) > start)
            .order_by(col(LoginAttempt.at).desc())
            .limit(2 * failures)
        ).all()
        end = _lock_end(list(times), failures)
        if end is not None:
            ends.append(end)
    if ends and max(ends) > now:
        raise Throttled(max(ends) - now)


def authenticate(session: Session, email: str, password: str, ip: str = "") -> User:
    """The active user with these credentials, or AccountError/Throttled.

    Records the attempt and its audit event and commits them, on failure too: a failed
    attempt must be stored to count towards throttling.
    """
    try:
        user = _checked_login(session, email, password, ip)
    except AccountError:  # Throttled included
        session.commit()
        raise
    session.commit()
    return user


def _checked_login(session: Session, email: str, password: str, ip: str) -> User:
    # Refused before any query (PostgreSQL rejects NUL): accounts are created and
    # passwords set under the same rule, so this turns no real account away.
    for value, label in ((email, "Adresse e-mail"), (password, "Mot de passe")):
        if found := text.problem(value, label):
            raise AccountError(found, "email")
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


def purge_login_attempts(
    session: Session, older_than: timedelta = LOGIN_ATTEMPT_RETENTION, now: datetime | None = None
) -> int:
    """Forget old attempts (they hold e-mails and addresses). Returns the number removed."""
    result = session.execute(
        delete(LoginAttempt).where(expired_login_attempts(now or datetime.now(UTC), older_than))
    )
    return changed_rows(result)


def expired_login_attempts(now: datetime, older_than: timedelta = LOGIN_ATTEMPT_RETENTION):
    """The login attempts older than `older_than` at `now` (a WHERE condition)."""
    return col(LoginAttempt.at) < now - older_than


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
    if territory_id is None and user is not None:
        territory_id = user.territory_id
    event = AuditEvent(
        user_id=user.id if user else None,
        user_email=user.email if user else "",
        territory_id=territory_id,
        action=action[:60],
        target=target[:300],
        detail=detail,
    )
    session.add(event)
    return event


def commit_audited(
    session: Session,
    user: User | None,
    action: str,
    target: str = "",
    detail: str = "",
    territory_id: int | None = None,
) -> None:
    """Add the audit event of the changes pending in `session` and commit them together:
    a change is never stored without its trace, nor a trace without its change."""
    audit(session, user, action, target, detail, territory_id=territory_id)
    session.commit()


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
