package main

import (
	"encoding/json"
	"fmt"

	"github.com/wasmvoice/mediaserver/host/api"
)

const usageCallCreate = `Usage: mediactl call create -app ID -from +E164 -to +E164 [-header K=V]... [KEY=VALUE ...]

Places an outbound call from application ID (Chime's
CreateSipMediaApplicationCall) and prints its TransactionId. KEY=VALUE
arguments reach the plugin in NEW_OUTBOUND_CALL's ActionData.Parameters
.Arguments; -header adds a SIP header to the INVITE (X-…, User-to-User or
Diversion). -from must be one of the tenant's numbers.

Examples:
  mediactl call create -app demo-ivr -from +15550100 -to +15550123
  TX=$(mediactl call create -app meeting -from +15550100 -to +15550123 -header X-Ticket=42 meetingId=7)
`

const usageCallUpdate = `Usage: mediactl call update -app ID TRANSACTION_ID [KEY=VALUE ...]

Sends CALL_UPDATE_REQUESTED with the KEY=VALUE arguments to the plugin of
a live call (Chime's UpdateSipMediaApplicationCall).

Example:
  mediactl call update -app meeting 6f1c7d2e-0000-4000-8000-000000000001 action=mute
`

const usageCallHangup = `Usage: mediactl call hangup TRANSACTION_ID

Ends a call, also while it still rings.

Example:
  mediactl call hangup 6f1c7d2e-0000-4000-8000-000000000001
`

const usageCalls = `Usage: mediactl calls

Lists the live calls: transaction, application, direction, numbers, state
and age. An admin key without -tenant sees every tenant's calls.

Examples:
  mediactl calls
  mediactl -json calls
`

func (s *session) callCreate(args []string) error {
	fs := s.flagSet("call create", usageCallCreate)
	app := fs.String("app", "", "the application placing the call (required)")
	from := fs.String("from", "", "caller number, E.164 (required; one of the tenant's numbers)")
	to := fs.String("to", "", "called number, E.164 (required)")
	var headers listFlag
	fs.Var(&headers, "header", "a SIP header K=V for the INVITE (repeatable)")
	pos, err := s.parse(fs, args, 0, -1)
	if err != nil {
		return err
	}
	if *app == "" {
		return s.usageErr("call create: -app is required (see -h)")
	}
	if err := checkE164("-from", *from); err != nil {
		return s.usageErr("call create: %v", err)
	}
	if err := checkE164("-to", *to); err != nil {
		return s.usageErr("call create: %v", err)
	}
	hdr, err := keyValues("-header", headers)
	if err != nil {
		return s.usageErr("call create: %v", err)
	}
	argMap, err := keyValues("argument", pos)
	if err != nil {
		return s.usageErr("call create: %v", err)
	}
	if len(argMap) > api.MaxArguments {
		return s.usageErr("call create: %d arguments, at most %d are allowed", len(argMap), api.MaxArguments)
	}
	c, err := s.client()
	if err != nil {
		return err
	}
	req := api.CreateCallRequest{FromPhoneNumber: *from, ToPhoneNumber: *to}
	if len(hdr) > 0 {
		req.SipHeaders = hdr
	}
	if len(argMap) > 0 {
		req.ArgumentsMap = argMap
	}
	tx, err := c.CreateCall(s.ctx, *app, req)
	if err != nil {
		return s.failed(err)
	}
	if s.json {
		return s.printJSON(api.CallResponse{SipMediaApplicationCall: api.SipMediaApplicationCall{TransactionID: tx}})
	}
	fmt.Fprintln(s.stdout, tx)
	return nil
}

func (s *session) callUpdate(args []string) error {
	fs := s.flagSet("call update", usageCallUpdate)
	app := fs.String("app", "", "the call's application (required)")
	pos, err := s.parse(fs, args, 1, -1)
	if err != nil {
		return err
	}
	if *app == "" {
		return s.usageErr("call update: -app is required (see -h)")
	}
	argMap, err := keyValues("argument", pos[1:])
	if err != nil {
		return s.usageErr("call update: %v", err)
	}
	if len(argMap) > api.MaxArguments {
		return s.usageErr("call update: %d arguments, at most %d are allowed", len(argMap), api.MaxArguments)
	}
	c, err := s.client()
	if err != nil {
		return err
	}
	if err := c.UpdateCall(s.ctx, *app, pos[0], argMap); err != nil {
		return s.failed(err)
	}
	if s.json {
		return s.printJSON(api.CallResponse{SipMediaApplicationCall: api.SipMediaApplicationCall{TransactionID: pos[0]}})
	}
	fmt.Fprintln(s.stdout, pos[0])
	return nil
}

func (s *session) callHangup(args []string) error {
	fs := s.flagSet("call hangup", usageCallHangup)
	c, pos, err := s.connect(fs, args, 1, 1)
	if err != nil {
		return err
	}
	if err := c.Hangup(s.ctx, pos[0]); err != nil {
		return s.failed(err)
	}
	if s.json {
		return s.printJSON(api.CallResponse{SipMediaApplicationCall: api.SipMediaApplicationCall{TransactionID: pos[0]}})
	}
	fmt.Fprintln(s.stdout, pos[0])
	return nil
}

func (s *session) calls(args []string) error {
	fs := s.flagSet("calls", usageCalls)
	c, _, err := s.connect(fs, args, 0, 0)
	if err != nil {
		return err
	}
	calls, err := c.ListCalls(s.ctx)
	if err != nil {
		return s.failed(err)
	}
	if s.json {
		return s.printJSON(api.CallList{Calls: calls})
	}
	now := s.now()
	rows := make([][]string, 0, len(calls))
	for _, cl := range calls {
		rows = append(rows, []string{cl.TransactionID, cl.SipMediaApplicationID, orDash(cl.Direction),
			orDash(cl.From), orDash(cl.To), callState(cl), age(now, cl.StartTime)})
	}
	s.table([]string{"TRANSACTION", "APP", "DIRECTION", "FROM", "TO", "STATE", "AGE"}, rows)
	return nil
}

// callState is the call's State when the API sends one. api.Call has no
// such field yet; reading it through JSON picks it up the day it does,
// without this command having to change.
func callState(c api.Call) string {
	b, err := json.Marshal(c)
	if err != nil {
		return "-"
	}
	var m map[string]any
	if json.Unmarshal(b, &m) != nil {
		return "-"
	}
	if st, ok := m["State"].(string); ok && st != "" {
		return st
	}
	return "live"
}
