"""``zpb serve --auth oidc``: the authorization-code flow with PKCE against any OpenID Connect
provider (Keycloak, Microsoft Entra ID, AD FS…), ending in zpb's own session cookie.

The provider's endpoints and keys come from its discovery document. The ID token's signature is
checked against the provider's keys, and its issuer, audience, expiry and nonce against this login;
the role comes from a configurable claim (``groups`` by default), of which exactly one value must be
a zpb role. A state, nonce and PKCE verifier live in a short-lived signed cookie between the two
legs, so any worker process can finish a login another began.
"""
from __future__ import annotations

import base64
import hashlib
import json
import secrets
import time
from html import escape
from typing import Any
from urllib.parse import urlencode

from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet
from tornado.httpclient import AsyncHTTPClient, HTTPClientError

from zpb_lib.web.auth import LOGIN, Identity, SessionHandler, lang_of, role_from_claim, safe_next
from zpb_lib.store.rights import READER
from zpb_lib.web.config import Oidc, ServeConfig
from zpb_lib.web.journal import note_login, typed_login
from zpb_lib.web.texts import t

FLOW_COOKIE = "zpb_oidc"
FLOW_MINUTES = 10  # a login begun must end within this


class Provider:
    """The provider's discovery document and keys, read once per process and again when a token
    names a key not seen yet (the provider rotated its keys)."""

    def __init__(self, oidc: Oidc):
        self.oidc = oidc
        self.meta: dict[str, Any] | None = None
        self.keys: KeySet | None = None

    async def _get(self, url: str) -> dict[str, Any]:
        response = await AsyncHTTPClient().fetch(url, request_timeout=15)
        return json.loads(response.body)

    async def discovery(self) -> dict[str, Any]:
        if self.meta is None:
            meta = await self._get(self.oidc.issuer.rstrip("/") + "/.well-known/openid-configuration")
            if meta.get("issuer", "").rstrip("/") != self.oidc.issuer.rstrip("/"):
                raise ValueError(f"the provider's discovery document names issuer {meta.get('issuer')!r}, "
                                 f"not {self.oidc.issuer!r}")
            self.meta = meta
        return self.meta

    async def key_set(self, refresh: bool = False) -> KeySet:
        if self.keys is None or refresh:
            self.keys = KeySet.import_key_set(await self._get((await self.discovery())["jwks_uri"]))
        return self.keys

    async def verify(self, id_token: str, nonce: str) -> dict[str, Any]:
        """The ID token's claims, once its signature, issuer, audience, expiry and nonce hold."""
        meta = await self.discovery()
        try:
            token = jwt.decode(id_token, await self.key_set())
        except (JoseError, ValueError):
            token = jwt.decode(id_token, await self.key_set(refresh=True))
        claims = token.claims
        aud = claims.get("aud")
        auds = [aud] if isinstance(aud, str) else list(aud or [])
        if claims.get("iss") != meta["issuer"] or self.oidc.client_id not in auds:
            raise ValueError("the ID token was not issued by this provider for this app")
        if float(claims.get("exp", 0)) < time.time() - 60:
            raise ValueError("the ID token has expired")
        if claims.get("nonce") != nonce:
            raise ValueError("the ID token does not answer this login (nonce)")
        return dict(claims)


def _challenge(verifier: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()


class OidcLogin(SessionHandler):
    provider: Provider

    @classmethod
    def for_config(cls, config: ServeConfig) -> type["OidcLogin"]:
        assert config.oidc is not None
        return type("OidcLogin", (cls,), {"provider": Provider(config.oidc)})

    def redirect_uri(self) -> str:
        base = self.config.public_url.rstrip("/") if self.config.public_url else f"{self.request.protocol}://{self.request.host}"
        return base + LOGIN

    async def get(self) -> None:
        lang = lang_of(self)
        try:
            if self.get_argument("error", ""):
                return self.failed(lang, self.get_argument("error_description", "") or self.get_argument("error"))
            if self.get_argument("code", ""):
                return await self.finish_login(lang)
            await self.begin_login(lang)
        except (HTTPClientError, OSError, ValueError, KeyError, JoseError) as exc:
            self.failed(lang, str(exc))

    async def begin_login(self, lang: str) -> None:
        meta = await self.provider.discovery()
        flow = {"state": secrets.token_urlsafe(24), "nonce": secrets.token_urlsafe(24),
                "verifier": secrets.token_urlsafe(48), "next": safe_next(self.get_argument("next", "/")), "lang": lang}
        self.set_signed_cookie(FLOW_COOKIE, json.dumps(flow), expires_days=FLOW_MINUTES / 1440, httponly=True,
                               path=LOGIN, secure=self.config.secure_cookies, samesite="Lax")
        oidc = self.provider.oidc
        self.redirect(meta["authorization_endpoint"] + "?" + urlencode({
            "response_type": "code", "client_id": oidc.client_id, "redirect_uri": self.redirect_uri(),
            "scope": oidc.scopes, "state": flow["state"], "nonce": flow["nonce"],
            "code_challenge": _challenge(flow["verifier"]), "code_challenge_method": "S256"}))

    async def finish_login(self, lang: str) -> None:
        raw = self.get_signed_cookie(FLOW_COOKIE, max_age_days=FLOW_MINUTES / 1440)
        flow = json.loads(raw) if raw else None
        self.clear_cookie(FLOW_COOKIE, path=LOGIN)
        if not flow or not secrets.compare_digest(flow.get("state", ""), self.get_argument("state", "")):
            return self.failed(lang, "the login's state does not match (begun in another browser, or too long ago)")
        lang = flow.get("lang", lang)
        meta = await self.provider.discovery()
        oidc = self.provider.oidc
        body = urlencode({"grant_type": "authorization_code", "code": self.get_argument("code"),
                          "redirect_uri": self.redirect_uri(), "code_verifier": flow["verifier"],
                          "client_id": oidc.client_id, "client_secret": oidc.client_secret})
        response = await AsyncHTTPClient().fetch(meta["token_endpoint"], method="POST", body=body, request_timeout=15,
                                                 headers={"Content-Type": "application/x-www-form-urlencoded"})
        tokens = json.loads(response.body)
        claims = await self.provider.verify(tokens["id_token"], flow["nonce"])
        if oidc.role_claim not in claims and "userinfo_endpoint" in meta:  # some providers put groups there only
            info = await AsyncHTTPClient().fetch(meta["userinfo_endpoint"], request_timeout=15,
                                                 headers={"Authorization": f"Bearer {tokens['access_token']}"})
            claims = {**json.loads(info.body), **claims}
        login = str(claims.get(oidc.user_claim) or claims["sub"])
        role, problem = role_from_claim(claims.get(oidc.role_claim))
        now = time.time()
        self.set_identity(Identity(login, role, str(claims.get("name") or login), now, now, problem))
        await note_login(self.config, "login" if role else "login_failed", typed_login(login), role or READER,
                         self.request.remote_ip or "?", "oidc" if role else f"oidc: {problem or 'no zpb role'}")
        self.redirect(flow.get("next") or "/")

    def failed(self, lang: str, reason: str) -> None:
        self.page(t("login_title", lang), f'<h1>{escape(t("login_title", lang))}</h1>'
                  f'<p class="error" role="alert">{escape(reason)}</p>'
                  f'<p><a href="{LOGIN}?lang={lang}">{escape(t("log_in_again", lang))}</a></p>', lang, 400)
