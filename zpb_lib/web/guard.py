"""The headers every response of the app carries: nothing is loaded from, framed by or sent to
another origin, and a browser guesses no content types."""
from __future__ import annotations

from tornado import httputil
from tornado.web import OutputTransform

# Bokeh's page boots from inline scripts and its models compile small functions: 'unsafe-inline' and
# 'unsafe-eval' allow those, and blob: the module shims it makes of its own scripts; still no source
# outside the app's own origin.
CONTENT_SECURITY_POLICY = "; ".join((
    "default-src 'self'",
    "script-src 'self' 'unsafe-inline' 'unsafe-eval' blob:",
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data: blob:",
    "font-src 'self' data:",
    "connect-src 'self'",
    "frame-ancestors 'none'",
    "form-action 'self'",
    "base-uri 'self'",
    "object-src 'none'",
))

HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
}


class SecurityHeaders(OutputTransform):
    """Adds :data:`HEADERS` to every response (pages, scripts, the login form, errors)."""

    def transform_first_chunk(self, status_code: int, headers: httputil.HTTPHeaders, chunk: bytes,
                              finishing: bool) -> tuple[int, httputil.HTTPHeaders, bytes]:
        for name, value in HEADERS.items():
            headers[name] = value
        return status_code, headers, chunk
