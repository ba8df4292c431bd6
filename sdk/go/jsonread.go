package mediaserver

import (
	"bytes"
	"encoding/binary"
	"math/bits"
	"unicode/utf16"
	"unicode/utf8"
	"unsafe"
)

// maxDepth bounds the nesting of objects and arrays, so a hostile event
// cannot exhaust the guest's stack. Chime events nest 4 levels deep.
const maxDepth = 64

// decoder is a reflection-free JSON reader for the ABI types. encoding/json
// costs ~150 µs per event under Wasm; this costs a few µs. Its semantics
// follow encoding/json.Unmarshal (field names matched exactly, then
// case-insensitively; null leaves strings unchanged and clears maps, slices
// and pointers; invalid UTF-8 becomes U+FFFD), which the fuzz test checks.
type decoder struct {
	data  []byte
	pos   int
	depth int
	buf   []byte // unescaped string scratch, reused
	arena []byte // the decoded strings of one event
	lazy  bool   // decoding for dispatch: see decodeEventLazy
	// trustLayout: the events come from the media server, which writes them
	// in the layout of ABI SPEC section 13 (the reactor build sets it).
	trustLayout bool

	// Storage of the previous event, reused by the next (see recycle).
	spareAttrs  map[string]string
	spareParts  []Participant
	spareAction *ActionData
	// … and of the previous iotcomms callback (see recycleIot).
	spareHeaders map[string]string
	spareDtmf    *DtmfParams
}

// arenaChunk is the least the arena allocates at once: about ten events.
const arenaChunk = 8 << 10

// reset starts decoding data. The arena only ever grows into fresh memory:
// the handler may keep the event's strings, which point into it, so bytes
// handed out are never written again. Events share a chunk until it is
// full, so most events allocate nothing for their strings.
func (d *decoder) reset(data []byte) {
	d.data = data
	d.pos = 0
	d.depth = 0
	if cap(d.arena)-len(d.arena) < len(data) {
		d.arena = make([]byte, 0, max(arenaChunk, len(data)))
	}
}

// detour points d at data for a read aside from the event's decoding and
// returns the state back restores.
func (d *decoder) detour(data []byte, pos, depth int) decoder {
	saved := *d
	d.data, d.pos, d.depth = data, pos, depth
	return saved
}

// back restores the state detour saved, keeping the arena, which holds the
// strings the detour handed out.
func (d *decoder) back(saved decoder) {
	arena := d.arena
	*d = saved
	d.arena = arena
}

// at positions d at offset pos of data (a lazily decoded member of the
// top-level object), keeping the arena.
func (d *decoder) at(data []byte, pos int) {
	d.data, d.pos, d.depth = data, pos, 1
}

// save copies b into the arena and returns it as a string. One arena per
// event instead of one allocation per string: in a Go Wasm guest each
// allocation costs about a microsecond, ten times a string's decoding.
// Bytes once handed out are never written again (append only extends the
// arena, or moves it and leaves the old array to the strings using it).
func (d *decoder) save(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	saved := d.saveBytes(b)
	return unsafe.String(unsafe.SliceData(saved), len(saved))
}

// saveBytes copies b into the arena; the result's capacity is its length,
// so appending to it cannot reach the arena.
func (d *decoder) saveBytes(b []byte) []byte {
	start := len(d.arena)
	d.arena = append(d.arena, b...)
	return d.arena[start:len(d.arena):len(d.arena)]
}

func (d *decoder) fail(err error) error { return &JSONError{Offset: d.pos, Err: err} }

func (d *decoder) ws() {
	// The host sends compact JSON: test before entering the loop, since
	// under wazero's deadline checks every loop entry costs a call.
	if d.pos < len(d.data) && d.data[d.pos] > ' ' {
		return
	}
	for d.pos < len(d.data) {
		switch d.data[d.pos] {
		case ' ', '\t', '\n', '\r':
			d.pos++
		default:
			return
		}
	}
}

// peek skips whitespace and returns the next byte, or 0 at the end.
func (d *decoder) peek() byte {
	d.ws()
	if d.pos >= len(d.data) {
		return 0
	}
	return d.data[d.pos]
}

// end checks that only whitespace follows the top-level value.
func (d *decoder) end() error {
	if d.peek() != 0 || d.pos < len(d.data) {
		return d.fail(ErrSyntax)
	}
	return nil
}

