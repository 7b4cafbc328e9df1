// Package jsonpos says where in a JSON document encoding/json stopped, as the line and column an
// editor shows, so an error in a hand-written fixture points at the character to fix.
package jsonpos

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"unicode/utf8"
)

// At is the 1-based line and column (in characters) of byte offset in data. An offset past the
// end is the end.
func At(data []byte, offset int64) (line, col int) {
	if offset > int64(len(data)) {
		offset = int64(len(data))
	}
	line, col = 1, 1
	for i := 0; i < int(offset); {
		r, size := utf8.DecodeRune(data[i:])
		i += size
		if r == '\n' {
			line, col = line+1, 1
		} else {
			col++
		}
	}
	return line, col
}

// Offset is the byte offset encoding/json reports for err (a syntax or type error); ok is false
// for errors that carry none.
func Offset(err error) (offset int64, ok bool) {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return se.Offset, true
	}
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return te.Offset, true
	}
	return 0, false
}

// Where is "line L, column C" for err in data, or "" when err carries no offset. A syntax error's
// offset is just past the bad character, so the column is that character's.
func Where(data []byte, err error) string {
	off, ok := Offset(err)
	if !ok {
		return ""
	}
	var se *json.SyntaxError
	if errors.As(err, &se) && off > 0 {
		off--
	}
	return WhereOffset(data, off)
}

// WhereOffset is "line L, column C" for byte offset in data.
func WhereOffset(data []byte, offset int64) string {
	line, col := At(data, offset)
	return fmt.Sprintf("line %d, column %d", line, col)
}

// KeyOffset is the byte offset of the first object key named key in data (its opening quote),
// for errors encoding/json reports without an offset (an unknown field, a value a type's own
// UnmarshalJSON refused). ok is false when no such key is found.
func KeyOffset(data []byte, key string) (offset int64, ok bool) {
	quoted, err := json.Marshal(key)
	if err != nil {
		return 0, false
	}
	for from := 0; ; {
		i := bytes.Index(data[from:], quoted)
		if i < 0 {
			return 0, false
		}
		at := from + i
		rest := bytes.TrimLeft(data[at+len(quoted):], " \t\r\n")
		if len(rest) > 0 && rest[0] == ':' {
			return int64(at), true
		}
		from = at + len(quoted)
	}
}
