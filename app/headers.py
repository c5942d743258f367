"""Security headers on every response: pages, API, static files, errors, redirects.

A pure ASGI middleware (no BaseHTTPMiddleware): it rewrites the `http.response.start`
message, so it also covers responses produced by exception handlers and by StaticFiles.
Why each header is there: docs/security.md.
"""

from __future__ import annotations

from fastapi import FastAPI
from starlette.types import ASGIApp, Message, Receive, Scope, Send

# Scripts only from this site, never inline: the templates load app/static/*.js with `defer`.
# Style *attributes* carry computed values (bar widths, map colours and opacity in the SVG), so
# inline style attributes are allowed, but not inline <style> elements (style-src-elem);
# browsers without CSP level 3 fall back to `style-src`.
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self' 'unsafe-inline'",
        "style-src-elem 'self'",
        "style-src-attr 'unsafe-inline'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)
# Features the service never uses.
PERMISSIONS_POLICY = ", ".join(
    f"{feature}=()"
    for feature in (
        "camera",
        "microphone",
        "geolocation",
        "payment",
        "usb",
        "interest-cohort",
    )
)
HSTS = "max-age=31536000; includeSubDomains"
# What a response says about caching when its route said nothing: pages carry personal links,
# names and answers, and a browser's Back button or a shared office computer must not show
# an earlier copy (a questionnaire « still to send » after it was sent). Static files, which
# hold nothing personal, are left to the browser.
NO_STORE = (b"cache-control", b"no-store")
STATIC_PREFIX = "/static/"

HEADERS: list[tuple[bytes, bytes]] = [
    (b"content-security-policy", CONTENT_SECURITY_POLICY.encode()),
    (b"x-content-type-options", b"nosniff"),
    # Personal links are in the URL (/q/{token}): never send them to another site.
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),  # frame-ancestors for browsers without CSP level 2
    (b"permissions-policy", PERMISSIONS_POLICY.encode()),
    (b"cross-origin-opener-policy", b"same-origin"),
]


def is_https(scope: Scope) -> bool:
    """The request came over HTTPS: directly, or through a proxy that said so.

    uvicorn's `proxy_headers` already rewrites the scheme for trusted proxies
    (FORWARDED_ALLOW_IPS); the header is also read here because HSTS sent on plain HTTP is
    ignored by browsers (RFC 6797 §8.1), so trusting it cannot do harm.
    """
    if scope.get("scheme") in ("https", "wss"):
        return True
    for name, value in scope.get("headers", []):
        if name == b"x-forwarded-proto":
            return value.split(b",")[0].strip().lower() == b"https"
    return False


class SecurityHeaders:
    """Adds HEADERS (and HSTS over HTTPS) to every HTTP response. They replace any header of
    the same name a route set: no route can relax the policy. A response outside /static/
    whose route set no Cache-Control gets `no-store`."""

    def __init__(self, app: ASGIApp, always_https: bool = False) -> None:
        self.app = app
        self.always_https = always_https

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        extra = list(HEADERS)
        if self.always_https or is_https(scope):
            extra.append((b"strict-transport-security", HSTS.encode()))
        default_no_store = not scope.get("path", "").startswith(STATIC_PREFIX)

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                ours = {name for name, _ in extra}
                headers = [(n, v) for n, v in message.get("headers", []) if n.lower() not in ours]
                if default_no_store and not any(n.lower() == NO_STORE[0] for n, _ in headers):
                    headers.append(NO_STORE)
                message = {**message, "headers": headers + extra}
            await send(message)

        await self.app(scope, receive, send_with_headers)


def install(app: FastAPI) -> None:
    """Wrap the whole middleware stack, ServerErrorMiddleware included: `add_middleware`
    would sit inside it and miss the 500 page. Also publishes the client address for the
    personal-link throttle (app/respondent.py)."""
    from app.respondent import ClientAddress

    always_https = app.state.settings.base_url.startswith("https://")
    build = app.build_middleware_stack

    def build_with_headers() -> ASGIApp:
        return SecurityHeaders(ClientAddress(build()), always_https=always_https)

    app.build_middleware_stack = build_with_headers  # type: ignore[method-assign]
