from google.protobuf import descriptor_pb2 as _descriptor_pb2
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Optional as _Optional

DESCRIPTOR: _descriptor.FileDescriptor
RULES_FIELD_NUMBER: _ClassVar[int]
rules: _descriptor.FieldDescriptor
ONEOF_REQUIRED_FIELD_NUMBER: _ClassVar[int]
oneof_required: _descriptor.FieldDescriptor

class FieldRules(_message.Message):
    __slots__ = ("required", "min_len", "max_len", "pattern", "max_items", "unique", "defined_only", "max_value", "printable")
    REQUIRED_FIELD_NUMBER: _ClassVar[int]
    MIN_LEN_FIELD_NUMBER: _ClassVar[int]
    MAX_LEN_FIELD_NUMBER: _ClassVar[int]
    PATTERN_FIELD_NUMBER: _ClassVar[int]
    MAX_ITEMS_FIELD_NUMBER: _ClassVar[int]
    UNIQUE_FIELD_NUMBER: _ClassVar[int]
    DEFINED_ONLY_FIELD_NUMBER: _ClassVar[int]
    MAX_VALUE_FIELD_NUMBER: _ClassVar[int]
    PRINTABLE_FIELD_NUMBER: _ClassVar[int]
    required: bool
    min_len: int
    max_len: int
    pattern: str
    max_items: int
    unique: bool
    defined_only: bool
    max_value: int
    printable: bool
    def __init__(self, required: _Optional[bool] = ..., min_len: _Optional[int] = ..., max_len: _Optional[int] = ..., pattern: _Optional[str] = ..., max_items: _Optional[int] = ..., unique: _Optional[bool] = ..., defined_only: _Optional[bool] = ..., max_value: _Optional[int] = ..., printable: _Optional[bool] = ...) -> None: ...
