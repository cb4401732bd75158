import datetime

from gatehouse.v1 import errors_pb2 as _errors_pb2
from gatehouse.v1 import resources_pb2 as _resources_pb2
from gatehouse.v1 import validate_pb2 as _validate_pb2
from google.api import annotations_pb2 as _annotations_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class VerifyRequest(_message.Message):
    __slots__ = ("token", "audience", "required_scopes", "dpop_proof", "http_method", "http_url", "amount")
    TOKEN_FIELD_NUMBER: _ClassVar[int]
    AUDIENCE_FIELD_NUMBER: _ClassVar[int]
    REQUIRED_SCOPES_FIELD_NUMBER: _ClassVar[int]
    DPOP_PROOF_FIELD_NUMBER: _ClassVar[int]
    HTTP_METHOD_FIELD_NUMBER: _ClassVar[int]
    HTTP_URL_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    token: str
    audience: str
    required_scopes: _containers.RepeatedScalarFieldContainer[str]
    dpop_proof: str
    http_method: str
    http_url: str
    amount: _resources_pb2.Money
    def __init__(self, token: _Optional[str] = ..., audience: _Optional[str] = ..., required_scopes: _Optional[_Iterable[str]] = ..., dpop_proof: _Optional[str] = ..., http_method: _Optional[str] = ..., http_url: _Optional[str] = ..., amount: _Optional[_Union[_resources_pb2.Money, _Mapping]] = ...) -> None: ...

class VerifyResponse(_message.Message):
    __slots__ = ("allowed", "reason", "agent_did", "operator_domain", "scopes", "expires_at", "cache_ttl_seconds", "token_id", "dpop_nonce", "actor_did")
    ALLOWED_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    AGENT_DID_FIELD_NUMBER: _ClassVar[int]
    OPERATOR_DOMAIN_FIELD_NUMBER: _ClassVar[int]
    SCOPES_FIELD_NUMBER: _ClassVar[int]
    EXPIRES_AT_FIELD_NUMBER: _ClassVar[int]
    CACHE_TTL_SECONDS_FIELD_NUMBER: _ClassVar[int]
    TOKEN_ID_FIELD_NUMBER: _ClassVar[int]
    DPOP_NONCE_FIELD_NUMBER: _ClassVar[int]
    ACTOR_DID_FIELD_NUMBER: _ClassVar[int]
    allowed: bool
    reason: _errors_pb2.Reason
    agent_did: str
    operator_domain: str
    scopes: _containers.RepeatedScalarFieldContainer[str]
    expires_at: _timestamp_pb2.Timestamp
    cache_ttl_seconds: int
    token_id: str
    dpop_nonce: str
    actor_did: str
    def __init__(self, allowed: _Optional[bool] = ..., reason: _Optional[_Union[_errors_pb2.Reason, str]] = ..., agent_did: _Optional[str] = ..., operator_domain: _Optional[str] = ..., scopes: _Optional[_Iterable[str]] = ..., expires_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., cache_ttl_seconds: _Optional[int] = ..., token_id: _Optional[str] = ..., dpop_nonce: _Optional[str] = ..., actor_did: _Optional[str] = ...) -> None: ...

class GetJwksRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class GetJwksResponse(_message.Message):
    __slots__ = ("keys", "cache_max_age_seconds")
    KEYS_FIELD_NUMBER: _ClassVar[int]
    CACHE_MAX_AGE_SECONDS_FIELD_NUMBER: _ClassVar[int]
    keys: _containers.RepeatedCompositeFieldContainer[_resources_pb2.Jwk]
    cache_max_age_seconds: int
    def __init__(self, keys: _Optional[_Iterable[_Union[_resources_pb2.Jwk, _Mapping]]] = ..., cache_max_age_seconds: _Optional[int] = ...) -> None: ...

class GetIssuerMetadataRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class GetIssuerMetadataResponse(_message.Message):
    __slots__ = ("issuer", "jwks_uri", "token_endpoint", "token_signing_alg_values_supported", "grant_types_supported", "dpop_signing_alg_values_supported", "cache_max_age_seconds")
    ISSUER_FIELD_NUMBER: _ClassVar[int]
    JWKS_URI_FIELD_NUMBER: _ClassVar[int]
    TOKEN_ENDPOINT_FIELD_NUMBER: _ClassVar[int]
    TOKEN_SIGNING_ALG_VALUES_SUPPORTED_FIELD_NUMBER: _ClassVar[int]
    GRANT_TYPES_SUPPORTED_FIELD_NUMBER: _ClassVar[int]
    DPOP_SIGNING_ALG_VALUES_SUPPORTED_FIELD_NUMBER: _ClassVar[int]
    CACHE_MAX_AGE_SECONDS_FIELD_NUMBER: _ClassVar[int]
    issuer: str
    jwks_uri: str
    token_endpoint: str
    token_signing_alg_values_supported: _containers.RepeatedScalarFieldContainer[str]
    grant_types_supported: _containers.RepeatedScalarFieldContainer[str]
    dpop_signing_alg_values_supported: _containers.RepeatedScalarFieldContainer[str]
    cache_max_age_seconds: int
    def __init__(self, issuer: _Optional[str] = ..., jwks_uri: _Optional[str] = ..., token_endpoint: _Optional[str] = ..., token_signing_alg_values_supported: _Optional[_Iterable[str]] = ..., grant_types_supported: _Optional[_Iterable[str]] = ..., dpop_signing_alg_values_supported: _Optional[_Iterable[str]] = ..., cache_max_age_seconds: _Optional[int] = ...) -> None: ...
