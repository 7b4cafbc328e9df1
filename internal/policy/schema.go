package policy

import (
	"bytes"
	"encoding"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"time"
)

// InputSchemaFile is where the input's JSON Schema ships, beside the policies, for authors'
// editors and for `opa check --schema`.
const InputSchemaFile = "input.schema.json"

// InputSchema is the JSON Schema of Input, derived from the Go types the input is built from, so
// it cannot drift from what policies receive. Objects are closed (additionalProperties false):
// a misspelt key such as input.signals.memroy_now is a type error, not an undefined rule.
func InputSchema() map[string]any {
	s := schemaOf(reflect.TypeFor[Input]())
	s["$schema"] = "http://json-schema.org/draft-07/schema#"
	s["title"] = "runmedic policy input"
	s["description"] = "What runmedic's Rego policies see as input: the snapshot plus the signals Go computes. Generated from internal/policy.Input; regenerate with go test ./internal/policy -run TestInputSchemaFile -update."
	return s
}

// InputSchemaJSON is InputSchema as the file holds it: indented, keys sorted, a final newline.
func InputSchemaJSON() ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(InputSchema()); err != nil {
		return nil, fmt.Errorf("encode input schema: %w", err)
	}
	return b.Bytes(), nil
}

var (
	timeType      = reflect.TypeFor[time.Time]()
	marshalerType = reflect.TypeFor[json.Marshaler]()
	textType      = reflect.TypeFor[encoding.TextMarshaler]()
)

// schemaOf is the schema of the JSON encoding of t.
func schemaOf(t reflect.Type) map[string]any {
	if t == timeType {
		return map[string]any{"type": "string", "format": "date-time"}
	}
	if t == roundedNumberType {
		return map[string]any{"type": "number"}
	}
	if t.Implements(marshalerType) || t.Implements(textType) {
		return map[string]any{} // encodes itself: any value
	}
	switch t.Kind() {
	case reflect.Pointer:
		return schemaOf(t.Elem())
	case reflect.Bool:
		return map[string]any{"type": "boolean"}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return map[string]any{"type": "integer"}
	case reflect.Float32, reflect.Float64:
		return map[string]any{"type": "number"}
	case reflect.String:
		return map[string]any{"type": "string"}
	case reflect.Slice, reflect.Array:
		return map[string]any{"type": "array", "items": schemaOf(t.Elem())}
	case reflect.Map:
		return map[string]any{"type": "object", "additionalProperties": schemaOf(t.Elem())}
	case reflect.Struct:
		props := map[string]any{}
		addFields(t, props)
		return map[string]any{"type": "object", "properties": props, "additionalProperties": false}
	}
	return map[string]any{}
}

// addFields adds the JSON fields of struct t to props, embedded structs flattened as
// encoding/json does.
func addFields(t reflect.Type, props map[string]any) {
	for f := range t.Fields() {
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" || !f.IsExported() && !f.Anonymous {
			continue
		}
		if f.Anonymous && name == "" {
			ft := f.Type
			if ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			if ft.Kind() == reflect.Struct {
				addFields(ft, props)
				continue
			}
		}
		if name == "" {
			name = f.Name
		}
		props[name] = schemaOf(f.Type)
	}
}
