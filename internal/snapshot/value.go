package snapshot

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
)

// Value is one side of a Change: absent, a text (a quantity like "4Gi", an image, a token), a
// number, a bool or a traffic split. It is decoded once, where JSON is read, so no consumer of a
// change switches on a dynamic type; its JSON is what the planner has always written (a string,
// a number, a bool, an array of traffic targets, or null when absent), so plan files, ledger
// entries and audit events written before it existed read back unchanged. The zero Value is
// absent. Modelled on log/slog's Value: constructors named after the kind, accessors named after
// the Go type they return.
type Value struct {
	kind  Kind
	text  string          // KindText: the text; KindNumber: the number as JSON writes it
	flag  bool            // KindBool
	split []TrafficTarget // KindTraffic: never nil
}

// Kind is the closed set of shapes a Value takes.
type Kind uint8

// The kinds of Value. KindNull is the zero Kind, so a Value nobody set is absent.
const (
	KindNull Kind = iota
	KindText
	KindNumber
	KindBool
	KindTraffic
)

// TextValue returns a text value: a quantity ("4Gi", "1000m"), an image reference or a token.
func TextValue(s string) Value { return Value{kind: KindText, text: s} }

// IntValue returns a whole number (max_concurrency).
func IntValue(n int) Value { return Value{kind: KindNumber, text: strconv.Itoa(n)} }

// BoolValue returns a bool.
func BoolValue(b bool) Value { return Value{kind: KindBool, flag: b} }

// TrafficValue returns a traffic split. A nil split is absent, as it always encoded as null; an
// empty one is an empty split.
func TrafficValue(ts []TrafficTarget) Value {
	if ts == nil {
		return Value{}
	}
	return Value{kind: KindTraffic, split: ts}
}

// Kind reports the shape of v.
func (v Value) Kind() Kind { return v.kind }

// IsNull reports whether v is absent.
func (v Value) IsNull() bool { return v.kind == KindNull }

// Text reads v as the text Cloud Run uses for it: a text as is, a whole number written bare
// ("2" for a cpu a JSON document wrote as 2). ok is false for anything else.
func (v Value) Text() (s string, ok bool) {
	switch v.kind {
	case KindText:
		return v.text, true
	case KindNumber:
		if n, err := v.Int(); err == nil && math.Abs(float64(n)) < 1e15 {
			return strconv.FormatInt(n, 10), true
		}
	}
	return "", false
}

// Int reads v as a whole number.
func (v Value) Int() (int64, error) {
	if v.kind != KindNumber {
		return 0, fmt.Errorf("%s is not a number", v)
	}
	if n, err := strconv.ParseInt(v.text, 10, 64); err == nil {
		return n, nil
	}
	f, err := strconv.ParseFloat(v.text, 64)
	if err != nil || f != math.Trunc(f) || math.Abs(f) >= math.MaxInt64 {
		return 0, fmt.Errorf("%s is not a whole number", v.text)
	}
	return int64(f), nil
}

// Float reads v as a number.
func (v Value) Float() (float64, bool) {
	if v.kind != KindNumber {
		return 0, false
	}
	f, err := strconv.ParseFloat(v.text, 64)
	return f, err == nil
}

// Bool reads v as a bool. ok is false for anything else.
func (v Value) Bool() (b, ok bool) { return v.flag, v.kind == KindBool }

// Traffic reads v as a traffic split. An absent value is no split: nil, nil.
func (v Value) Traffic() ([]TrafficTarget, error) {
	switch v.kind {
	case KindTraffic:
		return v.split, nil
	case KindNull:
		return nil, nil
	}
	return nil, fmt.Errorf("%s is not a traffic split", v)
}

// Equal reports whether v and w are the same value; numbers compare as written. go-cmp uses it.
func (v Value) Equal(w Value) bool {
	if v.kind != w.kind || v.text != w.text || v.flag != w.flag || len(v.split) != len(w.split) {
		return false
	}
	for i := range v.split {
		if v.split[i] != w.split[i] {
			return false
		}
	}
	return true
}

