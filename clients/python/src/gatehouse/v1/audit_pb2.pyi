import datetime

from gatehouse.v1 import errors_pb2 as _errors_pb2
from gatehouse.v1 import gate_pb2 as _gate_pb2
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

class AuditEventType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    AUDIT_EVENT_TYPE_UNSPECIFIED: _ClassVar[AuditEventType]
    AUDIT_EVENT_TYPE_OPERATOR_CREATED: _ClassVar[AuditEventType]
    AUDIT_EVENT_TYPE_AGENT_REGISTERED: _ClassVar[AuditEventType]
    AUDIT_EVENT_TYPE_AGENT_POLICY_UPDATED: _ClassVar[AuditEventType]
    AUDIT_EVENT_TYPE_AGENT_SUSPENDED: _ClassVar[AuditEventType]
    AUDIT_EVENT_TYPE_AGENT_REACTIVATED: _ClassVar[AuditEventType]
    AUDIT_EVENT_TYPE_AGENT_REVOKED: _ClassVar[AuditEventType]
    AUDIT_EVENT_TYPE_AGENT_DELETED: _ClassVar[AuditEventType]
    AUDIT_EVENT_TYPE_AGENT_KEY_ROTATED: _ClassVar[AuditEventType]
    AUDIT_EVENT_TYPE_TOKEN_REVOKED: _ClassVar[AuditEventType]
    AUDIT_EVENT_TYPE_AGENT_KEY_REVOKED: _ClassVar[AuditEventType]
    AUDIT_EVENT_TYPE_OPERATOR_REVOKED: _ClassVar[AuditEventType]
    AUDIT_EVENT_TYPE_SIGNING_KEY_ROTATED: _ClassVar[AuditEventType]
    AUDIT_EVENT_TYPE_CHALLENGE_ISSUED: _ClassVar[AuditEventType]
    AUDIT_EVENT_TYPE_CHALLENGE_FAILED: _ClassVar[AuditEventType]
    AUDIT_EVENT_TYPE_PASS_ISSUED: _ClassVar[AuditEventType]
    AUDIT_EVENT_TYPE_TOKEN_ISSUED: _ClassVar[AuditEventType]
    AUDIT_EVENT_TYPE_VERIFY_DENIED: _ClassVar[AuditEventType]
    AUDIT_EVENT_TYPE_EVENTS_DROPPED: _ClassVar[AuditEventType]
    AUDIT_EVENT_TYPE_OPERATOR_DOMAIN_VERIFIED: _ClassVar[AuditEventType]
    AUDIT_EVENT_TYPE_OPERATOR_KEY_SET: _ClassVar[AuditEventType]
    AUDIT_EVENT_TYPE_APPROVER_INVITED: _ClassVar[AuditEventType]
    AUDIT_EVENT_TYPE_APPROVER_ENROLLED: _ClassVar[AuditEventType]
    AUDIT_EVENT_TYPE_APPROVER_REMOVED: _ClassVar[AuditEventType]
    AUDIT_EVENT_TYPE_GRANT_REQUESTED: _ClassVar[AuditEventType]
    AUDIT_EVENT_TYPE_GRANT_APPROVED: _ClassVar[AuditEventType]
    AUDIT_EVENT_TYPE_GRANT_DENIED: _ClassVar[AuditEventType]
    AUDIT_EVENT_TYPE_GRANT_REVOKED: _ClassVar[AuditEventType]
    AUDIT_EVENT_TYPE_CHECK_DENIED: _ClassVar[AuditEventType]
    AUDIT_EVENT_TYPE_DENIALS_FOLDED: _ClassVar[AuditEventType]
    AUDIT_EVENT_TYPE_AUDIT_PRUNED: _ClassVar[AuditEventType]

