import datetime

from gatehouse.v1 import resources_pb2 as _resources_pb2
from gatehouse.v1 import validate_pb2 as _validate_pb2
from google.api import annotations_pb2 as _annotations_pb2
from google.protobuf import struct_pb2 as _struct_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class SigningKeyState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    SIGNING_KEY_STATE_UNSPECIFIED: _ClassVar[SigningKeyState]
    SIGNING_KEY_STATE_PENDING: _ClassVar[SigningKeyState]
    SIGNING_KEY_STATE_SIGNING: _ClassVar[SigningKeyState]
    SIGNING_KEY_STATE_RETIRING: _ClassVar[SigningKeyState]
    SIGNING_KEY_STATE_RETIRED: _ClassVar[SigningKeyState]
SIGNING_KEY_STATE_UNSPECIFIED: SigningKeyState
SIGNING_KEY_STATE_PENDING: SigningKeyState
SIGNING_KEY_STATE_SIGNING: SigningKeyState
SIGNING_KEY_STATE_RETIRING: SigningKeyState
SIGNING_KEY_STATE_RETIRED: SigningKeyState

class CreateOperatorRequest(_message.Message):
    __slots__ = ("domain", "display_name", "public_key", "attest_domain")
    DOMAIN_FIELD_NUMBER: _ClassVar[int]
    DISPLAY_NAME_FIELD_NUMBER: _ClassVar[int]
    PUBLIC_KEY_FIELD_NUMBER: _ClassVar[int]
    ATTEST_DOMAIN_FIELD_NUMBER: _ClassVar[int]
    domain: str
    display_name: str
    public_key: bytes
    attest_domain: bool
    def __init__(self, domain: _Optional[str] = ..., display_name: _Optional[str] = ..., public_key: _Optional[bytes] = ..., attest_domain: _Optional[bool] = ...) -> None: ...

class CreateOperatorResponse(_message.Message):
    __slots__ = ("operator",)
    OPERATOR_FIELD_NUMBER: _ClassVar[int]
    operator: _resources_pb2.Operator
    def __init__(self, operator: _Optional[_Union[_resources_pb2.Operator, _Mapping]] = ...) -> None: ...

class RegisterAgentRequest(_message.Message):
    __slots__ = ("did", "public_key", "proof_of_possession", "policy", "display_name")
    DID_FIELD_NUMBER: _ClassVar[int]
    PUBLIC_KEY_FIELD_NUMBER: _ClassVar[int]
    PROOF_OF_POSSESSION_FIELD_NUMBER: _ClassVar[int]
    POLICY_FIELD_NUMBER: _ClassVar[int]
    DISPLAY_NAME_FIELD_NUMBER: _ClassVar[int]
    did: str
    public_key: bytes
    proof_of_possession: bytes
    policy: _resources_pb2.Policy
    display_name: str
    def __init__(self, did: _Optional[str] = ..., public_key: _Optional[bytes] = ..., proof_of_possession: _Optional[bytes] = ..., policy: _Optional[_Union[_resources_pb2.Policy, _Mapping]] = ..., display_name: _Optional[str] = ...) -> None: ...

class RegisterAgentResponse(_message.Message):
    __slots__ = ("agent",)
    AGENT_FIELD_NUMBER: _ClassVar[int]
    agent: _resources_pb2.Agent
    def __init__(self, agent: _Optional[_Union[_resources_pb2.Agent, _Mapping]] = ...) -> None: ...

class GetAgentRequest(_message.Message):
    __slots__ = ("did",)
    DID_FIELD_NUMBER: _ClassVar[int]
    did: str
    def __init__(self, did: _Optional[str] = ...) -> None: ...

class GetAgentResponse(_message.Message):
    __slots__ = ("agent",)
    AGENT_FIELD_NUMBER: _ClassVar[int]
    agent: _resources_pb2.Agent
    def __init__(self, agent: _Optional[_Union[_resources_pb2.Agent, _Mapping]] = ...) -> None: ...

class ListAgentsRequest(_message.Message):
    __slots__ = ("page_size", "page_token", "operator_domain", "status")
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    OPERATOR_DOMAIN_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    page_size: int
    page_token: str
    operator_domain: str
    status: _resources_pb2.AgentStatus
    def __init__(self, page_size: _Optional[int] = ..., page_token: _Optional[str] = ..., operator_domain: _Optional[str] = ..., status: _Optional[_Union[_resources_pb2.AgentStatus, str]] = ...) -> None: ...

