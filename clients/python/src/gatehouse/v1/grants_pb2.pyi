import datetime

from gatehouse.v1 import resources_pb2 as _resources_pb2
from gatehouse.v1 import validate_pb2 as _validate_pb2
from google.api import annotations_pb2 as _annotations_pb2
from google.protobuf import duration_pb2 as _duration_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class RequestGrantRequest(_message.Message):
    __slots__ = ("audience", "capabilities", "reason", "duration")
    AUDIENCE_FIELD_NUMBER: _ClassVar[int]
    CAPABILITIES_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    DURATION_FIELD_NUMBER: _ClassVar[int]
    audience: str
    capabilities: _containers.RepeatedCompositeFieldContainer[_resources_pb2.Capability]
    reason: str
    duration: _duration_pb2.Duration
    def __init__(self, audience: _Optional[str] = ..., capabilities: _Optional[_Iterable[_Union[_resources_pb2.Capability, _Mapping]]] = ..., reason: _Optional[str] = ..., duration: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ...) -> None: ...

class RequestGrantResponse(_message.Message):
    __slots__ = ("grant",)
    GRANT_FIELD_NUMBER: _ClassVar[int]
    grant: _resources_pb2.Grant
    def __init__(self, grant: _Optional[_Union[_resources_pb2.Grant, _Mapping]] = ...) -> None: ...

class GetGrantRequest(_message.Message):
    __slots__ = ("id",)
    ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    def __init__(self, id: _Optional[str] = ...) -> None: ...

class GetGrantResponse(_message.Message):
    __slots__ = ("grant",)
    GRANT_FIELD_NUMBER: _ClassVar[int]
    grant: _resources_pb2.Grant
    def __init__(self, grant: _Optional[_Union[_resources_pb2.Grant, _Mapping]] = ...) -> None: ...

class ListGrantsRequest(_message.Message):
    __slots__ = ("page_size", "page_token", "agent_did", "state", "operator_domain")
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    AGENT_DID_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    OPERATOR_DOMAIN_FIELD_NUMBER: _ClassVar[int]
    page_size: int
    page_token: str
    agent_did: str
    state: _resources_pb2.GrantState
    operator_domain: str
    def __init__(self, page_size: _Optional[int] = ..., page_token: _Optional[str] = ..., agent_did: _Optional[str] = ..., state: _Optional[_Union[_resources_pb2.GrantState, str]] = ..., operator_domain: _Optional[str] = ...) -> None: ...

class ListGrantsResponse(_message.Message):
    __slots__ = ("grants", "next_page_token")
    GRANTS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    grants: _containers.RepeatedCompositeFieldContainer[_resources_pb2.Grant]
    next_page_token: str
    def __init__(self, grants: _Optional[_Iterable[_Union[_resources_pb2.Grant, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class RevokeGrantRequest(_message.Message):
    __slots__ = ("id", "comment")
    ID_FIELD_NUMBER: _ClassVar[int]
    COMMENT_FIELD_NUMBER: _ClassVar[int]
    id: str
    comment: str
    def __init__(self, id: _Optional[str] = ..., comment: _Optional[str] = ...) -> None: ...

class RevokeGrantResponse(_message.Message):
    __slots__ = ("grant",)
    GRANT_FIELD_NUMBER: _ClassVar[int]
    grant: _resources_pb2.Grant
    def __init__(self, grant: _Optional[_Union[_resources_pb2.Grant, _Mapping]] = ...) -> None: ...

class CreateApproverInviteRequest(_message.Message):
    __slots__ = ("display_name",)
    DISPLAY_NAME_FIELD_NUMBER: _ClassVar[int]
    display_name: str
    def __init__(self, display_name: _Optional[str] = ...) -> None: ...

class CreateApproverInviteResponse(_message.Message):
    __slots__ = ("invite_url", "expires_in")
    INVITE_URL_FIELD_NUMBER: _ClassVar[int]
    EXPIRES_IN_FIELD_NUMBER: _ClassVar[int]
    invite_url: str
    expires_in: _duration_pb2.Duration
    def __init__(self, invite_url: _Optional[str] = ..., expires_in: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ...) -> None: ...

class ListApproversRequest(_message.Message):
    __slots__ = ("operator_domain", "page_size", "page_token")
    OPERATOR_DOMAIN_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    operator_domain: str
    page_size: int
    page_token: str
    def __init__(self, operator_domain: _Optional[str] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListApproversResponse(_message.Message):
    __slots__ = ("approvers", "next_page_token")
    APPROVERS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    approvers: _containers.RepeatedCompositeFieldContainer[_resources_pb2.Approver]
    next_page_token: str
    def __init__(self, approvers: _Optional[_Iterable[_Union[_resources_pb2.Approver, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class RemoveApproverRequest(_message.Message):
    __slots__ = ("id",)
    ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    def __init__(self, id: _Optional[str] = ...) -> None: ...

class RemoveApproverResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...
