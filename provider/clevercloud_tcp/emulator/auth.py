"""Checks the two schemes the API accepts: OAuth1 (PLAINTEXT, or HMAC as clever-tools signs) and Bearer."""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import threading
import time
from urllib.parse import quote, unquote

from .fixture import Fixture, User

_PARAM = re.compile(r'(\w+)="([^"]*)"')
# OAuth 1.0a (RFC 5849 3.3): a signed request's timestamp must be recent, and its nonce used once.
TIMESTAMP_WINDOW = 300.0
_HASHES = {"HMAC-SHA512": hashlib.sha512, "HMAC-SHA256": hashlib.sha256, "HMAC-SHA1": hashlib.sha1}


def _enc(value: str) -> str:
    return quote(value, safe="~-._")


def _signature_base(method: str, url: str, params: list[tuple[str, str]]) -> str:
    normalized = "&".join(f"{k}={v}" for k, v in sorted((_enc(k), _enc(v)) for k, v in params))
    return "&".join([method.upper(), _enc(url), _enc(normalized)])


class Authenticator:
    def __init__(self, fixture: Fixture) -> None:
        self._consumers = {c.key: c.secret for c in fixture.consumers}
        self._oauth = {pair.token: (pair.secret, user) for user in fixture.users for pair in user.oauth}
        self._api_tokens = {token: user for user in fixture.users for token in user.api_tokens}
        self._nonces: dict[tuple[str, str], float] = {}  # (token, nonce) -> when it was seen
        self._nonces_lock = threading.Lock()

    def _fresh(self, token: str, nonce: str, timestamp: str) -> bool:
        """A recent timestamp and a nonce not seen with it yet: a signed request cannot be replayed."""
        now = time.time()
        try:
            recent = abs(now - float(timestamp)) <= TIMESTAMP_WINDOW
        except ValueError:
            return False
        with self._nonces_lock:
            self._nonces = {k: seen for k, seen in self._nonces.items() if now - seen <= 2 * TIMESTAMP_WINDOW}
            if not recent or not nonce or (token, nonce) in self._nonces:
                return False
            self._nonces[(token, nonce)] = now
        return True

    def user_for(self, header: str | None, method: str, url: str, query: list[tuple[str, str]]) -> User | None:
        """The user the Authorization header proves to be, or None."""
        if not header:
            return None
        scheme, _, rest = header.partition(" ")
        if scheme.lower() == "bearer":
            return self._api_tokens.get(rest.strip())
        if scheme.lower() != "oauth":
            return None
        params = {k: unquote(v) for k, v in _PARAM.findall(rest)}
        consumer_secret = self._consumers.get(params.get("oauth_consumer_key", ""))
        found = self._oauth.get(params.get("oauth_token", ""))
        if consumer_secret is None or found is None:
            return None
        token_secret, user = found
        key = f"{_enc(consumer_secret)}&{_enc(token_secret)}"
        method_name = params.get("oauth_signature_method", "PLAINTEXT")
        given = params.get("oauth_signature", "")
        if method_name == "PLAINTEXT":
            expected = key
        elif method_name in _HASHES:
            signed = [(k, v) for k, v in params.items() if k.startswith("oauth_") and k != "oauth_signature"]
            base = _signature_base(method, url, signed + query)
            expected = base64.b64encode(hmac.new(key.encode(), base.encode(), _HASHES[method_name]).digest()).decode()
        else:
            return None
        # Bytes: compare_digest refuses str with non-ASCII characters, and a signature is whatever was sent.
        if not hmac.compare_digest(expected.encode(), given.encode()):
            return None
        if method_name != "PLAINTEXT" and not self._fresh(params["oauth_token"], params.get("oauth_nonce", ""), params.get("oauth_timestamp", "")):
            return None
        return user
