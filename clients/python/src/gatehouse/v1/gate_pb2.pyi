import datetime

from gatehouse.v1 import validate_pb2 as _validate_pb2
from google.api import annotations_pb2 as _annotations_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class ChallengeKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    CHALLENGE_KIND_UNSPECIFIED: _ClassVar[ChallengeKind]
    CHALLENGE_KIND_SIGNATURE: _ClassVar[ChallengeKind]
    CHALLENGE_KIND_REASONING: _ClassVar[ChallengeKind]
    CHALLENGE_KIND_ITERATED_HASH: _ClassVar[ChallengeKind]
    CHALLENGE_KIND_HASHCASH: _ClassVar[ChallengeKind]
    CHALLENGE_KIND_DID_PROOF: _ClassVar[ChallengeKind]
CHALLENGE_KIND_UNSPECIFIED: ChallengeKind
CHALLENGE_KIND_SIGNATURE: ChallengeKind
CHALLENGE_KIND_REASONING: ChallengeKind
CHALLENGE_KIND_ITERATED_HASH: ChallengeKind
CHALLENGE_KIND_HASHCASH: ChallengeKind
CHALLENGE_KIND_DID_PROOF: ChallengeKind

class ChallengeRequest(_message.Message):
    __slots__ = ("did", "kind", "scopes", "audience", "reasoning_family", "admission")
    DID_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    SCOPES_FIELD_NUMBER: _ClassVar[int]
    AUDIENCE_FIELD_NUMBER: _ClassVar[int]
    REASONING_FAMILY_FIELD_NUMBER: _ClassVar[int]
    ADMISSION_FIELD_NUMBER: _ClassVar[int]
    did: str
    kind: ChallengeKind
    scopes: _containers.RepeatedScalarFieldContainer[str]
    audience: str
    reasoning_family: str
    admission: HashcashAdmission
    def __init__(self, did: _Optional[str] = ..., kind: _Optional[_Union[ChallengeKind, str]] = ..., scopes: _Optional[_Iterable[str]] = ..., audience: _Optional[str] = ..., reasoning_family: _Optional[str] = ..., admission: _Optional[_Union[HashcashAdmission, _Mapping]] = ...) -> None: ...

class ChallengeResponse(_message.Message):
    __slots__ = ("challenge_id", "kind", "expires_at", "signature", "reasoning", "iterated_hash", "hashcash", "did_proof", "requirements")
    CHALLENGE_ID_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    EXPIRES_AT_FIELD_NUMBER: _ClassVar[int]
    SIGNATURE_FIELD_NUMBER: _ClassVar[int]
    REASONING_FIELD_NUMBER: _ClassVar[int]
    ITERATED_HASH_FIELD_NUMBER: _ClassVar[int]
    HASHCASH_FIELD_NUMBER: _ClassVar[int]
    DID_PROOF_FIELD_NUMBER: _ClassVar[int]
    REQUIREMENTS_FIELD_NUMBER: _ClassVar[int]
    challenge_id: str
    kind: ChallengeKind
    expires_at: _timestamp_pb2.Timestamp
    signature: SignatureChallenge
    reasoning: ReasoningChallenge
    iterated_hash: IteratedHashChallenge
    hashcash: HashcashChallenge
    did_proof: DidProofChallenge
    requirements: SubmitRequirements
    def __init__(self, challenge_id: _Optional[str] = ..., kind: _Optional[_Union[ChallengeKind, str]] = ..., expires_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., signature: _Optional[_Union[SignatureChallenge, _Mapping]] = ..., reasoning: _Optional[_Union[ReasoningChallenge, _Mapping]] = ..., iterated_hash: _Optional[_Union[IteratedHashChallenge, _Mapping]] = ..., hashcash: _Optional[_Union[HashcashChallenge, _Mapping]] = ..., did_proof: _Optional[_Union[DidProofChallenge, _Mapping]] = ..., requirements: _Optional[_Union[SubmitRequirements, _Mapping]] = ...) -> None: ...

class SubmitRequirements(_message.Message):
    __slots__ = ("autonomy_attestation", "platform_attestation")
    AUTONOMY_ATTESTATION_FIELD_NUMBER: _ClassVar[int]
    PLATFORM_ATTESTATION_FIELD_NUMBER: _ClassVar[int]
    autonomy_attestation: bool
    platform_attestation: bool
    def __init__(self, autonomy_attestation: _Optional[bool] = ..., platform_attestation: _Optional[bool] = ...) -> None: ...

class HashcashAdmission(_message.Message):
    __slots__ = ("challenge_id", "answer")
    CHALLENGE_ID_FIELD_NUMBER: _ClassVar[int]
    ANSWER_FIELD_NUMBER: _ClassVar[int]
    challenge_id: str
    answer: HashcashAnswer
    def __init__(self, challenge_id: _Optional[str] = ..., answer: _Optional[_Union[HashcashAnswer, _Mapping]] = ...) -> None: ...

