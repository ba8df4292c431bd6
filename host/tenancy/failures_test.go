package tenancy

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"
)

func TestNoteFailure(t *testing.T) {
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	book := newLogBook().app("t1", "a1")
	tests := []struct {
		name, event, want string
	}{
		{"action failed",
			`{"SchemaVersion":"1.0","Sequence":3,"InvocationEventType":"ACTION_FAILED","ActionData":{"Type":"Speak","Parameters":{},"ErrorType":"SystemException","ErrorMessage":"Speak: flite: trap"},"CallDetails":{"TransactionId":"tx-1"}}`,
			"ACTION_FAILED Speak: SystemException: Speak: flite: trap"},
		{"invalid response",
			`{"SchemaVersion":"1.0","Sequence":4,"InvocationEventType":"INVALID_LAMBDA_RESPONSE","ErrorType":"InvalidActionParameter","ErrorMessage":"Speak: Text parameter value is invalid: must be at most 1000 characters, not 1001","CallDetails":{"TransactionId":"tx-1"}}`,
			"INVALID_LAMBDA_RESPONSE: InvalidActionParameter: Speak: Text parameter value is invalid: must be at most 1000 characters, not 1001"},
		{"other event", `{"SchemaVersion":"1.0","Sequence":5,"InvocationEventType":"ACTION_SUCCESSFUL","ActionData":{"Type":"Speak"},"CallDetails":{"TransactionId":"tx-1"}}`, ""},
		{"broken JSON mentioning a failure", `{"InvocationEventType":"ACTION_FAILED"`, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := len(book.last(100))
			logs.Reset()
			noteFailure(context.Background(), log, book, []byte(tt.event), 0)
			lines := book.last(100)
			if tt.want == "" {
				if len(lines) != before || logs.Len() != 0 {
					t.Fatalf("noted: %v %s", lines, logs.String())
				}
				return
			}
			if len(lines) != before+1 || lines[len(lines)-1].Text != tt.want || lines[len(lines)-1].TransactionID != "tx-1" ||
				lines[len(lines)-1].Level != "warn" {
				t.Fatalf("log book %+v", lines)
			}
			if !strings.Contains(logs.String(), "transaction_id=tx-1") || !strings.Contains(logs.String(), "level=WARN") {
				t.Fatalf("server log %s", logs.String())
			}
		})
	}
	// A retried invocation of the same event is noted once.
	ev := []byte(tests[0].event)
	n := len(book.last(100))
	seq := noteFailure(context.Background(), log, book, ev, 0)
	noteFailure(context.Background(), log, book, ev, seq)
	if got := len(book.last(100)); got != n+1 {
		t.Fatalf("%d lines for one event noted twice", got-n)
	}
}
