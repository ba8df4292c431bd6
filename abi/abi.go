// Package abi is the contract between the media server and its Wasm plugins:
// the Chime-compatible wire types (events, actions, responses, errors), the
// validation of a plugin's response, and the names and numbers of ABI v1.
// It imports only the standard library. SPEC.md is the normative text.
package abi
