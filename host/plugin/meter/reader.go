package meter

// reader decodes the binary format; every method fails (panics with a
// decodeError) rather than read past the end.
type reader struct {
	b   []byte
	off int
}

func (r *reader) eof() bool { return r.off >= len(r.b) }

func (r *reader) byte1() byte {
	if r.off >= len(r.b) {
		fail("unexpected end at byte %d", r.off)
	}
	c := r.b[r.off]
	r.off++
	return c
}

func (r *reader) peek() byte {
	if r.off >= len(r.b) {
		fail("unexpected end at byte %d", r.off)
	}
	return r.b[r.off]
}

func (r *reader) bytes(n int) []byte {
	if n < 0 || n > len(r.b)-r.off {
		fail("length %d runs past the end", n)
	}
	s := r.b[r.off : r.off+n]
	r.off += n
	return s
}

// rest returns the unread bytes.
func (r *reader) rest() []byte {
	s := r.b[r.off:]
	r.off = len(r.b)
	return s
}

// u32 reads an unsigned LEB128 of at most 32 bits.
func (r *reader) u32() uint32 {
	var v uint32
	for i := 0; ; i++ {
		c := r.byte1()
		if i == 4 && c > 0x0F {
			fail("integer too large")
		}
		v |= uint32(c&0x7F) << (7 * i)
		if c&0x80 == 0 {
			return v
		}
	}
}

// count reads a vector length, which cannot exceed the bytes left.
func (r *reader) count() int {
	n := r.u32()
	if uint64(n) > uint64(len(r.b)-r.off) {
		fail("vector of %d items runs past the end", n)
	}
	return int(n)
}

// leb skips a (signed) LEB128 of at most max bytes.
func (r *reader) leb(max int) {
	for i := 0; ; i++ {
		if i == max {
			fail("integer too long")
		}
		if r.byte1()&0x80 == 0 {
			return
		}
	}
}

// s33 reads a signed LEB128 of at most 33 bits (a block type).
func (r *reader) s33() int64 {
	var v int64
	var shift uint
	for i := 0; ; i++ {
		if i == 5 {
			fail("block type too long")
		}
		c := r.byte1()
		v |= int64(c&0x7F) << shift
		shift += 7
		if c&0x80 == 0 {
			if c&0x40 != 0 {
				v |= -1 << shift
			}
			return v
		}
	}
}

func (r *reader) name() string {
	return string(r.bytes(int(r.u32())))
}

func (r *reader) valtype() byte {
	switch c := r.byte1(); c {
	case 0x7F, 0x7E, 0x7D, 0x7C, 0x7B, 0x70, 0x6F:
		return c
	default:
		fail("value type 0x%02x is not supported", c)
		return 0
	}
}

func (r *reader) reftype() byte {
	switch c := r.byte1(); c {
	case 0x70, 0x6F:
		return c
	default:
		fail("reference type 0x%02x is not supported", c)
		return 0
	}
}

func (r *reader) limits() {
	switch flags := r.byte1(); flags {
	case 0x00:
		r.u32()
	case 0x01, 0x03: // max (0x03: shared)
		r.u32()
		r.u32()
	case 0x02:
		r.u32()
	default:
		fail("limits flags 0x%02x are not supported", flags)
	}
}

// end fails unless the reader is at its end.
func (r *reader) end(what string) {
	if !r.eof() {
		fail("%s: %d bytes left over", what, len(r.b)-r.off)
	}
}

func appendU32(w []byte, v uint32) []byte {
	for v >= 0x80 {
		w = append(w, byte(v)|0x80)
		v >>= 7
	}
	return append(w, byte(v))
}

func appendS64(w []byte, v int64) []byte {
	for {
		c := byte(v & 0x7F)
		v >>= 7
		if (v == 0 && c&0x40 == 0) || (v == -1 && c&0x40 != 0) {
			return append(w, c)
		}
		w = append(w, c|0x80)
	}
}

func appendName(w []byte, s string) []byte {
	w = appendU32(w, uint32(len(s)))
	return append(w, s...)
}
