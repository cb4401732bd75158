"""Offline verification of Gatehouse access tokens against the issuer's JWK Set (RFC 7517).

Offline verification sees signatures, claims and DPoP bindings, not revocations, suspensions or
envelopes: where those matter, ask Gatehouse (``VerifyService.Verify``).
"""

from __future__ import annotations

import base64
import hmac
import json
import re
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import grpc
import jwt

from .dpop import access_token_hash
from .errors import GatehouseError
from .keys import b64url, jwk_thumbprint
from .v1 import errors_pb2, verify_pb2, verify_pb2_grpc

#: VerifyRequest.token allows 8 KiB; nothing longer is parsed.
MAX_TOKEN_LENGTH = 8192
#: Header parameters that would let a token choose its own key (RFC 8725 §3.10) or demand
#: extensions this verifier does not implement (RFC 7515 §4.1.11).
_REFUSED_HEADERS = ("jku", "x5u", "jwk", "x5c", "crit")
_BASE64URL = re.compile(r"[A-Za-z0-9_-]+")


def _refuse(reason: int, description: str) -> GatehouseError:
    return GatehouseError(reason, description)


def _canonical_compact(token: str) -> bool:
    """Three segments, each canonical unpadded base64url (RFC 7515 §2, RFC 4648 §3.5), so a
    token has exactly one spelling (PyJWT itself accepts padding and stray bits)."""
    segments = token.split(".")
    if len(segments) != 3:
        return False
    for segment in segments:
        if not _BASE64URL.fullmatch(segment):
            return False
        try:
            decoded = base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))
        except ValueError:
            return False
        if b64url(decoded) != segment:
            return False
    return True