class ReasoningChallenge(_message.Message):
    __slots__ = ("family", "prompt", "answer_format", "difficulty")
    FAMILY_FIELD_NUMBER: _ClassVar[int]
    PROMPT_FIELD_NUMBER: _ClassVar[int]
    ANSWER_FORMAT_FIELD_NUMBER: _ClassVar[int]
    DIFFICULTY_FIELD_NUMBER: _ClassVar[int]
    family: str
    prompt: str
    answer_format: str
    difficulty: int
    def __init__(self, family: _Optional[str] = ..., prompt: _Optional[str] = ..., answer_format: _Optional[str] = ..., difficulty: _Optional[int] = ...) -> None: ...

class IteratedHashChallenge(_message.Message):
    __slots__ = ("seed", "iterations")
    SEED_FIELD_NUMBER: _ClassVar[int]
    ITERATIONS_FIELD_NUMBER: _ClassVar[int]
    seed: str
    iterations: int
    def __init__(self, seed: _Optional[str] = ..., iterations: _Optional[int] = ...) -> None: ...

class HashcashChallenge(_message.Message):
    __slots__ = ("prefix", "difficulty_bits")
    PREFIX_FIELD_NUMBER: _ClassVar[int]
    DIFFICULTY_BITS_FIELD_NUMBER: _ClassVar[int]
    prefix: str
    difficulty_bits: int
    def __init__(self, prefix: _Optional[str] = ..., difficulty_bits: _Optional[int] = ...) -> None: ...

class DidProofChallenge(_message.Message):
    __slots__ = ("nonce",)
    NONCE_FIELD_NUMBER: _ClassVar[int]
    nonce: str
    def __init__(self, nonce: _Optional[str] = ...) -> None: ...

class SignatureChallenge(_message.Message):
    __slots__ = ("signing_input", "format", "issuer", "caller")
    SIGNING_INPUT_FIELD_NUMBER: _ClassVar[int]
    FORMAT_FIELD_NUMBER: _ClassVar[int]
    ISSUER_FIELD_NUMBER: _ClassVar[int]
    CALLER_FIELD_NUMBER: _ClassVar[int]
    signing_input: bytes
    format: str
    issuer: str
    caller: str
    def __init__(self, signing_input: _Optional[bytes] = ..., format: _Optional[str] = ..., issuer: _Optional[str] = ..., caller: _Optional[str] = ...) -> None: ...

class SubmitRequest(_message.Message):
    __slots__ = ("challenge_id", "signature", "reasoning", "iterated_hash", "hashcash", "runtime_ms", "autonomy_attestation", "platform_attestation")
    CHALLENGE_ID_FIELD_NUMBER: _ClassVar[int]
    SIGNATURE_FIELD_NUMBER: _ClassVar[int]
    REASONING_FIELD_NUMBER: _ClassVar[int]
    ITERATED_HASH_FIELD_NUMBER: _ClassVar[int]
    HASHCASH_FIELD_NUMBER: _ClassVar[int]
    RUNTIME_MS_FIELD_NUMBER: _ClassVar[int]
    AUTONOMY_ATTESTATION_FIELD_NUMBER: _ClassVar[int]
    PLATFORM_ATTESTATION_FIELD_NUMBER: _ClassVar[int]
    challenge_id: str
    signature: SignatureAnswer
    reasoning: ReasoningAnswer
    iterated_hash: IteratedHashAnswer
    hashcash: HashcashAnswer
    runtime_ms: int
    autonomy_attestation: str
    platform_attestation: str
    def __init__(self, challenge_id: _Optional[str] = ..., signature: _Optional[_Union[SignatureAnswer, _Mapping]] = ..., reasoning: _Optional[_Union[ReasoningAnswer, _Mapping]] = ..., iterated_hash: _Optional[_Union[IteratedHashAnswer, _Mapping]] = ..., hashcash: _Optional[_Union[HashcashAnswer, _Mapping]] = ..., runtime_ms: _Optional[int] = ..., autonomy_attestation: _Optional[str] = ..., platform_attestation: _Optional[str] = ...) -> None: ...

class SignatureAnswer(_message.Message):
    __slots__ = ("signature",)
    SIGNATURE_FIELD_NUMBER: _ClassVar[int]
    signature: bytes
    def __init__(self, signature: _Optional[bytes] = ...) -> None: ...

class ReasoningAnswer(_message.Message):
    __slots__ = ("answer",)
    ANSWER_FIELD_NUMBER: _ClassVar[int]
    answer: str
    def __init__(self, answer: _Optional[str] = ...) -> None: ...

class IteratedHashAnswer(_message.Message):
    __slots__ = ("digest",)
    DIGEST_FIELD_NUMBER: _ClassVar[int]
    digest: str
    def __init__(self, digest: _Optional[str] = ...) -> None: ...

class HashcashAnswer(_message.Message):
    __slots__ = ("nonce",)
    NONCE_FIELD_NUMBER: _ClassVar[int]
    nonce: str
    def __init__(self, nonce: _Optional[str] = ...) -> None: ...