class ListAgentsResponse(_message.Message):
    __slots__ = ("agents", "next_page_token")
    AGENTS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    agents: _containers.RepeatedCompositeFieldContainer[_resources_pb2.Agent]
    next_page_token: str
    def __init__(self, agents: _Optional[_Iterable[_Union[_resources_pb2.Agent, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class UpdateAgentPolicyRequest(_message.Message):
    __slots__ = ("did", "policy", "expected_version")
    DID_FIELD_NUMBER: _ClassVar[int]
    POLICY_FIELD_NUMBER: _ClassVar[int]
    EXPECTED_VERSION_FIELD_NUMBER: _ClassVar[int]
    did: str
    policy: _resources_pb2.Policy
    expected_version: int
    def __init__(self, did: _Optional[str] = ..., policy: _Optional[_Union[_resources_pb2.Policy, _Mapping]] = ..., expected_version: _Optional[int] = ...) -> None: ...

class UpdateAgentPolicyResponse(_message.Message):
    __slots__ = ("agent",)
    AGENT_FIELD_NUMBER: _ClassVar[int]
    agent: _resources_pb2.Agent
    def __init__(self, agent: _Optional[_Union[_resources_pb2.Agent, _Mapping]] = ...) -> None: ...

class SuspendAgentRequest(_message.Message):
    __slots__ = ("did", "reason")
    DID_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    did: str
    reason: str
    def __init__(self, did: _Optional[str] = ..., reason: _Optional[str] = ...) -> None: ...

class SuspendAgentResponse(_message.Message):
    __slots__ = ("agent",)
    AGENT_FIELD_NUMBER: _ClassVar[int]
    agent: _resources_pb2.Agent
    def __init__(self, agent: _Optional[_Union[_resources_pb2.Agent, _Mapping]] = ...) -> None: ...

class ReactivateAgentRequest(_message.Message):
    __slots__ = ("did",)
    DID_FIELD_NUMBER: _ClassVar[int]
    did: str
    def __init__(self, did: _Optional[str] = ...) -> None: ...

class ReactivateAgentResponse(_message.Message):
    __slots__ = ("agent",)
    AGENT_FIELD_NUMBER: _ClassVar[int]
    agent: _resources_pb2.Agent
    def __init__(self, agent: _Optional[_Union[_resources_pb2.Agent, _Mapping]] = ...) -> None: ...

class RevokeRequest(_message.Message):
    __slots__ = ("token_id", "agent_did", "agent_key_thumbprint", "operator_domain", "reason")
    TOKEN_ID_FIELD_NUMBER: _ClassVar[int]
    AGENT_DID_FIELD_NUMBER: _ClassVar[int]
    AGENT_KEY_THUMBPRINT_FIELD_NUMBER: _ClassVar[int]
    OPERATOR_DOMAIN_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    token_id: str
    agent_did: str
    agent_key_thumbprint: str
    operator_domain: str
    reason: str
    def __init__(self, token_id: _Optional[str] = ..., agent_did: _Optional[str] = ..., agent_key_thumbprint: _Optional[str] = ..., operator_domain: _Optional[str] = ..., reason: _Optional[str] = ...) -> None: ...

class RevokeResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class RotateSigningKeyRequest(_message.Message):
    __slots__ = ("alg",)
    ALG_FIELD_NUMBER: _ClassVar[int]
    alg: str
    def __init__(self, alg: _Optional[str] = ...) -> None: ...

class RotateSigningKeyResponse(_message.Message):
    __slots__ = ("kid", "alg", "activate_time")
    KID_FIELD_NUMBER: _ClassVar[int]
    ALG_FIELD_NUMBER: _ClassVar[int]
    ACTIVATE_TIME_FIELD_NUMBER: _ClassVar[int]
    kid: str
    alg: str
    activate_time: _timestamp_pb2.Timestamp
    def __init__(self, kid: _Optional[str] = ..., alg: _Optional[str] = ..., activate_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class ListSigningKeysRequest(_message.Message):
    __slots__ = ("page_size", "page_token")
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    page_size: int
    page_token: str
    def __init__(self, page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListSigningKeysResponse(_message.Message):
    __slots__ = ("keys", "next_page_token")
    KEYS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    keys: _containers.RepeatedCompositeFieldContainer[SigningKey]
    next_page_token: str
    def __init__(self, keys: _Optional[_Iterable[_Union[SigningKey, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class SigningKey(_message.Message):
    __slots__ = ("kid", "alg", "state", "create_time", "activate_time", "retire_time")
    KID_FIELD_NUMBER: _ClassVar[int]
    ALG_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    ACTIVATE_TIME_FIELD_NUMBER: _ClassVar[int]
    RETIRE_TIME_FIELD_NUMBER: _ClassVar[int]
    kid: str
    alg: str
    state: SigningKeyState
    create_time: _timestamp_pb2.Timestamp
    activate_time: _timestamp_pb2.Timestamp
    retire_time: _timestamp_pb2.Timestamp
    def __init__(self, kid: _Optional[str] = ..., alg: _Optional[str] = ..., state: _Optional[_Union[SigningKeyState, str]] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., activate_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., retire_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class ResolveDidRequest(_message.Message):
    __slots__ = ("did",)
    DID_FIELD_NUMBER: _ClassVar[int]
    did: str
    def __init__(self, did: _Optional[str] = ...) -> None: ...

class ResolveDidResponse(_message.Message):
    __slots__ = ("document", "deactivated")
    DOCUMENT_FIELD_NUMBER: _ClassVar[int]
    DEACTIVATED_FIELD_NUMBER: _ClassVar[int]
    document: _struct_pb2.Struct
    deactivated: bool
    def __init__(self, document: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ..., deactivated: _Optional[bool] = ...) -> None: ...

class RotateAgentKeyRequest(_message.Message):
    __slots__ = ("did", "new_public_key", "new_key_proof", "current_key_signature")
    DID_FIELD_NUMBER: _ClassVar[int]
    NEW_PUBLIC_KEY_FIELD_NUMBER: _ClassVar[int]
    NEW_KEY_PROOF_FIELD_NUMBER: _ClassVar[int]
    CURRENT_KEY_SIGNATURE_FIELD_NUMBER: _ClassVar[int]
    did: str
    new_public_key: bytes
    new_key_proof: bytes
    current_key_signature: bytes
    def __init__(self, did: _Optional[str] = ..., new_public_key: _Optional[bytes] = ..., new_key_proof: _Optional[bytes] = ..., current_key_signature: _Optional[bytes] = ...) -> None: ...

class RotateAgentKeyResponse(_message.Message):
    __slots__ = ("agent",)
    AGENT_FIELD_NUMBER: _ClassVar[int]
    agent: _resources_pb2.Agent
    def __init__(self, agent: _Optional[_Union[_resources_pb2.Agent, _Mapping]] = ...) -> None: ...

class DeleteAgentRequest(_message.Message):
    __slots__ = ("did", "reason")
    DID_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    did: str
    reason: str
    def __init__(self, did: _Optional[str] = ..., reason: _Optional[str] = ...) -> None: ...

class DeleteAgentResponse(_message.Message):
    __slots__ = ("agent",)
    AGENT_FIELD_NUMBER: _ClassVar[int]
    agent: _resources_pb2.Agent
    def __init__(self, agent: _Optional[_Union[_resources_pb2.Agent, _Mapping]] = ...) -> None: ...

class GetOperatorRequest(_message.Message):
    __slots__ = ("domain",)
    DOMAIN_FIELD_NUMBER: _ClassVar[int]
    domain: str
    def __init__(self, domain: _Optional[str] = ...) -> None: ...

class GetOperatorResponse(_message.Message):
    __slots__ = ("operator",)
    OPERATOR_FIELD_NUMBER: _ClassVar[int]
    operator: _resources_pb2.Operator
    def __init__(self, operator: _Optional[_Union[_resources_pb2.Operator, _Mapping]] = ...) -> None: ...

class VerifyOperatorDomainRequest(_message.Message):
    __slots__ = ("domain", "method")
    DOMAIN_FIELD_NUMBER: _ClassVar[int]
    METHOD_FIELD_NUMBER: _ClassVar[int]
    domain: str
    method: _resources_pb2.DomainVerificationMethod
    def __init__(self, domain: _Optional[str] = ..., method: _Optional[_Union[_resources_pb2.DomainVerificationMethod, str]] = ...) -> None: ...

class VerifyOperatorDomainResponse(_message.Message):
    __slots__ = ("operator",)
    OPERATOR_FIELD_NUMBER: _ClassVar[int]
    operator: _resources_pb2.Operator
    def __init__(self, operator: _Optional[_Union[_resources_pb2.Operator, _Mapping]] = ...) -> None: ...

class SetOperatorKeyRequest(_message.Message):
    __slots__ = ("domain", "public_key")
    DOMAIN_FIELD_NUMBER: _ClassVar[int]
    PUBLIC_KEY_FIELD_NUMBER: _ClassVar[int]
    domain: str
    public_key: bytes
    def __init__(self, domain: _Optional[str] = ..., public_key: _Optional[bytes] = ...) -> None: ...

class SetOperatorKeyResponse(_message.Message):
    __slots__ = ("operator",)
    OPERATOR_FIELD_NUMBER: _ClassVar[int]
    operator: _resources_pb2.Operator
    def __init__(self, operator: _Optional[_Union[_resources_pb2.Operator, _Mapping]] = ...) -> None: ...
