"""Personal links: issue, find, revoke, re-issue.

token = base64url(HMAC-SHA256(secret, nonce))[:32]  (192 bits). The database keeps the
nonce and SHA-256(token): a copy of the database alone yields no working link, while the
server, which knows the secret, can print every link again for a coordinator.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

from sqlmodel import Session, col, select

from survey.models import Campaign, Invitation, Professional, utcnow

TOKEN_LENGTH = 32


def derive_token(secret: str, nonce: str) -> str:
    mac = hmac.new(secret.encode(), b"invitation:" + nonce.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac).decode().rstrip("=")[:TOKEN_LENGTH]


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue(session: Session, secret: str, campaign: Campaign, professional: Professional) -> str:
    """Give the professional a new link for the campaign, revoking any previous one."""
    assert campaign.id is not None and professional.id is not None  # stored rows
    for old in current_invitations(session, campaign.id, professional.id):
        old.revoked_at = utcnow()
        session.add(old)
    nonce = secrets.token_urlsafe(24)
    token = derive_token(secret, nonce)
    session.add(
        Invitation(
            campaign_id=campaign.id,
            professional_id=professional.id,
            nonce=nonce,
            token_hash=hash_token(token),
        )
    )
    return token


def ensure(session: Session, secret: str, campaign: Campaign, professional: Professional) -> str:
    """The professional's current link for the campaign, issuing one if there is none."""
    assert campaign.id is not None and professional.id is not None  # stored rows
    existing = current_invitations(session, campaign.id, professional.id)
    if existing:
        return derive_token(secret, existing[0].nonce)
    return issue(session, secret, campaign, professional)


def current_invitations(session: Session, campaign_id: int, professional_id: int) -> list:
    return list(
        session.exec(
            select(Invitation)
            .where(
                Invitation.campaign_id == campaign_id,
                Invitation.professional_id == professional_id,
                col(Invitation.revoked_at).is_(None),
            )
            .order_by(col(Invitation.id).desc())
        )
    )


def revoke(session: Session, campaign_id: int, professional_id: int) -> int:
    """Revoke the professional's links for the campaign; returns how many were revoked."""
    invitations = current_invitations(session, campaign_id, professional_id)
    for inv in invitations:
        inv.revoked_at = utcnow()
        session.add(inv)
    return len(invitations)


def well_formed(token: str) -> bool:
    """Could be a personal link (length and characters): anything else is not looked up."""
    return bool(token) and len(token) == TOKEN_LENGTH and token.isascii()


def find(session: Session, token: str) -> Invitation | None:
    """The live invitation behind a token, or None (unknown, malformed or revoked)."""
    if not well_formed(token):
        return None
    inv = session.exec(select(Invitation).where(Invitation.token_hash == hash_token(token))).first()
    if inv is None or inv.revoked_at is not None:
        return None
    return inv


def token_for(secret: str, invitation: Invitation) -> str:
    return derive_token(secret, invitation.nonce)