class SubmitResponse(_message.Message):
    __slots__ = ("pass_token", "expires_at")
    PASS_TOKEN_FIELD_NUMBER: _ClassVar[int]
    EXPIRES_AT_FIELD_NUMBER: _ClassVar[int]
    pass_token: str
    expires_at: _timestamp_pb2.Timestamp
    def __init__(self, pass_token: _Optional[str] = ..., expires_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class TokenRequest(_message.Message):
    __slots__ = ("pass_token", "assertion", "exchange", "did_proof", "dpop_proof")
    PASS_TOKEN_FIELD_NUMBER: _ClassVar[int]
    ASSERTION_FIELD_NUMBER: _ClassVar[int]
    EXCHANGE_FIELD_NUMBER: _ClassVar[int]
    DID_PROOF_FIELD_NUMBER: _ClassVar[int]
    DPOP_PROOF_FIELD_NUMBER: _ClassVar[int]
    pass_token: str
    assertion: JwtBearerGrant
    exchange: TokenExchangeGrant
    did_proof: DidProofGrant
    dpop_proof: str
    def __init__(self, pass_token: _Optional[str] = ..., assertion: _Optional[_Union[JwtBearerGrant, _Mapping]] = ..., exchange: _Optional[_Union[TokenExchangeGrant, _Mapping]] = ..., did_proof: _Optional[_Union[DidProofGrant, _Mapping]] = ..., dpop_proof: _Optional[str] = ...) -> None: ...

class JwtBearerGrant(_message.Message):
    __slots__ = ("assertion", "scopes", "audience")
    ASSERTION_FIELD_NUMBER: _ClassVar[int]
    SCOPES_FIELD_NUMBER: _ClassVar[int]
    AUDIENCE_FIELD_NUMBER: _ClassVar[int]
    assertion: str
    scopes: _containers.RepeatedScalarFieldContainer[str]
    audience: str
    def __init__(self, assertion: _Optional[str] = ..., scopes: _Optional[_Iterable[str]] = ..., audience: _Optional[str] = ...) -> None: ...

class DidProofGrant(_message.Message):
    __slots__ = ("challenge_id", "signature", "scopes", "audience", "ttl_seconds")
    CHALLENGE_ID_FIELD_NUMBER: _ClassVar[int]
    SIGNATURE_FIELD_NUMBER: _ClassVar[int]
    SCOPES_FIELD_NUMBER: _ClassVar[int]
    AUDIENCE_FIELD_NUMBER: _ClassVar[int]
    TTL_SECONDS_FIELD_NUMBER: _ClassVar[int]
    challenge_id: str
    signature: bytes
    scopes: _containers.RepeatedScalarFieldContainer[str]
    audience: str
    ttl_seconds: int
    def __init__(self, challenge_id: _Optional[str] = ..., signature: _Optional[bytes] = ..., scopes: _Optional[_Iterable[str]] = ..., audience: _Optional[str] = ..., ttl_seconds: _Optional[int] = ...) -> None: ...

class TokenExchangeGrant(_message.Message):
    __slots__ = ("subject_token", "delegate_did", "scopes", "audience", "ttl_seconds")
    SUBJECT_TOKEN_FIELD_NUMBER: _ClassVar[int]
    DELEGATE_DID_FIELD_NUMBER: _ClassVar[int]
    SCOPES_FIELD_NUMBER: _ClassVar[int]
    AUDIENCE_FIELD_NUMBER: _ClassVar[int]
    TTL_SECONDS_FIELD_NUMBER: _ClassVar[int]
    subject_token: str
    delegate_did: str
    scopes: _containers.RepeatedScalarFieldContainer[str]
    audience: str
    ttl_seconds: int
    def __init__(self, subject_token: _Optional[str] = ..., delegate_did: _Optional[str] = ..., scopes: _Optional[_Iterable[str]] = ..., audience: _Optional[str] = ..., ttl_seconds: _Optional[int] = ...) -> None: ...

class TokenResponse(_message.Message):
    __slots__ = ("access_token", "token_type", "expires_at", "scopes", "audience", "dpop_nonce")
    ACCESS_TOKEN_FIELD_NUMBER: _ClassVar[int]
    TOKEN_TYPE_FIELD_NUMBER: _ClassVar[int]
    EXPIRES_AT_FIELD_NUMBER: _ClassVar[int]
    SCOPES_FIELD_NUMBER: _ClassVar[int]
    AUDIENCE_FIELD_NUMBER: _ClassVar[int]
    DPOP_NONCE_FIELD_NUMBER: _ClassVar[int]
    access_token: str
    token_type: str
    expires_at: _timestamp_pb2.Timestamp
    scopes: _containers.RepeatedScalarFieldContainer[str]
    audience: str
    dpop_nonce: str
    def __init__(self, access_token: _Optional[str] = ..., token_type: _Optional[str] = ..., expires_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., scopes: _Optional[_Iterable[str]] = ..., audience: _Optional[str] = ..., dpop_nonce: _Optional[str] = ...) -> None: ...
