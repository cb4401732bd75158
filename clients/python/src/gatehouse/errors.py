"""Typed errors: the ``gatehouse.v1.ErrorDetail`` a refused RPC carries, as an exception."""

from __future__ import annotations

import grpc
from google.rpc import status_pb2

from .v1 import errors_pb2

#: The trailer carrying a binary ``google.rpc.Status`` with the error's details.
_STATUS_DETAILS = "grpc-status-details-bin"


class GatehouseError(Exception):
    """A refusal, with its typed reason. Compare ``reason`` (a ``gatehouse.v1.Reason`` value),
    never the message.

    Attributes:
        reason: the ``Reason`` value; ``REASON_UNSPECIFIED`` when the server attached none
            (e.g. a transport failure).
        code: the gRPC status code (``None`` for a refusal made by this client, offline).
        field: for ``REASON_INVALID_ARGUMENT``, the request field at fault.
        description: the server's short, public description.
        retry_after: for ``REASON_RATE_LIMITED``, seconds to wait before retrying.
        dpop_nonce: for ``REASON_DPOP_NONCE_REQUIRED``, the nonce for the next proof.
    """

    def __init__(
        self,
        reason: int,
        description: str,
        *,
        code: grpc.StatusCode | None = None,
        field: str = "",
        retry_after: float = 0.0,
        dpop_nonce: str = "",
    ) -> None:
        super().__init__(f"{errors_pb2.Reason.Name(reason)}: {description}")
        self.reason = reason
        self.code = code
        self.field = field
        self.description = description
        self.retry_after = retry_after
        self.dpop_nonce = dpop_nonce

    @property
    def reason_name(self) -> str:
        """The reason's proto name, e.g. ``REASON_SCOPE_NOT_ALLOWED``."""
        return errors_pb2.Reason.Name(self.reason)

    @classmethod
    def from_rpc_error(cls, error: grpc.RpcError) -> GatehouseError:
        """Read the ``ErrorDetail`` from a failed call's ``grpc-status-details-bin`` trailer."""
        code = error.code() if isinstance(error, grpc.Call) else None
        message = error.details() if isinstance(error, grpc.Call) else str(error)
        trailers = error.trailing_metadata() if isinstance(error, grpc.Call) else None
        for key, value in trailers or ():
            if key != _STATUS_DETAILS:
                continue
            status = status_pb2.Status.FromString(value)
            for detail in status.details:
                if detail.Is(errors_pb2.ErrorDetail.DESCRIPTOR):
                    parsed = errors_pb2.ErrorDetail()
                    detail.Unpack(parsed)
                    return cls(
                        parsed.reason,
                        parsed.description,
                        code=code,
                        field=parsed.field,
                        retry_after=parsed.retry_after_ms / 1000,
                        dpop_nonce=parsed.dpop_nonce,
                    )
        return cls(errors_pb2.REASON_UNSPECIFIED, message or "", code=code)
