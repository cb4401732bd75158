"""Gatehouse client: agent login, DPoP proofs, offline token verification, typed errors.

The generated stubs are in :mod:`gatehouse.v1` (``gate_pb2``, ``gate_pb2_grpc``, …); this
package adds:

- :class:`AgentKey`: an agent's Ed25519 key, its DID and proof of possession.
- :class:`Agent`: login by signature challenge (Challenge → Submit → Token), optionally
  DPoP-bound, with a token cache.
- :func:`dpop_proof`: a DPoP proof for one request (RFC 9449 §4.2).
- :class:`Verifier` and :class:`KeySet`: offline verification against the issuer's JWK Set.
- :class:`GatehouseError`: a refusal with the ``Reason`` from ``gatehouse.v1.ErrorDetail``.
"""

from .agent import Agent, SigningInputMismatchError, Token
from .channel import secure_channel
from .dpop import dpop_proof
from .errors import GatehouseError
from .keys import AgentKey, jwk_thumbprint
from .verifier import DPoPContext, KeySet, Verifier

__all__ = [
    "Agent",
    "AgentKey",
    "DPoPContext",
    "GatehouseError",
    "KeySet",
    "SigningInputMismatchError",
    "Token",
    "Verifier",
    "dpop_proof",
    "jwk_thumbprint",
    "secure_channel",
]
