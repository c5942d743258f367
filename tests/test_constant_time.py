"""Secrets are compared in constant time (issue 19, item 3).

A static walk over app/ and survey/: an `==` or `!=` whose operand is named like a token, a
hash, a MAC, a signature, a digest or a secret fails, unless it is in ALLOWED with a reason.
Such comparisons go through `hmac.compare_digest` / `secrets.compare_digest` (or
`app.security.same_secret`), which take the same time wherever the strings differ.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("app", "survey")
SECRET_NAME = re.compile(r"token|hash|mac|signature|(^|_)sig($|_)|digest|secret", re.IGNORECASE)
# A function named so compares secrets whatever its operands are called (`same_secret`).
CHECKING_FUNCTION = re.compile(r"secret|digest|signature|(^|_)mac($|_)|verify", re.IGNORECASE)

# (file, source of the comparison) -> why it is not a secret compared with a guess.
ALLOWED: dict[tuple[str, str], str] = {
    ("survey/accounts.py", "col(User.password_hash) == user.password_hash"): (
        "SQL compare-and-swap in the database (one-time password link): both sides are the "
        "stored hash, nothing a visitor sent"
    ),
    ("survey/accounts.py", "len(mac) != _MAC_LENGTH"): "the length of a MAC is public",
    ("survey/accounts.py", "password_hash == PENDING_PASSWORD"): (
        "the stored value against a public marker (account created without a password)"
    ),
    ("survey/accounts.py", "self.password_hash == PENDING_PASSWORD"): (
        "the stored value against a public marker (account created without a password)"
    ),
    ("survey/links.py", "Invitation.token_hash == hash_token(token)"): (
        "SQL lookup by the SHA-256 of the sent token: the guess is hashed first, so the "
        "index lookup's timing tells nothing about a real token"
    ),
    ("survey/links.py", "len(token) == TOKEN_LENGTH"): "the length of a link is public",
    ("survey/questionnaire.py", 'col(Invitation.token_hash) == bindparam("token_hash")'): (
        "the same SQL lookup by the token's SHA-256, as a cached statement"
    ),
}


def _names(node: ast.AST) -> list[str]:
    """The identifiers an operand is made of: names, attributes, called functions, keys."""
    found = []
    for sub in ast.walk(node):
        if isinstance(sub, ast.Name):
            found.append(sub.id)
        elif isinstance(sub, ast.Attribute):
            found.append(sub.attr)
        elif isinstance(sub, ast.Constant) and isinstance(sub.value, str) and len(sub.value) < 40:
            found.append(sub.value)  # row["token_hash"], getattr(x, "signature")
    return found


def secret_comparisons(source: str) -> list[str]:
    """Source text of each `==` / `!=` comparison with an operand named like a secret."""
    tree = ast.parse(source)
    # The innermost function around each node: `same_secret(expected, sent)` compares
    # secrets whatever its operands are called.
    function: dict[ast.AST, str] = {}
    for func in ast.walk(tree):
        if isinstance(func, ast.FunctionDef | ast.AsyncFunctionDef):
            for sub in ast.walk(func):
                function[sub] = func.name  # inner functions are walked later and win
    hits = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Compare):
            continue
        if not any(isinstance(op, ast.Eq | ast.NotEq) for op in node.ops):
            continue
        names = [name for o in [node.left, *node.comparators] for name in _names(o)]
        if any(SECRET_NAME.search(name) for name in names) or CHECKING_FUNCTION.search(
            function.get(node, "")
        ):
            hits.append(ast.get_source_segment(source, node) or ast.dump(node))
    return hits


def test_secrets_are_compared_in_constant_time():
    found = set()
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            rel = path.relative_to(ROOT).as_posix()
            for segment in secret_comparisons(path.read_text(encoding="utf-8")):
                found.add((rel, segment))
    unexpected = sorted(found - set(ALLOWED))
    assert not unexpected, "compare with hmac.compare_digest:\n" + "\n".join(
        f"{file}: {segment}" for file, segment in unexpected
    )
    assert not set(ALLOWED) - found, f"stale entries in ALLOWED: {set(ALLOWED) - found}"


def test_the_walk_sees_a_planted_comparison():
    """The mutant of issue 19: `compare_digest` replaced by `!=` in the password-link check."""
    planted = "def check(token, expected):\n    if token != expected:\n        return None\n"
    assert secret_comparisons(planted) == ["token != expected"]
    assert secret_comparisons("ok = sig == good_signature\n") == ["sig == good_signature"]
    assert secret_comparisons("ok = hmac.compare_digest(mac, expected)\n") == []
    assert secret_comparisons("ok = name == other\n") == []
    planted = "def same_secret(expected, sent):\n    return expected == sent\n"
    assert secret_comparisons(planted) == ["expected == sent"]
