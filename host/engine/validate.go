package engine

import (
	"github.com/wasmvoice/mediaserver/abi"
)

// parseResponse parses and validates a plugin response with the abi rules.
// Every error is an *abi.ActionError, reported to the plugin as
// INVALID_LAMBDA_RESPONSE.
func parseResponse(raw []byte, lim Limits, participants []abi.Participant) (*abi.Response, error) {
	resp, err := abi.ParseResponse(raw)
	if err != nil {
		return nil, err
	}
	if err := abi.ValidateResponse(resp, abi.Limits{MaxActions: lim.MaxActions}, participants); err != nil {
		return nil, err
	}
	return resp, nil
}
