package mediaserver

import (
	"math/bits"
	"slices"
	"strconv"
	"unicode/utf8"
)

const hexDigits = "0123456789abcdef"

// appendString appends s as a JSON string. Invalid UTF-8 becomes U+FFFD and
// U+2028/U+2029 are escaped, as encoding/json does, so the output is valid
// JSON and JavaScript.
func appendString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		if i+8 <= len(s) {
			// Eight bytes per step up to the first that needs attention,
			// as in readString.
			m := special8(le64(s, i))
			if m == 0 {
				i += 8
				continue
			}
			i += bits.TrailingZeros64(m) >> 3
		}
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch c {
			case '"', '\\':
				dst = append(dst, '\\', c)
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

// appendStringMap appends m as a JSON object with sorted keys (stable
// output, like encoding/json).
func appendStringMap(dst []byte, m map[string]string) []byte {
	if m == nil {
		return append(dst, "null"...)
	}
	var arr [16]string
	keys := arr[:0]
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	dst = append(dst, '{')
	for i, k := range keys {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = appendString(dst, k)
		dst = append(dst, ':')
		dst = appendString(dst, m[k])
	}
	return append(dst, '}')
}

// object writes the members of one JSON object. The typed parameters use it
// to omit unset (zero) optional fields.
type object struct {
	b []byte
	n int
}

func beginObject(dst []byte) object { return object{b: append(dst, '{')} }

func (o *object) end() []byte { return append(o.b, '}') }

func (o *object) key(name string) {
	b := o.b
	if o.n > 0 {
		b = append(b, ',', '"')
	} else {
		b = append(b, '"')
	}
	o.n++
	b = append(b, name...) // names are constants without escapes
	o.b = append(b, '"', ':')
}

// str writes a string member, omitted when empty.
func (o *object) str(name, v string) {
	if v != "" {
		o.strAlways(name, v)
	}
}

// strAlways writes a required string member.
func (o *object) strAlways(name, v string) {
	o.key(name)
	o.b = appendString(o.b, v)
}

// int writes a number member, omitted when zero (Chime's default applies).
func (o *object) int(name string, v int) {
	if v != 0 {
		o.key(name)
		o.b = strconv.AppendInt(o.b, int64(v), 10)
	}
}

func (o *object) bool(name string, v bool) {
	o.key(name)
	o.b = strconv.AppendBool(o.b, v)
}

// strs writes an array of strings, omitted when nil.
func (o *object) strs(name string, v []string) {
	if v == nil {
		return
	}
	o.key(name)
	o.b = append(o.b, '[')
	for i, s := range v {
		if i > 0 {
			o.b = append(o.b, ',')
		}
		o.b = appendString(o.b, s)
	}
	o.b = append(o.b, ']')
}

// strMap writes an object of strings, omitted when nil.
func (o *object) strMap(name string, m map[string]string) {
	if m != nil {
		o.key(name)
		o.b = appendStringMap(o.b, m)
	}
}

// raw writes a verbatim JSON member, omitted when empty.
func (o *object) raw(name string, v RawJSON) {
	if len(v) > 0 {
		o.key(name)
		o.b = append(o.b, v...)
	}
}

// value writes a nested object member.
func (o *object) value(name string, v Parameters) {
	o.key(name)
	o.b = v.AppendJSON(o.b)
}