func (d *decoder) literal(lit string) error {
	if len(d.data)-d.pos < len(lit) || string(d.data[d.pos:d.pos+len(lit)]) != lit {
		return d.fail(ErrSyntax)
	}
	d.pos += len(lit)
	return nil
}

// null consumes a null literal if one is next.
func (d *decoder) null() (bool, error) {
	if d.peek() != 'n' {
		return false, nil
	}
	return true, d.literal("null")
}

// readString reads a string at d.pos. The result aliases the input or the
// scratch buffer: it is valid until the next readString.
func (d *decoder) readString() ([]byte, error) {
	if d.pos >= len(d.data) || d.data[d.pos] != '"' {
		return nil, d.fail(ErrSyntax)
	}
	start := d.pos + 1
	i := start
	// Eight bytes per iteration, jumping straight to the first byte that
	// needs attention: loop iterations, not bytes, are what costs most in
	// a Wasm guest under wazero's deadline checks.
	for i+8 <= len(d.data) {
		m := special8(binary.LittleEndian.Uint64(d.data[i:]))
		if m == 0 {
			i += 8
			continue
		}
		i += bits.TrailingZeros64(m) >> 3
		switch c := d.data[i]; {
		case c == '"':
			d.pos = i + 1
			return d.data[start:i], nil
		case c >= utf8.RuneSelf:
			r, size := utf8.DecodeRune(d.data[i:])
			if r == utf8.RuneError && size == 1 {
				return d.readStringSlow(start, i)
			}
			i += size
		default:
			return d.readStringSlow(start, i)
		}
	}
	for i < len(d.data) {
		c := d.data[i]
		switch {
		case c == '"':
			d.pos = i + 1
			return d.data[start:i], nil
		case c == '\\' || c < 0x20:
			return d.readStringSlow(start, i)
		case c >= utf8.RuneSelf:
			r, size := utf8.DecodeRune(d.data[i:])
			if r == utf8.RuneError && size == 1 {
				return d.readStringSlow(start, i)
			}
			i += size
		default:
			i++
		}
	}
	d.pos = i
	return nil, d.fail(ErrSyntax)
}

const (
	ones  = 0x0101010101010101
	highs = 0x8080808080808080
)

// special8 flags, in the high bit of each byte of x (little-endian), the
// bytes a JSON string scan must stop at: a quote, a backslash, a control
// character or non-ASCII. The lowest flag is exact, so TrailingZeros64/8
// is the index of the first such byte (the SWAR tests of "Bit Twiddling
// Hacks"; borrows only run upward from a true match).
// See https://graphics.stanford.edu/~seander/bithacks.html#ValueInWord
func special8(x uint64) uint64 {
	q := x ^ (ones * '"')
	b := x ^ (ones * '\\')
	m := (q - ones) &^ q
	m |= (b - ones) &^ b
	m |= (x - ones*0x20) &^ x
	return (m | x) & highs
}

func (d *decoder) readStringSlow(start, i int) ([]byte, error) {
	b := append(d.buf[:0], d.data[start:i]...)
	data := d.data
	for i < len(data) {
		c := data[i]
		switch {
		case c == '"':
			d.pos = i + 1
			d.buf = b
			return b, nil
		case c < 0x20:
			d.pos = i
			return nil, d.fail(ErrSyntax)
		case c == '\\':
			if i+1 >= len(data) {
				d.pos = i
				return nil, d.fail(ErrSyntax)
			}
			switch data[i+1] {
			case '"', '\\', '/':
				b = append(b, data[i+1])
			case 'b':
				b = append(b, '\b')
			case 'f':
				b = append(b, '\f')
			case 'n':
				b = append(b, '\n')
			case 'r':
				b = append(b, '\r')
			case 't':
				b = append(b, '\t')
			case 'u':
				r := hex4(data[i+2:])
				if r < 0 {
					d.pos = i
					return nil, d.fail(ErrSyntax)
				}
				i += 6
				if utf16.IsSurrogate(r) {
					// A valid pair becomes one rune; anything else is U+FFFD
					// and the next escape is read on its own (as encoding/json).
					r2 := rune(-1)
					if i+1 < len(data) && data[i] == '\\' && data[i+1] == 'u' {
						r2 = hex4(data[i+2:])
					}
					if dec := utf16.DecodeRune(r, r2); dec != utf8.RuneError {
						r = dec
						i += 6
					} else {
						r = utf8.RuneError
					}
				}
				b = utf8.AppendRune(b, r)
				continue
			default:
				d.pos = i
				return nil, d.fail(ErrSyntax)
			}
			i += 2
		case c < utf8.RuneSelf:
			b = append(b, c)
			i++
		default:
			r, size := utf8.DecodeRune(data[i:])
			if r == utf8.RuneError && size == 1 {
				b = utf8.AppendRune(b, utf8.RuneError)
			} else {
				b = append(b, data[i:i+size]...)
			}
			i += size
		}
	}
	d.pos = i
	d.buf = b
	return nil, d.fail(ErrSyntax)
}

