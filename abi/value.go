package abi

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Int is an integer parameter. Chime's own examples send numbers both as
// JSON numbers and as strings ("Repeat": "5"), so Int decodes from either;
// it always encodes as a plain number. Set records presence, so a default
// applies only when the field was absent (or null). Use with the omitzero tag.
type Int struct {
	Value int
	Set   bool
}

// NewInt returns a present Int.
func NewInt(v int) Int { return Int{Value: v, Set: true} }

// Or returns the value if set, else def.
func (i Int) Or(def int) int {
	if i.Set {
		return i.Value
	}
	return def
}

// IsZero reports absence, for the omitzero tag.
func (i Int) IsZero() bool { return !i.Set }

// MarshalJSON encodes a set Int as a number and an unset one as null.
func (i Int) MarshalJSON() ([]byte, error) {
	if !i.Set {
		return []byte("null"), nil
	}
	return strconv.AppendInt(nil, int64(i.Value), 10), nil
}

// UnmarshalJSON accepts 5, "5" and null (unset); anything else, including
// fractions, exponents and out-of-range values, is ErrInvalidInt.
func (i *Int) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if string(b) == "null" {
		*i = Int{}
		return nil
	}
	text := string(b)
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return fmt.Errorf("%w: %s", ErrInvalidInt, b)
		}
		text = s
	}
	v, err := strconv.ParseInt(text, 10, strconv.IntSize)
	if err != nil {
		return fmt.Errorf("%w: %s", ErrInvalidInt, truncate(string(b), 32))
	}
	*i = Int{Value: int(v), Set: true}
	return nil
}

// String formats the value, or "unset".
func (i Int) String() string {
	if !i.Set {
		return "unset"
	}
	return strconv.Itoa(i.Value)
}

// Bool is a boolean parameter that also decodes from the strings "true" and
// "false" in any letter case (Chime's docs write True/False). It encodes as
// a plain boolean. Set records presence. Use with the omitzero tag.
type Bool struct {
	Value bool
	Set   bool
}

// NewBool returns a present Bool.
func NewBool(v bool) Bool { return Bool{Value: v, Set: true} }

// Or returns the value if set, else def.
func (b Bool) Or(def bool) bool {
	if b.Set {
		return b.Value
	}
	return def
}

// IsZero reports absence, for the omitzero tag.
func (b Bool) IsZero() bool { return !b.Set }

// MarshalJSON encodes a set Bool as true/false and an unset one as null.
func (b Bool) MarshalJSON() ([]byte, error) {
	if !b.Set {
		return []byte("null"), nil
	}
	return strconv.AppendBool(nil, b.Value), nil
}

// UnmarshalJSON accepts true, false, "true", "false" (any case) and null.
func (b *Bool) UnmarshalJSON(data []byte) error {
	data = bytes.TrimSpace(data)
	text := string(data)
	if text == "null" {
		*b = Bool{}
		return nil
	}
	if len(data) > 0 && data[0] == '"' {
		var s string
		if err := json.Unmarshal(data, &s); err != nil {
			return fmt.Errorf("%w: %s", ErrInvalidBool, truncate(text, 32))
		}
		text = strings.ToLower(s)
	}
	switch text {
	case "true":
		*b = NewBool(true)
	case "false":
		*b = NewBool(false)
	default:
		return fmt.Errorf("%w: %s", ErrInvalidBool, truncate(string(data), 32))
	}
	return nil
}

// truncate shortens s to at most n bytes at a rune boundary, for messages
// that quote untrusted input.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}