class KeySet:
    """The issuer's signing keys: a ``GetJwksResponse`` from ``fetch`` (usually the ``GetJwks``
    RPC, :meth:`from_channel`), cached for its ``cache_max_age_seconds`` and fetched again on an
    unknown ``kid`` — at most once per ``min_refresh`` seconds, so tokens with made-up key ids
    cannot turn into a flood of calls."""

    def __init__(
        self,
        fetch: Callable[[], verify_pb2.GetJwksResponse],
        *,
        min_refresh: float = 30.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._fetch = fetch
        self._min_refresh = min_refresh
        self._clock = clock
        self._lock = threading.Lock()
        self._keys: dict[str, jwt.PyJWK] | None = None
        self._fetched_at = 0.0
        self._expires_at = 0.0

    @classmethod
    def from_channel(cls, channel: grpc.Channel, **options: Any) -> KeySet:
        """A key set read with the ``GetJwks`` RPC over ``channel`` (options as for ``KeySet``)."""
        stub = verify_pb2_grpc.VerifyServiceStub(channel)
        return cls(lambda: stub.GetJwks(verify_pb2.GetJwksRequest(), timeout=10), **options)

    def key(self, kid: str) -> jwt.PyJWK:
        """The key named ``kid``; :class:`GatehouseError` ``REASON_TOKEN_KID_UNKNOWN`` if none."""
        with self._lock:
            now = self._clock()
            known = self._keys is not None and kid in self._keys
            stale = self._keys is None or now >= self._expires_at
            may_refresh = self._keys is None or now - self._fetched_at >= self._min_refresh
            if (stale or not known) and may_refresh:
                self._refresh(now)
            if self._keys is None or kid not in self._keys:
                raise _refuse(errors_pb2.REASON_TOKEN_KID_UNKNOWN, "unknown key id")
            return self._keys[kid]

    def _refresh(self, now: float) -> None:
        try:
            response = self._fetch()
        except grpc.RpcError as error:
            raise GatehouseError.from_rpc_error(error) from None
        keys: dict[str, jwt.PyJWK] = {}
        for jwk in response.keys:
            # Ed25519 keys (RFC 8037 §2); keys of other types are not used by this client.
            if (jwk.kty, jwk.crv, jwk.alg) == ("OKP", "Ed25519", "EdDSA"):
                keys[jwk.kid] = jwt.PyJWK(
                    {"kty": "OKP", "crv": "Ed25519", "x": jwk.x, "kid": jwk.kid}, "EdDSA"
                )
        self._keys = keys
        self._fetched_at = now
        self._expires_at = now + response.cache_max_age_seconds


@dataclass(frozen=True)
class DPoPContext:
    """The request a DPoP-bound token arrived with (RFC 9449 §7.1)."""

    #: The ``DPoP`` header's value.
    proof: str
    #: The request's method and URL (the proof's ``htm`` and ``htu``).
    method: str
    url: str


class Verifier:
    """Checks access tokens offline, in the server's order: header → signature → claims →
    ``iss`` → ``aud`` → time → DPoP binding → scopes. A refusal raises :class:`GatehouseError`
    whose ``reason`` names the first check that failed.

    Args:
        issuer: the expected ``iss``.
        audience: this service; the token's ``aud`` must contain it.
        keys: the issuer's :class:`KeySet`.
        leeway: clock skew allowed on ``exp``, ``nbf``, ``iat`` and proofs' ``iat``, in seconds.
    """

    def __init__(
        self,
        issuer: str,
        audience: str,
        keys: KeySet,
        *,
        leeway: float = 60.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.issuer = issuer
        self.audience = audience
        self._keys = keys
        self._leeway = leeway
        self._clock = clock

    def verify(
        self,
        token: str,
        *,
        required_scopes: Sequence[str] = (),
        dpop: DPoPContext | None = None,
    ) -> dict[str, Any]:
        """Verify ``token`` and return its claims.

        A DPoP-bound token (``cnf.jkt``) needs ``dpop``, the proof it came with; proof ``jti``s
        are not remembered offline (use ``VerifyService.Verify`` where replays must be caught).
        """
        header = self._header(token)
        key = self._keys.key(str(header.get("kid", "")))
        claims = self._claims(token, key)
        if claims.get("iss") != self.issuer:
            raise _refuse(errors_pb2.REASON_TOKEN_ISSUER_MISMATCH, "iss is not the expected issuer")
        audience = claims.get("aud")
        audiences = [audience] if isinstance(audience, str) else audience
        if not isinstance(audiences, list) or self.audience not in audiences:
            raise _refuse(
                errors_pb2.REASON_TOKEN_AUDIENCE_MISMATCH, "aud does not name this service"
            )
        self._check_time(claims)
        confirmation = claims.get("cnf")
        if confirmation is not None:
            self._check_dpop(token, confirmation, dpop)
        granted = str(claims.get("scope", "")).split()
        for scope in required_scopes:
            if scope not in granted:
                raise _refuse(errors_pb2.REASON_INSUFFICIENT_SCOPE, f"token lacks scope {scope}")
        return claims

    def _header(self, token: str) -> dict[str, Any]:
        if not token or len(token) > MAX_TOKEN_LENGTH or not _canonical_compact(token):
            raise _refuse(errors_pb2.REASON_TOKEN_MALFORMED, "malformed token")
        try:
            header = jwt.get_unverified_header(token)
        except jwt.DecodeError:
            raise _refuse(errors_pb2.REASON_TOKEN_MALFORMED, "malformed token") from None
        except jwt.InvalidTokenError:  # PyJWT refuses some headers itself, e.g. unknown `crit`
            raise _refuse(
                errors_pb2.REASON_TOKEN_HEADER_INVALID, "header is not acceptable"
            ) from None
        # RFC 8725 §3.1: only the algorithm the issuer signs with.
        if header.get("alg") != "EdDSA":
            raise _refuse(errors_pb2.REASON_TOKEN_ALG_NOT_ALLOWED, "alg must be EdDSA")
        if any(name in header for name in _REFUSED_HEADERS):
            raise _refuse(errors_pb2.REASON_TOKEN_HEADER_INVALID, "header names a key or extension")
        # RFC 9068 §2.1 and RFC 8725 §3.11: explicit typing.
        if header.get("typ") != "at+jwt":
            raise _refuse(errors_pb2.REASON_TOKEN_HEADER_INVALID, "typ must be at+jwt")
        return header

    def _claims(self, token: str, key: jwt.PyJWK) -> dict[str, Any]:
        try:
            # Signature only here; each claim is checked below, in order, with its own reason.
            claims = jwt.decode(
                token,
                key,
                algorithms=["EdDSA"],
                options={
                    "verify_exp": False,
                    "verify_nbf": False,
                    "verify_iat": False,
                    "verify_aud": False,
                    "verify_iss": False,
                },
            )
        except jwt.InvalidSignatureError:
            raise _refuse(
                errors_pb2.REASON_TOKEN_BAD_SIGNATURE, "signature does not verify"
            ) from None
        except jwt.InvalidTokenError:
            raise _refuse(errors_pb2.REASON_TOKEN_MALFORMED, "malformed token") from None
        for name in ("sub", "exp", "iat"):
            if name not in claims:
                raise _refuse(errors_pb2.REASON_TOKEN_CLAIMS_INVALID, f"claim {name} is missing")
        # A delegated token is always bound to its actor's key: with `act` but no `cnf`, anyone
        # who saw it could act as the actor.
        if "act" in claims and "cnf" not in claims:
            raise _refuse(errors_pb2.REASON_TOKEN_CLAIMS_INVALID, "act without cnf")
        return claims

    def _check_time(self, claims: dict[str, Any]) -> None:
        """RFC 7519 §4.1.4 (``exp``) and §4.1.5 (``nbf``); an ``iat`` in the future is refused."""
        now = self._clock()
        try:
            exp, nbf, iat = (float(claims.get(name, 0)) for name in ("exp", "nbf", "iat"))
        except (TypeError, ValueError):
            raise _refuse(
                errors_pb2.REASON_TOKEN_CLAIMS_INVALID, "time claims are malformed"
            ) from None
        if exp <= now - self._leeway:
            raise _refuse(errors_pb2.REASON_TOKEN_EXPIRED, "token has expired")
        if nbf > now + self._leeway or iat > now + self._leeway:
            raise _refuse(errors_pb2.REASON_TOKEN_NOT_YET_VALID, "token is not valid yet")

    def _check_dpop(self, token: str, confirmation: Any, dpop: DPoPContext | None) -> None:
        """RFC 9449 §4.3 and §7.1: a ``dpop+jwt`` signed by the key its ``jwk`` names, whose
        thumbprint is ``cnf.jkt``, for this method and URL, with ``ath`` this token's hash."""
        if dpop is None or not dpop.proof:
            raise _refuse(
                errors_pb2.REASON_TOKEN_BOUND_TO_KEY, "a DPoP-bound token needs its proof"
            )

        def invalid(what: str) -> GatehouseError:
            return _refuse(errors_pb2.REASON_DPOP_INVALID, what)

        jkt = confirmation.get("jkt") if isinstance(confirmation, dict) else None
        if len(dpop.proof) > MAX_TOKEN_LENGTH or not _canonical_compact(dpop.proof):
            raise invalid("proof is not a canonical compact JWS")
        try:
            header = jwt.get_unverified_header(dpop.proof)
            jwk = header.get("jwk")
            if (
                header.get("typ") != "dpop+jwt"
                or header.get("alg") != "EdDSA"
                or not isinstance(jwk, dict)
            ):
                raise invalid("proof header must be typ dpop+jwt, alg EdDSA, with a jwk")
            if (jwk.get("kty"), jwk.get("crv")) != ("OKP", "Ed25519") or not isinstance(
                jwk.get("x"), str
            ):
                raise invalid("proof jwk must be an Ed25519 key")
            key = jwt.PyJWK({"kty": "OKP", "crv": "Ed25519", "x": jwk["x"]}, "EdDSA")
            claims = jwt.decode(
                dpop.proof, key, algorithms=["EdDSA"], options={"verify_iat": False}
            )
        except jwt.InvalidTokenError:
            raise invalid("proof is malformed or its signature does not verify") from None
        except (jwt.PyJWKError, json.JSONDecodeError):
            raise invalid("proof jwk is not a usable key") from None
        if not isinstance(jkt, str) or not hmac.compare_digest(jwk_thumbprint(jwk), jkt):
            raise invalid("proof key is not the key the token is bound to")
        url = dpop.url.split("#", 1)[0].split("?", 1)[0]
        if (
            claims.get("htm") != dpop.method
            or claims.get("htu") != url
            or not hmac.compare_digest(str(claims.get("ath", "")), access_token_hash(token))
            or not claims.get("jti")
        ):
            raise invalid("proof is not for this request and token")
        iat = claims.get("iat")
        if not isinstance(iat, (int, float)) or abs(iat - self._clock()) > self._leeway:
            raise invalid("proof iat is outside the allowed window")