func hex4(b []byte) rune {
	if len(b) < 4 {
		return -1
	}
	var r rune
	for _, c := range b[:4] {
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= c && c <= 'f':
			c = c - 'a' + 10
		case 'A' <= c && c <= 'F':
			c = c - 'A' + 10
		default:
			return -1
		}
		r = r<<4 | rune(c)
	}
	return r
}

// number reads a JSON number (RFC 8259 grammar) and returns its bytes.
func (d *decoder) number() ([]byte, error) {
	data := d.data
	start := d.pos
	i := start
	if i < len(data) && data[i] == '-' {
		i++
	}
	switch {
	case i < len(data) && data[i] == '0':
		i++
	case i < len(data) && '1' <= data[i] && data[i] <= '9':
		for i < len(data) && isDigit(data[i]) {
			i++
		}
	default:
		d.pos = i
		return nil, d.fail(ErrSyntax)
	}
	if i < len(data) && data[i] == '.' {
		i++
		if i >= len(data) || !isDigit(data[i]) {
			d.pos = i
			return nil, d.fail(ErrSyntax)
		}
		for i < len(data) && isDigit(data[i]) {
			i++
		}
	}
	if i < len(data) && (data[i] == 'e' || data[i] == 'E') {
		i++
		if i < len(data) && (data[i] == '+' || data[i] == '-') {
			i++
		}
		if i >= len(data) || !isDigit(data[i]) {
			d.pos = i
			return nil, d.fail(ErrSyntax)
		}
		for i < len(data) && isDigit(data[i]) {
			i++
		}
	}
	d.pos = i
	return data[start:i], nil
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// validNumber reports whether s is exactly one JSON number.
func validNumber(s []byte) bool {
	if len(s) == 0 {
		return false
	}
	d := decoder{data: s}
	if _, err := d.number(); err != nil {
		return false
	}
	return d.pos == len(s)
}

// skipValue validates and skips one value of any type.
func (d *decoder) skipValue() error {
	switch c := d.peek(); c {
	case '{':
		if err := d.enter(); err != nil {
			return err
		}
		for i := 0; ; i++ {
			_, more, err := d.objectNext(i)
			if err != nil {
				return err
			}
			if !more {
				return nil
			}
			if err := d.skipValue(); err != nil {
				return err
			}
		}
	case '[':
		if err := d.enter(); err != nil {
			return err
		}
		for i := 0; ; i++ {
			more, err := d.arrayNext(i)
			if err != nil {
				return err
			}
			if !more {
				return nil
			}
			if err := d.skipValue(); err != nil {
				return err
			}
		}
	case '"':
		_, err := d.readString()
		return err
	case 't':
		return d.literal("true")
	case 'f':
		return d.literal("false")
	case 'n':
		return d.literal("null")
	default:
		_, err := d.number()
		return err
	}
}

// skipFast skips one value without decoding it. An object or array is
// crossed 64 bytes per loop iteration (every iteration costs a call out of
// the guest under the host's deadline checks): branch-free bit masks mark
// quotes and brackets, a prefix XOR of the quotes marks string bodies, and
// counting brackets outside strings finds the end. A block with a
// backslash, or deep nesting, takes skipChecked instead. The grammar
// between brackets is not checked, nor whether brackets match in kind: the
// host writes valid JSON, and whatever is later decoded from the value is
// checked in full.
func (d *decoder) skipFast() error {
	c := d.peek()
	if c != '{' && c != '[' {
		return d.skipValue()
	}
	data := d.data
	var inString uint64 // all ones when the previous block ended inside a string
	depth := 0
	var tail [64]byte
	for i := d.pos; i < len(data); i += 64 {
		blk := data[i:]
		if len(blk) < 64 {
			copy(tail[:], blk) // the rest stays zero: no flags
			blk = tail[:]
		}
		blk = blk[:64]
		x0 := binary.LittleEndian.Uint64(blk[0:])
		l0 := x0 | ones*0x20 // '[' and ']' are '{' and '}' without bit 0x20
		x1 := binary.LittleEndian.Uint64(blk[8:])
		l1 := x1 | ones*0x20
		x2 := binary.LittleEndian.Uint64(blk[16:])
		l2 := x2 | ones*0x20
		x3 := binary.LittleEndian.Uint64(blk[24:])
		l3 := x3 | ones*0x20
		x4 := binary.LittleEndian.Uint64(blk[32:])
		l4 := x4 | ones*0x20
		x5 := binary.LittleEndian.Uint64(blk[40:])
		l5 := x5 | ones*0x20
		x6 := binary.LittleEndian.Uint64(blk[48:])
		l6 := x6 | ones*0x20
		x7 := binary.LittleEndian.Uint64(blk[56:])
		l7 := x7 | ones*0x20
		backslashes := zeroBytes(x0^ones*'\\') | zeroBytes(x1^ones*'\\') | zeroBytes(x2^ones*'\\') | zeroBytes(x3^ones*'\\') |
			zeroBytes(x4^ones*'\\') | zeroBytes(x5^ones*'\\') | zeroBytes(x6^ones*'\\') | zeroBytes(x7^ones*'\\')
		if backslashes != 0 {
			return d.skipChecked() // escapes: quotes are no longer all delimiters
		}
		quotes := gather8(zeroBytes(x0^ones*'"'))<<0 |
			gather8(zeroBytes(x1^ones*'"'))<<8 |
			gather8(zeroBytes(x2^ones*'"'))<<16 |
			gather8(zeroBytes(x3^ones*'"'))<<24 |
			gather8(zeroBytes(x4^ones*'"'))<<32 |
			gather8(zeroBytes(x5^ones*'"'))<<40 |
			gather8(zeroBytes(x6^ones*'"'))<<48 |
			gather8(zeroBytes(x7^ones*'"'))<<56
		opens := gather8(zeroBytes(l0^ones*'{'))<<0 |
			gather8(zeroBytes(l1^ones*'{'))<<8 |
			gather8(zeroBytes(l2^ones*'{'))<<16 |
			gather8(zeroBytes(l3^ones*'{'))<<24 |
			gather8(zeroBytes(l4^ones*'{'))<<32 |
			gather8(zeroBytes(l5^ones*'{'))<<40 |
			gather8(zeroBytes(l6^ones*'{'))<<48 |
			gather8(zeroBytes(l7^ones*'{'))<<56
		closes := gather8(zeroBytes(l0^ones*'}'))<<0 |
			gather8(zeroBytes(l1^ones*'}'))<<8 |
			gather8(zeroBytes(l2^ones*'}'))<<16 |
			gather8(zeroBytes(l3^ones*'}'))<<24 |
			gather8(zeroBytes(l4^ones*'}'))<<32 |
			gather8(zeroBytes(l5^ones*'}'))<<40 |
			gather8(zeroBytes(l6^ones*'}'))<<48 |
			gather8(zeroBytes(l7^ones*'}'))<<56
		// Bit k of in is set from an opening quote up to (not including)
		// its closing quote.
		in := quotes
		in ^= in << 1
		in ^= in << 2
		in ^= in << 4
		in ^= in << 8
		in ^= in << 16
		in ^= in << 32
		in ^= inString
		inString = uint64(int64(in) >> 63)
		opens &^= in
		closes &^= in
		no, nc := bits.OnesCount64(opens), bits.OnesCount64(closes)
		if d.depth+depth+no >= maxDepth {
			return d.skipChecked() // let the exact check report it
		}
		if depth-nc > 0 {
			depth += no - nc
			continue
		}
		// The value may end in this block: walk its brackets in order.
		for m := opens | closes; m != 0; m &= m - 1 {
			k := bits.TrailingZeros64(m)
			if opens>>k&1 != 0 {
				depth++
				continue
			}
			if depth--; depth == 0 {
				if i+k >= len(data) {
					break
				}
				d.pos = i + k + 1
				return nil
			}
		}
	}
	return d.skipChecked() // unterminated: report where
}

// gather8 packs the high bit of each byte of m into one byte, byte 0 first.
func gather8(m uint64) uint64 { return (m & highs) * 0x0002040810204081 >> 56 }

// skipChecked skips an object or array at d.pos, crossing it from one quote
// or bracket to the next and checking strings, bracket kinds and depth.
func (d *decoder) skipChecked() error {
	data := d.data
	var objects uint64 // bit r: the container at relative depth r is an object
	if data[d.pos] == '{' {
		objects = 1
	}
	r := 0
	i := d.pos + 1
	for {
		i = nextStructural(data, i)
		if i >= len(data) {
			d.pos = i
			return d.fail(ErrSyntax)
		}
		switch c := data[i]; c {
		case '"':
			d.pos = i
			if _, err := d.readString(); err != nil {
				return err
			}
			i = d.pos
			continue
		case '{', '[':
			r++
			if d.depth+r >= maxDepth || r >= 64 {
				d.pos = i
				return d.fail(ErrTooDeep)
			}
			objects &^= 1 << r
			if c == '{' {
				objects |= 1 << r
			}
		default: // '}' or ']'
			if (objects>>r)&1 == 1 != (c == '}') {
				d.pos = i
				return d.fail(ErrSyntax)
			}
			if r == 0 {
				d.pos = i + 1
				return nil
			}
			r--
		}
		i++
	}
}

// nextStructural returns the index of the first '"', '{', '}', '[' or ']'
// at or after i, or len(data).
func nextStructural(data []byte, i int) int {
	for i+8 <= len(data) {
		x := binary.LittleEndian.Uint64(data[i:])
		l := x | ones*0x20 // '[' and ']' are '{' and '}' without bit 0x20
		if m := zeroBytes(x^(ones*'"')) | zeroBytes(l^(ones*'{')) | zeroBytes(l^(ones*'}')); m != 0 {
			return i + bits.TrailingZeros64(m)>>3
		}
		i += 8
	}
	for ; i < len(data); i++ {
		if c := data[i]; c == '"' || c|0x20 == '{' || c|0x20 == '}' {
			return i
		}
	}
	return i
}

// zeroBytes flags the zero bytes of x exactly: unlike the test in special8
// no borrow spills into the next byte, so every flag is true.
// See https://graphics.stanford.edu/~seander/bithacks.html#ZeroInWord
func zeroBytes(x uint64) uint64 {
	const lows = 0x7f7f7f7f7f7f7f7f
	return ^(((x & lows) + lows) | x | lows)
}

// rawValue validates one value and returns a copy of its bytes. Decoding
// lazily, it only crosses the value (see skipFast): RawJSON's readers
// check what they read.
func (d *decoder) rawValue(old RawJSON) (RawJSON, error) {
	d.ws()
	start := d.pos
	skip := d.skipValue
	if d.lazy {
		skip = d.skipFast
	}
	if err := skip(); err != nil {
		return nil, err
	}
	return d.saveBytes(d.data[start:d.pos]), nil
}

// enter consumes '{' or '[' and counts the depth.
func (d *decoder) enter() error {
	if d.depth >= maxDepth {
		return d.fail(ErrTooDeep)
	}
	d.depth++
	d.pos++
	return nil
}

// beginObject consumes '{' or a null (null = true). Any other value is a
// type error.
func (d *decoder) beginObject() (null bool, err error) {
	switch d.peek() {
	case '{':
		return false, d.enter()
	case 'n':
		return true, d.literal("null")
	}
	return false, d.wrongType()
}

// beginArray is beginObject for '['.
func (d *decoder) beginArray() (null bool, err error) {
	switch d.peek() {
	case '[':
		return false, d.enter()
	case 'n':
		return true, d.literal("null")
	}
	return false, d.wrongType()
}

// objectNext moves to member i of an object: it returns its key (valid
// until the next string read) with the ':' consumed, or more = false after
// the closing '}'.
func (d *decoder) objectNext(i int) (key []byte, more bool, err error) {
	c := d.peek()
	if c == '}' {
		d.pos++
		d.depth--
		return nil, false, nil
	}
	if i > 0 {
		if c != ',' {
			return nil, false, d.fail(ErrSyntax)
		}
		d.pos++
		c = d.peek()
	}
	if c != '"' {
		return nil, false, d.fail(ErrSyntax)
	}
	key, err = d.readString()
	if err != nil {
		return nil, false, err
	}
	if d.peek() != ':' {
		return nil, false, d.fail(ErrSyntax)
	}
	d.pos++
	return key, true, nil
}

// arrayNext moves to element i of an array, or returns more = false after
// the closing ']'.
func (d *decoder) arrayNext(i int) (more bool, err error) {
	c := d.peek()
	if c == ']' {
		d.pos++
		d.depth--
		return false, nil
	}
	if i > 0 {
		if c != ',' {
			return false, d.fail(ErrSyntax)
		}
		d.pos++
		c = d.peek()
	}
	if c == 0 || c == ']' {
		return false, d.fail(ErrSyntax)
	}
	return true, nil
}

// wrongType reports a value that does not fit its field: ErrType, or
// ErrSyntax when no JSON value starts here at all.
func (d *decoder) wrongType() error {
	switch c := d.peek(); {
	case c == '{' || c == '[' || c == '"' || c == 't' || c == 'f' || c == 'n' || c == '-' || isDigit(c):
		return d.fail(ErrType)
	}
	return d.fail(ErrSyntax)
}

// str decodes a string value; null keeps old (as encoding/json does).
func (d *decoder) str(old string) (string, error) {
	switch d.peek() {
	case '"':
		b, err := d.readString()
		if err != nil {
			return "", err
		}
		return d.save(b), nil
	case 'n':
		return old, d.literal("null")
	}
	return "", d.wrongType()
}

// stringMap decodes an object of strings into m (allocated when nil); null
// yields nil.
func (d *decoder) stringMap(m map[string]string) (map[string]string, error) {
	null, err := d.beginObject()
	if err != nil || null {
		return nil, err
	}
	if m == nil {
		m = make(map[string]string)
	}
	for i := 0; ; i++ {
		key, more, err := d.objectNext(i)
		if err != nil {
			return nil, err
		}
		if !more {
			return m, nil
		}
		k := d.save(key)
		v, err := d.str("")
		if err != nil {
			return nil, err
		}
		m[k] = v
	}
}

// foldField is the slow path of the field lookups: no exact match, so
// match case-insensitively (Unicode simple folding, as encoding/json does),
// or return -1.
func foldField(key []byte, names []string) int {
	ascii := isASCII(key)
	for i, n := range names {
		if ascii && len(n) != len(key) {
			continue // ASCII folds only to ASCII of the same length
		}
		if bytes.EqualFold(key, []byte(n)) {
			return i
		}
	}
	return -1
}

func isASCII(b []byte) bool {
	var acc byte
	for _, c := range b {
		acc |= c
	}
	return acc < utf8.RuneSelf
}

// eq reports whether b equals s. Unlike string(b) == s, whose Wasm
// implementation loops per byte, it compares 8 bytes per step.
func eq(b []byte, s string) bool {
	n := len(s)
	if len(b) != n {
		return false
	}
	switch {
	case n >= 8:
		for i := 0; i+8 < n; i += 8 {
			if binary.LittleEndian.Uint64(b[i:]) != le64(s, i) {
				return false
			}
		}
		return binary.LittleEndian.Uint64(b[n-8:]) == le64(s, n-8)
	case n >= 4:
		return binary.LittleEndian.Uint32(b) == le32(s, 0) && binary.LittleEndian.Uint32(b[n-4:]) == le32(s, n-4)
	case n == 3:
		return b[0] == s[0] && b[1] == s[1] && b[2] == s[2]
	case n == 2:
		return b[0] == s[0] && b[1] == s[1]
	case n == 1:
		return b[0] == s[0]
	}
	return true
}

func le64(s string, i int) uint64 {
	_ = s[i+7]
	return uint64(s[i]) | uint64(s[i+1])<<8 | uint64(s[i+2])<<16 | uint64(s[i+3])<<24 |
		uint64(s[i+4])<<32 | uint64(s[i+5])<<40 | uint64(s[i+6])<<48 | uint64(s[i+7])<<56
}

func le32(s string, i int) uint32 {
	_ = s[i+3]
	return uint32(s[i]) | uint32(s[i+1])<<8 | uint32(s[i+2])<<16 | uint32(s[i+3])<<24
}
