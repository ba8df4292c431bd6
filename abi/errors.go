package abi

import (
	"errors"
	"fmt"
)

// Sentinel errors. A *ActionError returned by ParseResponse or ParseEvent
// wraps one of these, so callers can use errors.Is as well as errors.As.
var (
	// ErrMalformedJSON: the bytes are not one valid JSON value.
	ErrMalformedJSON = errors.New("malformed json")
	// ErrNotObject: the top-level JSON value is not an object.
	ErrNotObject = errors.New("json value is not an object")
	// ErrTrailingData: something follows the top-level JSON object.
	ErrTrailingData = errors.New("trailing data after json object")
	// ErrSchemaVersion: SchemaVersion is present and is not "1.0".
	ErrSchemaVersion = errors.New("unsupported schema version")
	// ErrInvalidInt: a numeric parameter is neither an integer nor a string holding one.
	ErrInvalidInt = errors.New("not an integer")
	// ErrInvalidBool: a boolean parameter is neither a boolean nor "true"/"false".
	ErrInvalidBool = errors.New("not a boolean")
	// ErrUnknownActionType: Decode was asked for a type it does not know.
	ErrUnknownActionType = errors.New("unknown action type")
	// ErrInvalidParameters: Parameters is not a JSON object or a field has the wrong type.
	ErrInvalidParameters = errors.New("invalid parameters")
	// ErrInvalidEvent: an iotcomms callback body does not parse.
	ErrInvalidEvent = errors.New("invalid callback body")
	// ErrInvalidResponse: an iotcomms answer does not parse or breaks a rule.
	ErrInvalidResponse = errors.New("invalid answer")
)

// ErrorType is Chime's ErrorType string, sent in ActionData (ACTION_FAILED)
// or at the top level of the event (INVALID_LAMBDA_RESPONSE).
type ErrorType string

// The error types of Chime's PSTN audio service.
const (
	InvalidActionParameter              ErrorType = "InvalidActionParameter"
	MissingRequiredActionParameter      ErrorType = "MissingRequiredActionParameter"
	SystemException                     ErrorType = "SystemException"
	InvalidAudioSource                  ErrorType = "InvalidAudioSource"
	CallNotAnswered                     ErrorType = "CallNotAnswered"
	AccessDenied                        ErrorType = "AccessDenied"
	ActionExecutionThrottled            ErrorType = "ActionExecutionThrottled"
	ResourceNotFound                    ErrorType = "ResourceNotFound"
	ResourceAccessDenied                ErrorType = "ResourceAccessDenied"
	TransactionAttributesInvalidMapSize ErrorType = "TransactionAttributesInvalidMapSize"
)

// AllErrorTypes returns every ErrorType, in the order of the Chime docs.
func AllErrorTypes() []ErrorType {
	return []ErrorType{
		InvalidActionParameter, MissingRequiredActionParameter, SystemException,
		InvalidAudioSource, CallNotAnswered, AccessDenied, ActionExecutionThrottled,
		ResourceNotFound, ResourceAccessDenied, TransactionAttributesInvalidMapSize,
	}
}

// ActionError is a problem with a plugin's response, ready to be reported
// back to the plugin: Type and Message become the ErrorType and ErrorMessage
// of an INVALID_LAMBDA_RESPONSE (or ACTION_FAILED) event.
type ActionError struct {
	Type    ErrorType
	Message string // Chime-like, e.g. "PlayAudio: Repeat parameter value is invalid: must be between 1 and 100"
	Index   int    // index of the offending action, -1 for the envelope
	Err     error  // optional sentinel or cause, for errors.Is
}

// Error implements error.
func (e *ActionError) Error() string {
	if e.Index < 0 {
		return fmt.Sprintf("%s: %s", e.Type, e.Message)
	}
	return fmt.Sprintf("%s: action %d: %s", e.Type, e.Index, e.Message)
}

// Unwrap returns the cause, if any.
func (e *ActionError) Unwrap() error { return e.Err }

// ErrorFields returns the ErrorType and ErrorMessage to put into an event for
// err: those of a *ActionError, or SystemException with err's text otherwise.
func ErrorFields(err error) (ErrorType, string) {
	var ae *ActionError
	if errors.As(err, &ae) {
		return ae.Type, ae.Message
	}
	return SystemException, err.Error()
}