class AuditChainProblem(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    AUDIT_CHAIN_PROBLEM_UNSPECIFIED: _ClassVar[AuditChainProblem]
    AUDIT_CHAIN_PROBLEM_SEQUENCE_GAP: _ClassVar[AuditChainProblem]
    AUDIT_CHAIN_PROBLEM_PREV_HASH_MISMATCH: _ClassVar[AuditChainProblem]
    AUDIT_CHAIN_PROBLEM_HASH_MISMATCH: _ClassVar[AuditChainProblem]
    AUDIT_CHAIN_PROBLEM_SIGNATURE_INVALID: _ClassVar[AuditChainProblem]
    AUDIT_CHAIN_PROBLEM_KEY_UNKNOWN: _ClassVar[AuditChainProblem]
    AUDIT_CHAIN_PROBLEM_MALFORMED: _ClassVar[AuditChainProblem]
    AUDIT_CHAIN_PROBLEM_HEAD_MISMATCH: _ClassVar[AuditChainProblem]
    AUDIT_CHAIN_PROBLEM_ANCHOR_MISMATCH: _ClassVar[AuditChainProblem]
    AUDIT_CHAIN_PROBLEM_EVENT_MISMATCH: _ClassVar[AuditChainProblem]
    AUDIT_CHAIN_PROBLEM_UNSIGNED_TAIL: _ClassVar[AuditChainProblem]
AUDIT_EVENT_TYPE_UNSPECIFIED: AuditEventType
AUDIT_EVENT_TYPE_OPERATOR_CREATED: AuditEventType
AUDIT_EVENT_TYPE_AGENT_REGISTERED: AuditEventType
AUDIT_EVENT_TYPE_AGENT_POLICY_UPDATED: AuditEventType
AUDIT_EVENT_TYPE_AGENT_SUSPENDED: AuditEventType
AUDIT_EVENT_TYPE_AGENT_REACTIVATED: AuditEventType
AUDIT_EVENT_TYPE_AGENT_REVOKED: AuditEventType
AUDIT_EVENT_TYPE_AGENT_DELETED: AuditEventType
AUDIT_EVENT_TYPE_AGENT_KEY_ROTATED: AuditEventType
AUDIT_EVENT_TYPE_TOKEN_REVOKED: AuditEventType
AUDIT_EVENT_TYPE_AGENT_KEY_REVOKED: AuditEventType
AUDIT_EVENT_TYPE_OPERATOR_REVOKED: AuditEventType
AUDIT_EVENT_TYPE_SIGNING_KEY_ROTATED: AuditEventType
AUDIT_EVENT_TYPE_CHALLENGE_ISSUED: AuditEventType
AUDIT_EVENT_TYPE_CHALLENGE_FAILED: AuditEventType
AUDIT_EVENT_TYPE_PASS_ISSUED: AuditEventType
AUDIT_EVENT_TYPE_TOKEN_ISSUED: AuditEventType
AUDIT_EVENT_TYPE_VERIFY_DENIED: AuditEventType
AUDIT_EVENT_TYPE_EVENTS_DROPPED: AuditEventType
AUDIT_EVENT_TYPE_OPERATOR_DOMAIN_VERIFIED: AuditEventType
AUDIT_EVENT_TYPE_OPERATOR_KEY_SET: AuditEventType
AUDIT_EVENT_TYPE_APPROVER_INVITED: AuditEventType
AUDIT_EVENT_TYPE_APPROVER_ENROLLED: AuditEventType
AUDIT_EVENT_TYPE_APPROVER_REMOVED: AuditEventType
AUDIT_EVENT_TYPE_GRANT_REQUESTED: AuditEventType
AUDIT_EVENT_TYPE_GRANT_APPROVED: AuditEventType
AUDIT_EVENT_TYPE_GRANT_DENIED: AuditEventType
AUDIT_EVENT_TYPE_GRANT_REVOKED: AuditEventType
AUDIT_EVENT_TYPE_CHECK_DENIED: AuditEventType
AUDIT_EVENT_TYPE_DENIALS_FOLDED: AuditEventType
AUDIT_EVENT_TYPE_AUDIT_PRUNED: AuditEventType
AUDIT_CHAIN_PROBLEM_UNSPECIFIED: AuditChainProblem
AUDIT_CHAIN_PROBLEM_SEQUENCE_GAP: AuditChainProblem
AUDIT_CHAIN_PROBLEM_PREV_HASH_MISMATCH: AuditChainProblem
AUDIT_CHAIN_PROBLEM_HASH_MISMATCH: AuditChainProblem
AUDIT_CHAIN_PROBLEM_SIGNATURE_INVALID: AuditChainProblem
AUDIT_CHAIN_PROBLEM_KEY_UNKNOWN: AuditChainProblem
AUDIT_CHAIN_PROBLEM_MALFORMED: AuditChainProblem
AUDIT_CHAIN_PROBLEM_HEAD_MISMATCH: AuditChainProblem
AUDIT_CHAIN_PROBLEM_ANCHOR_MISMATCH: AuditChainProblem
AUDIT_CHAIN_PROBLEM_EVENT_MISMATCH: AuditChainProblem
AUDIT_CHAIN_PROBLEM_UNSIGNED_TAIL: AuditChainProblem

class DenialAggregate(_message.Message):
    __slots__ = ("denied", "count", "window_start", "window_end", "overflow")
    DENIED_FIELD_NUMBER: _ClassVar[int]
    COUNT_FIELD_NUMBER: _ClassVar[int]
    WINDOW_START_FIELD_NUMBER: _ClassVar[int]
    WINDOW_END_FIELD_NUMBER: _ClassVar[int]
    OVERFLOW_FIELD_NUMBER: _ClassVar[int]
    denied: AuditEventType
    count: int
    window_start: _timestamp_pb2.Timestamp
    window_end: _timestamp_pb2.Timestamp
    overflow: bool
    def __init__(self, denied: _Optional[_Union[AuditEventType, str]] = ..., count: _Optional[int] = ..., window_start: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., window_end: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., overflow: _Optional[bool] = ...) -> None: ...

class AuditEvent(_message.Message):
    __slots__ = ("sequence", "prev_hash", "time", "type", "actor_role", "actor", "actor_fingerprint", "subject_did", "operator_domain", "reason", "token_id", "scopes", "audiences", "key_id", "challenge_kind", "comment", "dropped_count", "audit_key_id", "grant_id", "denials", "pruned_through")
    SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    PREV_HASH_FIELD_NUMBER: _ClassVar[int]
    TIME_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    ACTOR_ROLE_FIELD_NUMBER: _ClassVar[int]
    ACTOR_FIELD_NUMBER: _ClassVar[int]
    ACTOR_FINGERPRINT_FIELD_NUMBER: _ClassVar[int]
    SUBJECT_DID_FIELD_NUMBER: _ClassVar[int]
    OPERATOR_DOMAIN_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    TOKEN_ID_FIELD_NUMBER: _ClassVar[int]
    SCOPES_FIELD_NUMBER: _ClassVar[int]
    AUDIENCES_FIELD_NUMBER: _ClassVar[int]
    KEY_ID_FIELD_NUMBER: _ClassVar[int]
    CHALLENGE_KIND_FIELD_NUMBER: _ClassVar[int]
    COMMENT_FIELD_NUMBER: _ClassVar[int]
    DROPPED_COUNT_FIELD_NUMBER: _ClassVar[int]
    AUDIT_KEY_ID_FIELD_NUMBER: _ClassVar[int]
    GRANT_ID_FIELD_NUMBER: _ClassVar[int]
    DENIALS_FIELD_NUMBER: _ClassVar[int]
    PRUNED_THROUGH_FIELD_NUMBER: _ClassVar[int]
    sequence: int
    prev_hash: bytes
    time: _timestamp_pb2.Timestamp
    type: AuditEventType
    actor_role: str
    actor: str
    actor_fingerprint: str
    subject_did: str
    operator_domain: str
    reason: _errors_pb2.Reason
    token_id: str
    scopes: _containers.RepeatedScalarFieldContainer[str]
    audiences: _containers.RepeatedScalarFieldContainer[str]
    key_id: str
    challenge_kind: _gate_pb2.ChallengeKind
    comment: str
    dropped_count: int
    audit_key_id: str
    grant_id: str
    denials: DenialAggregate
    pruned_through: AuditAnchor
    def __init__(self, sequence: _Optional[int] = ..., prev_hash: _Optional[bytes] = ..., time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., type: _Optional[_Union[AuditEventType, str]] = ..., actor_role: _Optional[str] = ..., actor: _Optional[str] = ..., actor_fingerprint: _Optional[str] = ..., subject_did: _Optional[str] = ..., operator_domain: _Optional[str] = ..., reason: _Optional[_Union[_errors_pb2.Reason, str]] = ..., token_id: _Optional[str] = ..., scopes: _Optional[_Iterable[str]] = ..., audiences: _Optional[_Iterable[str]] = ..., key_id: _Optional[str] = ..., challenge_kind: _Optional[_Union[_gate_pb2.ChallengeKind, str]] = ..., comment: _Optional[str] = ..., dropped_count: _Optional[int] = ..., audit_key_id: _Optional[str] = ..., grant_id: _Optional[str] = ..., denials: _Optional[_Union[DenialAggregate, _Mapping]] = ..., pruned_through: _Optional[_Union[AuditAnchor, _Mapping]] = ...) -> None: ...

class AuditEntry(_message.Message):
    __slots__ = ("event", "hash", "signature", "event_bytes")
    EVENT_FIELD_NUMBER: _ClassVar[int]
    HASH_FIELD_NUMBER: _ClassVar[int]
    SIGNATURE_FIELD_NUMBER: _ClassVar[int]
    EVENT_BYTES_FIELD_NUMBER: _ClassVar[int]
    event: AuditEvent
    hash: bytes
    signature: bytes
    event_bytes: bytes
    def __init__(self, event: _Optional[_Union[AuditEvent, _Mapping]] = ..., hash: _Optional[bytes] = ..., signature: _Optional[bytes] = ..., event_bytes: _Optional[bytes] = ...) -> None: ...

class GetAuditKeysRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class AuditPublicKey(_message.Message):
    __slots__ = ("key_id", "public_key")
    KEY_ID_FIELD_NUMBER: _ClassVar[int]
    PUBLIC_KEY_FIELD_NUMBER: _ClassVar[int]
    key_id: str
    public_key: bytes
    def __init__(self, key_id: _Optional[str] = ..., public_key: _Optional[bytes] = ...) -> None: ...

class GetAuditKeysResponse(_message.Message):
    __slots__ = ("keys",)
    KEYS_FIELD_NUMBER: _ClassVar[int]
    keys: _containers.RepeatedCompositeFieldContainer[AuditPublicKey]
    def __init__(self, keys: _Optional[_Iterable[_Union[AuditPublicKey, _Mapping]]] = ...) -> None: ...

class ListAuditEventsRequest(_message.Message):
    __slots__ = ("page_size", "after_sequence", "types", "subject_did", "operator_domain", "start_time", "end_time")
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    AFTER_SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    TYPES_FIELD_NUMBER: _ClassVar[int]
    SUBJECT_DID_FIELD_NUMBER: _ClassVar[int]
    OPERATOR_DOMAIN_FIELD_NUMBER: _ClassVar[int]
    START_TIME_FIELD_NUMBER: _ClassVar[int]
    END_TIME_FIELD_NUMBER: _ClassVar[int]
    page_size: int
    after_sequence: int
    types: _containers.RepeatedScalarFieldContainer[AuditEventType]
    subject_did: str
    operator_domain: str
    start_time: _timestamp_pb2.Timestamp
    end_time: _timestamp_pb2.Timestamp
    def __init__(self, page_size: _Optional[int] = ..., after_sequence: _Optional[int] = ..., types: _Optional[_Iterable[_Union[AuditEventType, str]]] = ..., subject_did: _Optional[str] = ..., operator_domain: _Optional[str] = ..., start_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., end_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class ListAuditEventsResponse(_message.Message):
    __slots__ = ("entries", "next_after_sequence", "base")
    ENTRIES_FIELD_NUMBER: _ClassVar[int]
    NEXT_AFTER_SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    BASE_FIELD_NUMBER: _ClassVar[int]
    entries: _containers.RepeatedCompositeFieldContainer[AuditEntry]
    next_after_sequence: int
    base: AuditAnchor
    def __init__(self, entries: _Optional[_Iterable[_Union[AuditEntry, _Mapping]]] = ..., next_after_sequence: _Optional[int] = ..., base: _Optional[_Union[AuditAnchor, _Mapping]] = ...) -> None: ...

class VerifyAuditChainRequest(_message.Message):
    __slots__ = ("anchors",)
    ANCHORS_FIELD_NUMBER: _ClassVar[int]
    anchors: _containers.RepeatedCompositeFieldContainer[AuditAnchor]
    def __init__(self, anchors: _Optional[_Iterable[_Union[AuditAnchor, _Mapping]]] = ...) -> None: ...

class AuditAnchor(_message.Message):
    __slots__ = ("sequence", "hash")
    SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    HASH_FIELD_NUMBER: _ClassVar[int]
    sequence: int
    hash: bytes
    def __init__(self, sequence: _Optional[int] = ..., hash: _Optional[bytes] = ...) -> None: ...

class VerifyAuditChainResponse(_message.Message):
    __slots__ = ("ok", "entries_checked", "broken_sequence", "problem", "head_hash", "base")
    OK_FIELD_NUMBER: _ClassVar[int]
    ENTRIES_CHECKED_FIELD_NUMBER: _ClassVar[int]
    BROKEN_SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    PROBLEM_FIELD_NUMBER: _ClassVar[int]
    HEAD_HASH_FIELD_NUMBER: _ClassVar[int]
    BASE_FIELD_NUMBER: _ClassVar[int]
    ok: bool
    entries_checked: int
    broken_sequence: int
    problem: AuditChainProblem
    head_hash: bytes
    base: AuditAnchor
    def __init__(self, ok: _Optional[bool] = ..., entries_checked: _Optional[int] = ..., broken_sequence: _Optional[int] = ..., problem: _Optional[_Union[AuditChainProblem, str]] = ..., head_hash: _Optional[bytes] = ..., base: _Optional[_Union[AuditAnchor, _Mapping]] = ...) -> None: ...

class PruneAuditLogRequest(_message.Message):
    __slots__ = ("through_sequence", "through_hash")
    THROUGH_SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    THROUGH_HASH_FIELD_NUMBER: _ClassVar[int]
    through_sequence: int
    through_hash: bytes
    def __init__(self, through_sequence: _Optional[int] = ..., through_hash: _Optional[bytes] = ...) -> None: ...

class PruneAuditLogResponse(_message.Message):
    __slots__ = ("base",)
    BASE_FIELD_NUMBER: _ClassVar[int]
    base: AuditAnchor
    def __init__(self, base: _Optional[_Union[AuditAnchor, _Mapping]] = ...) -> None: ...