// String writes v for people and error messages: a text or number as is, a split as its JSON.
func (v Value) String() string {
	switch v.kind {
	case KindText, KindNumber:
		return v.text
	case KindBool:
		return strconv.FormatBool(v.flag)
	case KindTraffic:
		b, _ := v.MarshalJSON()
		return string(b)
	}
	return "null"
}

// MarshalJSON writes v as it has always been written. Strings are left unescaped for HTML: the
// encoder escapes them or not as it was told to, as it does for a plain string.
func (v Value) MarshalJSON() ([]byte, error) {
	switch v.kind {
	case KindNumber:
		return []byte(v.text), nil
	case KindBool:
		return strconv.AppendBool(nil, v.flag), nil
	case KindText:
		if plain(v.text) {
			b := make([]byte, 0, len(v.text)+2)
			return append(append(append(b, '"'), v.text...), '"'), nil
		}
		return encode(v.text)
	case KindTraffic:
		return encode(v.split)
	}
	return []byte("null"), nil
}

// plain reports whether s is written in JSON as is, between quotes: printable ASCII without a
// quote or a backslash, as quantities, images and tokens are.
func plain(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f || c == '"' || c == '\\' {
			return false
		}
	}
	return true
}

func encode(x any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(x); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}

// UnmarshalJSON reads a string, a number, a bool, an array of traffic targets or null. Anything
// else (an object, an array of something else) is an error that quotes it.
func (v *Value) UnmarshalJSON(data []byte) error {
	data = bytes.TrimSpace(data)
	if len(data) == 0 {
		*v = Value{}
		return nil
	}
	switch c := data[0]; {
	case c == 'n':
		*v = Value{}
	case c == 't' || c == 'f':
		*v = BoolValue(c == 't')
	case c == '"':
		var s string
		if err := json.Unmarshal(data, &s); err != nil {
			return err
		}
		*v = TextValue(s)
	case c == '-' || c >= '0' && c <= '9':
		if !json.Valid(data) {
			return fmt.Errorf("%s is not a number", quote(data))
		}
		*v = Value{kind: KindNumber, text: string(data)}
	case c == '[':
		ts := []TrafficTarget{}
		if err := json.Unmarshal(data, &ts); err != nil {
			return fmt.Errorf("%s is not a traffic split", quote(data))
		}
		*v = Value{kind: KindTraffic, split: ts}
	default:
		return fmt.Errorf("%s is not a string, number, bool or traffic split", quote(data))
	}
	return nil
}

// quote writes raw JSON on one line, shortened, for an error.
func quote(data []byte) string {
	const limit = 60
	var b bytes.Buffer
	if json.Compact(&b, data) != nil {
		b.Reset()
		b.Write(data)
	}
	s := []rune(b.String())
	if len(s) > limit {
		return strconv.Quote(string(s[:limit]) + "…")
	}
	return string(s)
}

// UnmarshalJSON reads a change, naming its path when a value does not fit.
func (c *Change) UnmarshalJSON(data []byte) error {
	var raw changeJSON
	if err := json.Unmarshal(data, &raw); err != nil {
		return err
	}
	out := Change{Path: raw.Path}
	if err := out.Before.UnmarshalJSON(raw.Before); err != nil {
		return fmt.Errorf("change %s: before: %w", raw.Path, err)
	}
	if err := out.After.UnmarshalJSON(raw.After); err != nil {
		return fmt.Errorf("change %s: after: %w", raw.Path, err)
	}
	*c = out
	return nil
}

// changeJSON is a Change as JSON has it, before its values are read.
type changeJSON struct {
	Path   string          `json:"path"`
	Before json.RawMessage `json:"before"`
	After  json.RawMessage `json:"after"`
}
