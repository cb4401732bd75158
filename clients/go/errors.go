package gatehouse

import (
	"errors"
	"fmt"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	gatehousev1 "github.com/gatehouse-dev/gatehouse/clients/go/gen/gatehouse/v1"
)

// Error is a refused RPC with the typed reason Gatehouse attached (gatehouse.v1.ErrorDetail in
// the status details). Compare Reason, never the message.
type Error struct {
	// Code is the gRPC status code.
	Code codes.Code
	// Reason is the typed cause; REASON_UNSPECIFIED when the server attached none (e.g. a
	// transport failure).
	Reason gatehousev1.Reason
	// Field is the request field at fault, for REASON_INVALID_ARGUMENT.
	Field string
	// Description is the server's short public description.
	Description string
	// RetryAfter is how long to wait, for REASON_RATE_LIMITED.
	RetryAfter time.Duration
	// DPoPNonce is the nonce to put in the next proof, for REASON_DPOP_NONCE_REQUIRED.
	DPoPNonce string
}

func (e *Error) Error() string {
	return fmt.Sprintf("gatehouse: %s (%s): %s", e.Reason, e.Code, e.Description)
}

// AsError reads the gatehouse.v1.ErrorDetail from a gRPC error. It returns nil for a nil error
// and an Error with REASON_UNSPECIFIED when the error carries no detail.
func AsError(err error) *Error {
	if err == nil {
		return nil
	}
	var typed *Error
	if errors.As(err, &typed) {
		return typed
	}
	st := status.Convert(err)
	out := &Error{Code: st.Code(), Description: st.Message()}
	for _, detail := range st.Details() {
		if d, ok := detail.(*gatehousev1.ErrorDetail); ok {
			out.Reason = d.GetReason()
			out.Field = d.GetField()
			out.Description = d.GetDescription()
			out.RetryAfter = time.Duration(d.GetRetryAfterMs()) * time.Millisecond
			out.DPoPNonce = d.GetDpopNonce()
			break
		}
	}
	return out
}
