package mediaserver

// RawJSON is a JSON value kept verbatim, such as ActionData.Parameters.
type RawJSON []byte

// AppendJSON appends r (or null when empty) to dst; RawJSON is Parameters.
func (r RawJSON) AppendJSON(dst []byte) []byte {
	if len(r) == 0 {
		return append(dst, "null"...)
	}
	return append(dst, r...)
}

// Get returns the value at path (object member names, outermost first);
// ErrNotFound when a member is missing or a value on the way is not an
// object. Members are matched exactly.
func (r RawJSON) Get(path ...string) (RawJSON, error) {
	d := decoder{data: r}
	if err := d.seek(path); err != nil {
		return nil, err
	}
	start := d.pos
	if err := d.skipValue(); err != nil {
		return nil, err
	}
	return r[start:d.pos:d.pos], nil
}

// String returns the string at path; ErrNotFound if absent or null, ErrType
// if it is not a string.
func (r RawJSON) String(path ...string) (string, error) {
	d := decoder{data: r}
	if err := d.seek(path); err != nil {
		return "", err
	}
	if d.peek() == 'n' {
		return "", ErrNotFound
	}
	if d.peek() != '"' {
		return "", d.fail(ErrType)
	}
	b, err := d.readString()
	if err != nil {
		return "", err
	}
	return string(b), nil
}

// StringMap returns the object of strings at path, such as the Arguments
// of a CALL_UPDATE_REQUESTED event.
func (r RawJSON) StringMap(path ...string) (map[string]string, error) {
	d := decoder{data: r}
	if err := d.seek(path); err != nil {
		return nil, err
	}
	m, err := d.stringMap(nil)
	if err != nil {
		return nil, err
	}
	if m == nil {
		return nil, ErrNotFound
	}
	return m, nil
}

// seek positions d at the value of path. The bytes before it are validated
// on the way; the rest is not read.
func (d *decoder) seek(path []string) error {
	for _, name := range path {
		null, err := d.beginObject()
		if err != nil {
			if d.peek() != 0 {
				return ErrNotFound // not an object
			}
			return err
		}
		if null {
			return ErrNotFound
		}
		found := false
		for i := 0; ; i++ {
			key, more, err := d.objectNext(i)
			if err != nil {
				return err
			}
			if !more {
				break
			}
			if eq(key, name) {
				found = true
				break
			}
			if err := d.skipValue(); err != nil {
				return err
			}
		}
		if !found {
			return ErrNotFound
		}
	}
	if d.peek() == 0 {
		return d.fail(ErrSyntax)
	}
	return nil
}
