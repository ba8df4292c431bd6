package tenancy

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"time"

	"github.com/wasmvoice/mediaserver/abi"
	"github.com/wasmvoice/mediaserver/host/api"
)

// noteFailure makes failed actions visible: an ACTION_FAILED or
// INVALID_LAMBDA_RESPONSE event about to reach a plugin is written, with its
// ErrorType and ErrorMessage, to the server log and to the application's log
// book (`mediactl plugin logs`). It returns the event's Sequence (0 for
// other events), so a retried invocation of the same event is noted once.
func noteFailure(ctx context.Context, log *slog.Logger, book *appBook, event []byte, lastSeq int) int {
	if !bytes.Contains(event, []byte(abi.EventActionFailed)) && !bytes.Contains(event, []byte(abi.EventInvalidLambdaResponse)) {
		return 0
	}
	var ev struct {
		InvocationEventType abi.EventType
		Sequence            int
		ErrorType           string
		ErrorMessage        string
		ActionData          *struct {
			Type         string
			ErrorType    string
			ErrorMessage string
		}
		CallDetails struct {
			TransactionID string `json:"TransactionId"`
		}
	}
	if json.Unmarshal(event, &ev) != nil {
		return 0
	}
	var text string
	switch {
	case ev.InvocationEventType == abi.EventActionFailed && ev.ActionData != nil:
		text = fmt.Sprintf("ACTION_FAILED %s: %s: %s", ev.ActionData.Type, ev.ActionData.ErrorType, ev.ActionData.ErrorMessage)
	case ev.InvocationEventType == abi.EventInvalidLambdaResponse:
		text = fmt.Sprintf("INVALID_LAMBDA_RESPONSE: %s: %s", ev.ErrorType, ev.ErrorMessage)
	default:
		return 0
	}
	if ev.Sequence != 0 && ev.Sequence == lastSeq {
		return ev.Sequence
	}
	log.LogAttrs(ctx, slog.LevelWarn, text, slog.String("transaction_id", ev.CallDetails.TransactionID))
	book.mu.Lock()
	book.push(api.LogLine{Time: time.Now().UTC(), Level: "warn", Stream: "host", TransactionID: ev.CallDetails.TransactionID, Text: text})
	book.mu.Unlock()
	return ev.Sequence
}
