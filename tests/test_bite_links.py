"""What a personal link must look like before the database is even asked (survey/links.py).

Mutation testing (docs/testing.md) showed that no test fed `well_formed` a token that fails on
one condition only: these do, one condition at a time."""

from __future__ import annotations

import pytest

from survey import links


def test_a_link_is_32_ascii_characters():
    # The design (README, docs/security.md): 32 base64url characters.
    assert links.well_formed("A" * 32)
    assert links.well_formed(links.derive_token("secret", "nonce"))


@pytest.mark.parametrize(
    "token",
    [
        "",  # empty
        "A" * 31,  # ASCII, one character short
        "A" * 33,  # ASCII, one character too many
        "abc",  # ASCII, far too short
        "é" * 32,  # right length, not ASCII
        "A" * 31 + "é",  # right length, one non-ASCII character
    ],
)
def test_anything_else_is_not_a_link(token):
    assert not links.well_formed(token)


def test_links_already_sent_keep_working_after_an_upgrade():
    """Links are e-mailed, then derived again from the stored nonce: the derivation is frozen.

    The expected token is computed here with the standard library alone: base64url of
    HMAC-SHA256(secret, "invitation:" + nonce) (the label keeps these MACs apart from any other
    use of the secret), first 32 characters; any change breaks every link already e-mailed."""
    import base64
    import hashlib
    import hmac

    mac = hmac.new(b"s3cret", b"invitation:n0nce", hashlib.sha256).digest()
    expected = base64.urlsafe_b64encode(mac).decode()[:32]
    assert links.derive_token("s3cret", "n0nce") == expected
    assert links.hash_token(expected) == hashlib.sha256(expected.encode()).hexdigest()


def test_a_link_needs_stored_rows(session):
    """An unsaved professional or campaign is a programming error, caught before any write."""
    from survey.models import Campaign, Professional

    campaign = Campaign(id=1, territory_id=1, year=2025)
    with pytest.raises(AssertionError):
        links.issue(session, "secret", campaign, Professional(full_name="Sans id", email=""))
    with pytest.raises(AssertionError):
        links.issue(session, "secret", Campaign(territory_id=1, year=2025), Professional(id=1))
    assert not session.new  # nothing was added
