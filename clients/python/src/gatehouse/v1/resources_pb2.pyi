import datetime

from gatehouse.v1 import validate_pb2 as _validate_pb2
from google.protobuf import duration_pb2 as _duration_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class OperatorStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    OPERATOR_STATUS_UNSPECIFIED: _ClassVar[OperatorStatus]
    OPERATOR_STATUS_ACTIVE: _ClassVar[OperatorStatus]
    OPERATOR_STATUS_SUSPENDED: _ClassVar[OperatorStatus]
    OPERATOR_STATUS_REVOKED: _ClassVar[OperatorStatus]

class DomainVerificationMethod(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    DOMAIN_VERIFICATION_METHOD_UNSPECIFIED: _ClassVar[DomainVerificationMethod]
    DOMAIN_VERIFICATION_METHOD_DNS_TXT: _ClassVar[DomainVerificationMethod]
    DOMAIN_VERIFICATION_METHOD_HTTPS_WELL_KNOWN: _ClassVar[DomainVerificationMethod]
    DOMAIN_VERIFICATION_METHOD_ADMIN_ATTESTED: _ClassVar[DomainVerificationMethod]

class DomainVerificationState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    DOMAIN_VERIFICATION_STATE_UNSPECIFIED: _ClassVar[DomainVerificationState]
    DOMAIN_VERIFICATION_STATE_PENDING: _ClassVar[DomainVerificationState]
    DOMAIN_VERIFICATION_STATE_VERIFIED: _ClassVar[DomainVerificationState]
    DOMAIN_VERIFICATION_STATE_EXPIRED: _ClassVar[DomainVerificationState]

class AgentStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    AGENT_STATUS_UNSPECIFIED: _ClassVar[AgentStatus]
    AGENT_STATUS_ACTIVE: _ClassVar[AgentStatus]
    AGENT_STATUS_SUSPENDED: _ClassVar[AgentStatus]
    AGENT_STATUS_REVOKED: _ClassVar[AgentStatus]
    AGENT_STATUS_DELETED: _ClassVar[AgentStatus]

class CapabilityAction(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    CAPABILITY_ACTION_UNSPECIFIED: _ClassVar[CapabilityAction]
    CAPABILITY_ACTION_READ: _ClassVar[CapabilityAction]
    CAPABILITY_ACTION_WRITE: _ClassVar[CapabilityAction]
    CAPABILITY_ACTION_TRANSACT: _ClassVar[CapabilityAction]
    CAPABILITY_ACTION_DELETE: _ClassVar[CapabilityAction]
    CAPABILITY_ACTION_CUSTOM: _ClassVar[CapabilityAction]

class GrantState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    GRANT_STATE_UNSPECIFIED: _ClassVar[GrantState]
    GRANT_STATE_PENDING: _ClassVar[GrantState]
    GRANT_STATE_APPROVED: _ClassVar[GrantState]
    GRANT_STATE_DENIED: _ClassVar[GrantState]
    GRANT_STATE_EXPIRED: _ClassVar[GrantState]
    GRANT_STATE_REVOKED: _ClassVar[GrantState]

class Weekday(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    WEEKDAY_UNSPECIFIED: _ClassVar[Weekday]
    WEEKDAY_MONDAY: _ClassVar[Weekday]
    WEEKDAY_TUESDAY: _ClassVar[Weekday]
    WEEKDAY_WEDNESDAY: _ClassVar[Weekday]
    WEEKDAY_THURSDAY: _ClassVar[Weekday]
    WEEKDAY_FRIDAY: _ClassVar[Weekday]
    WEEKDAY_SATURDAY: _ClassVar[Weekday]
    WEEKDAY_SUNDAY: _ClassVar[Weekday]
OPERATOR_STATUS_UNSPECIFIED: OperatorStatus
OPERATOR_STATUS_ACTIVE: OperatorStatus
OPERATOR_STATUS_SUSPENDED: OperatorStatus
OPERATOR_STATUS_REVOKED: OperatorStatus
DOMAIN_VERIFICATION_METHOD_UNSPECIFIED: DomainVerificationMethod
DOMAIN_VERIFICATION_METHOD_DNS_TXT: DomainVerificationMethod
DOMAIN_VERIFICATION_METHOD_HTTPS_WELL_KNOWN: DomainVerificationMethod
DOMAIN_VERIFICATION_METHOD_ADMIN_ATTESTED: DomainVerificationMethod
DOMAIN_VERIFICATION_STATE_UNSPECIFIED: DomainVerificationState
DOMAIN_VERIFICATION_STATE_PENDING: DomainVerificationState
DOMAIN_VERIFICATION_STATE_VERIFIED: DomainVerificationState
DOMAIN_VERIFICATION_STATE_EXPIRED: DomainVerificationState
AGENT_STATUS_UNSPECIFIED: AgentStatus
AGENT_STATUS_ACTIVE: AgentStatus
AGENT_STATUS_SUSPENDED: AgentStatus
AGENT_STATUS_REVOKED: AgentStatus
AGENT_STATUS_DELETED: AgentStatus
CAPABILITY_ACTION_UNSPECIFIED: CapabilityAction
CAPABILITY_ACTION_READ: CapabilityAction
CAPABILITY_ACTION_WRITE: CapabilityAction
CAPABILITY_ACTION_TRANSACT: CapabilityAction
CAPABILITY_ACTION_DELETE: CapabilityAction
CAPABILITY_ACTION_CUSTOM: CapabilityAction
GRANT_STATE_UNSPECIFIED: GrantState
GRANT_STATE_PENDING: GrantState
GRANT_STATE_APPROVED: GrantState
GRANT_STATE_DENIED: GrantState
GRANT_STATE_EXPIRED: GrantState
GRANT_STATE_REVOKED: GrantState
WEEKDAY_UNSPECIFIED: Weekday
WEEKDAY_MONDAY: Weekday
WEEKDAY_TUESDAY: Weekday
WEEKDAY_WEDNESDAY: Weekday
WEEKDAY_THURSDAY: Weekday
WEEKDAY_FRIDAY: Weekday
WEEKDAY_SATURDAY: Weekday
WEEKDAY_SUNDAY: Weekday

class Operator(_message.Message):
    __slots__ = ("domain", "display_name", "status", "create_time", "verification", "public_key")
    DOMAIN_FIELD_NUMBER: _ClassVar[int]
    DISPLAY_NAME_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    VERIFICATION_FIELD_NUMBER: _ClassVar[int]
    PUBLIC_KEY_FIELD_NUMBER: _ClassVar[int]
    domain: str
    display_name: str
    status: OperatorStatus
    create_time: _timestamp_pb2.Timestamp
    verification: DomainVerification
    public_key: bytes
    def __init__(self, domain: _Optional[str] = ..., display_name: _Optional[str] = ..., status: _Optional[_Union[OperatorStatus, str]] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., verification: _Optional[_Union[DomainVerification, _Mapping]] = ..., public_key: _Optional[bytes] = ...) -> None: ...

class DomainVerification(_message.Message):
    __slots__ = ("state", "method", "token", "dns_record_name", "https_url", "verify_time", "expire_time")
    STATE_FIELD_NUMBER: _ClassVar[int]
    METHOD_FIELD_NUMBER: _ClassVar[int]
    TOKEN_FIELD_NUMBER: _ClassVar[int]
    DNS_RECORD_NAME_FIELD_NUMBER: _ClassVar[int]
    HTTPS_URL_FIELD_NUMBER: _ClassVar[int]
    VERIFY_TIME_FIELD_NUMBER: _ClassVar[int]
    EXPIRE_TIME_FIELD_NUMBER: _ClassVar[int]
    state: DomainVerificationState
    method: DomainVerificationMethod
    token: str
    dns_record_name: str
    https_url: str
    verify_time: _timestamp_pb2.Timestamp
    expire_time: _timestamp_pb2.Timestamp
    def __init__(self, state: _Optional[_Union[DomainVerificationState, str]] = ..., method: _Optional[_Union[DomainVerificationMethod, str]] = ..., token: _Optional[str] = ..., dns_record_name: _Optional[str] = ..., https_url: _Optional[str] = ..., verify_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., expire_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class Policy(_message.Message):
    __slots__ = ("scopes", "audiences", "max_token_ttl", "autonomy", "delegates", "envelope", "capabilities")
    SCOPES_FIELD_NUMBER: _ClassVar[int]
    AUDIENCES_FIELD_NUMBER: _ClassVar[int]
    MAX_TOKEN_TTL_FIELD_NUMBER: _ClassVar[int]
    AUTONOMY_FIELD_NUMBER: _ClassVar[int]
    DELEGATES_FIELD_NUMBER: _ClassVar[int]
    ENVELOPE_FIELD_NUMBER: _ClassVar[int]
    CAPABILITIES_FIELD_NUMBER: _ClassVar[int]
    scopes: _containers.RepeatedScalarFieldContainer[str]
    audiences: _containers.RepeatedScalarFieldContainer[str]
    max_token_ttl: _duration_pb2.Duration
    autonomy: AutonomyPolicy
    delegates: _containers.RepeatedScalarFieldContainer[str]
    envelope: Envelope
    capabilities: _containers.RepeatedCompositeFieldContainer[Capability]
    def __init__(self, scopes: _Optional[_Iterable[str]] = ..., audiences: _Optional[_Iterable[str]] = ..., max_token_ttl: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., autonomy: _Optional[_Union[AutonomyPolicy, _Mapping]] = ..., delegates: _Optional[_Iterable[str]] = ..., envelope: _Optional[_Union[Envelope, _Mapping]] = ..., capabilities: _Optional[_Iterable[_Union[Capability, _Mapping]]] = ...) -> None: ...

class Capability(_message.Message):
    __slots__ = ("action", "name", "resource")
    ACTION_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    RESOURCE_FIELD_NUMBER: _ClassVar[int]
    action: CapabilityAction
    name: str
    resource: str
    def __init__(self, action: _Optional[_Union[CapabilityAction, str]] = ..., name: _Optional[str] = ..., resource: _Optional[str] = ...) -> None: ...

class Grant(_message.Message):
    __slots__ = ("id", "agent_did", "operator_domain", "audience", "capabilities", "reason", "duration", "state", "create_time", "expire_time", "decide_time", "decided_by", "revoke_time", "scopes")
    ID_FIELD_NUMBER: _ClassVar[int]
    AGENT_DID_FIELD_NUMBER: _ClassVar[int]
    OPERATOR_DOMAIN_FIELD_NUMBER: _ClassVar[int]
    AUDIENCE_FIELD_NUMBER: _ClassVar[int]
    CAPABILITIES_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    DURATION_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    EXPIRE_TIME_FIELD_NUMBER: _ClassVar[int]
    DECIDE_TIME_FIELD_NUMBER: _ClassVar[int]
    DECIDED_BY_FIELD_NUMBER: _ClassVar[int]
    REVOKE_TIME_FIELD_NUMBER: _ClassVar[int]
    SCOPES_FIELD_NUMBER: _ClassVar[int]
    id: str
    agent_did: str
    operator_domain: str
    audience: str
    capabilities: _containers.RepeatedCompositeFieldContainer[Capability]
    reason: str
    duration: _duration_pb2.Duration
    state: GrantState
    create_time: _timestamp_pb2.Timestamp
    expire_time: _timestamp_pb2.Timestamp
    decide_time: _timestamp_pb2.Timestamp
    decided_by: str
    revoke_time: _timestamp_pb2.Timestamp
    scopes: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, id: _Optional[str] = ..., agent_did: _Optional[str] = ..., operator_domain: _Optional[str] = ..., audience: _Optional[str] = ..., capabilities: _Optional[_Iterable[_Union[Capability, _Mapping]]] = ..., reason: _Optional[str] = ..., duration: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., state: _Optional[_Union[GrantState, str]] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., expire_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., decide_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., decided_by: _Optional[str] = ..., revoke_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., scopes: _Optional[_Iterable[str]] = ...) -> None: ...

class Approver(_message.Message):
    __slots__ = ("id", "operator_domain", "display_name", "passkey_count", "create_time")
    ID_FIELD_NUMBER: _ClassVar[int]
    OPERATOR_DOMAIN_FIELD_NUMBER: _ClassVar[int]
    DISPLAY_NAME_FIELD_NUMBER: _ClassVar[int]
    PASSKEY_COUNT_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    id: str
    operator_domain: str
    display_name: str
    passkey_count: int
    create_time: _timestamp_pb2.Timestamp
    def __init__(self, id: _Optional[str] = ..., operator_domain: _Optional[str] = ..., display_name: _Optional[str] = ..., passkey_count: _Optional[int] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class Envelope(_message.Message):
    __slots__ = ("max_requests", "request_window", "allowed_times", "max_transaction", "budget", "budget_period", "freeze_after_failures", "freeze_window", "freeze_duration")
    MAX_REQUESTS_FIELD_NUMBER: _ClassVar[int]
    REQUEST_WINDOW_FIELD_NUMBER: _ClassVar[int]
    ALLOWED_TIMES_FIELD_NUMBER: _ClassVar[int]
    MAX_TRANSACTION_FIELD_NUMBER: _ClassVar[int]
    BUDGET_FIELD_NUMBER: _ClassVar[int]
    BUDGET_PERIOD_FIELD_NUMBER: _ClassVar[int]
    FREEZE_AFTER_FAILURES_FIELD_NUMBER: _ClassVar[int]
    FREEZE_WINDOW_FIELD_NUMBER: _ClassVar[int]
    FREEZE_DURATION_FIELD_NUMBER: _ClassVar[int]
    max_requests: int
    request_window: _duration_pb2.Duration
    allowed_times: _containers.RepeatedCompositeFieldContainer[TimeWindow]
    max_transaction: Money
    budget: Money
    budget_period: _duration_pb2.Duration
    freeze_after_failures: int
    freeze_window: _duration_pb2.Duration
    freeze_duration: _duration_pb2.Duration
    def __init__(self, max_requests: _Optional[int] = ..., request_window: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., allowed_times: _Optional[_Iterable[_Union[TimeWindow, _Mapping]]] = ..., max_transaction: _Optional[_Union[Money, _Mapping]] = ..., budget: _Optional[_Union[Money, _Mapping]] = ..., budget_period: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., freeze_after_failures: _Optional[int] = ..., freeze_window: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., freeze_duration: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ...) -> None: ...

class TimeWindow(_message.Message):
    __slots__ = ("days", "start_minute", "end_minute")
    DAYS_FIELD_NUMBER: _ClassVar[int]
    START_MINUTE_FIELD_NUMBER: _ClassVar[int]
    END_MINUTE_FIELD_NUMBER: _ClassVar[int]
    days: _containers.RepeatedScalarFieldContainer[Weekday]
    start_minute: int
    end_minute: int
    def __init__(self, days: _Optional[_Iterable[_Union[Weekday, str]]] = ..., start_minute: _Optional[int] = ..., end_minute: _Optional[int] = ...) -> None: ...

class Money(_message.Message):
    __slots__ = ("currency", "minor_units")
    CURRENCY_FIELD_NUMBER: _ClassVar[int]
    MINOR_UNITS_FIELD_NUMBER: _ClassVar[int]
    currency: str
    minor_units: int
    def __init__(self, currency: _Optional[str] = ..., minor_units: _Optional[int] = ...) -> None: ...

class AutonomyPolicy(_message.Message):
    __slots__ = ("require_attestation", "min_continuous_operation", "min_autonomous_actions", "require_platform_attestation")
    REQUIRE_ATTESTATION_FIELD_NUMBER: _ClassVar[int]
    MIN_CONTINUOUS_OPERATION_FIELD_NUMBER: _ClassVar[int]
    MIN_AUTONOMOUS_ACTIONS_FIELD_NUMBER: _ClassVar[int]
    REQUIRE_PLATFORM_ATTESTATION_FIELD_NUMBER: _ClassVar[int]
    require_attestation: bool
    min_continuous_operation: _duration_pb2.Duration
    min_autonomous_actions: int
    require_platform_attestation: bool
    def __init__(self, require_attestation: _Optional[bool] = ..., min_continuous_operation: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., min_autonomous_actions: _Optional[int] = ..., require_platform_attestation: _Optional[bool] = ...) -> None: ...

class Agent(_message.Message):
    __slots__ = ("did", "operator_domain", "public_key", "status", "policy", "policy_version", "display_name", "create_time", "update_time", "keys")
    DID_FIELD_NUMBER: _ClassVar[int]
    OPERATOR_DOMAIN_FIELD_NUMBER: _ClassVar[int]
    PUBLIC_KEY_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    POLICY_FIELD_NUMBER: _ClassVar[int]
    POLICY_VERSION_FIELD_NUMBER: _ClassVar[int]
    DISPLAY_NAME_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    UPDATE_TIME_FIELD_NUMBER: _ClassVar[int]
    KEYS_FIELD_NUMBER: _ClassVar[int]
    did: str
    operator_domain: str
    public_key: bytes
    status: AgentStatus
    policy: Policy
    policy_version: int
    display_name: str
    create_time: _timestamp_pb2.Timestamp
    update_time: _timestamp_pb2.Timestamp
    keys: _containers.RepeatedCompositeFieldContainer[AgentKey]
    def __init__(self, did: _Optional[str] = ..., operator_domain: _Optional[str] = ..., public_key: _Optional[bytes] = ..., status: _Optional[_Union[AgentStatus, str]] = ..., policy: _Optional[_Union[Policy, _Mapping]] = ..., policy_version: _Optional[int] = ..., display_name: _Optional[str] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., update_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., keys: _Optional[_Iterable[_Union[AgentKey, _Mapping]]] = ...) -> None: ...

class AgentKey(_message.Message):
    __slots__ = ("public_key", "create_time", "retire_time")
    PUBLIC_KEY_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    RETIRE_TIME_FIELD_NUMBER: _ClassVar[int]
    public_key: bytes
    create_time: _timestamp_pb2.Timestamp
    retire_time: _timestamp_pb2.Timestamp
    def __init__(self, public_key: _Optional[bytes] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., retire_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class Jwk(_message.Message):
    __slots__ = ("kty", "crv", "x", "y", "kid", "alg", "use")
    KTY_FIELD_NUMBER: _ClassVar[int]
    CRV_FIELD_NUMBER: _ClassVar[int]
    X_FIELD_NUMBER: _ClassVar[int]
    Y_FIELD_NUMBER: _ClassVar[int]
    KID_FIELD_NUMBER: _ClassVar[int]
    ALG_FIELD_NUMBER: _ClassVar[int]
    USE_FIELD_NUMBER: _ClassVar[int]
    kty: str
    crv: str
    x: str
    y: str
    kid: str
    alg: str
    use: str
    def __init__(self, kty: _Optional[str] = ..., crv: _Optional[str] = ..., x: _Optional[str] = ..., y: _Optional[str] = ..., kid: _Optional[str] = ..., alg: _Optional[str] = ..., use: _Optional[str] = ...) -> None: ...
