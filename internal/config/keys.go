package config

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"sort"
	"strings"

	yaml "go.yaml.in/yaml/v3"
)

// checkKeys walks the YAML document src along the Go type t (Config) and reports the first key
// that names no field: its path (defaults.escalation[0].notfy), its line and column, and the
// known key it is closest to. Maps take any key; types that decode themselves (Duration) and
// scalars end the walk. A document that does not parse is left to the decoder's error.
func checkKeys(src []byte, t reflect.Type) error {
	var doc yaml.Node
	if err := yaml.Unmarshal(src, &doc); err != nil || len(doc.Content) == 0 {
		return nil
	}
	return walkKeys(doc.Content[0], t, "")
}

var unmarshaler = reflect.TypeFor[json.Unmarshaler]()

func walkKeys(n *yaml.Node, t reflect.Type, path string) error {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if n.Kind == yaml.AliasNode {
		return nil
	}
	if reflect.PointerTo(t).Implements(unmarshaler) {
		return nil
	}
	switch {
	case t.Kind() == reflect.Struct && n.Kind == yaml.MappingNode:
		fields := jsonFields(t)
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			ft, ok := fields[k.Value]
			if !ok {
				return unknownKey(join(path, k.Value), k, fields)
			}
			if err := walkKeys(v, ft, join(path, k.Value)); err != nil {
				return err
			}
		}
	case t.Kind() == reflect.Map && n.Kind == yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			if err := walkKeys(n.Content[i+1], t.Elem(), join(path, n.Content[i].Value)); err != nil {
				return err
			}
		}
	case t.Kind() == reflect.Slice && n.Kind == yaml.SequenceNode:
		for i, v := range n.Content {
			if err := walkKeys(v, t.Elem(), fmt.Sprintf("%s[%d]", path, i)); err != nil {
				return err
			}
		}
	}
	return nil
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// jsonFields maps each JSON name of t's exported fields (embedded structs flattened) to its type.
func jsonFields(t reflect.Type) map[string]reflect.Type {
	out := map[string]reflect.Type{}
	for f := range t.Fields() {
		if !f.IsExported() {
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" {
			continue
		}
		if f.Anonymous && name == "" && f.Type.Kind() == reflect.Struct {
			for k, v := range jsonFields(f.Type) {
				out[k] = v
			}
			continue
		}
		if name == "" {
			name = f.Name
		}
		out[name] = f.Type
	}
	return out
}

func unknownKey(path string, k *yaml.Node, fields map[string]reflect.Type) error {
	known := make([]string, 0, len(fields))
	for name := range fields {
		known = append(known, name)
	}
	msg := fmt.Sprintf("config: unknown key %s (line %d, column %d)", path, k.Line, k.Column)
	if s := closest(k.Value, known); s != "" {
		msg += fmt.Sprintf(": did you mean %s?", s)
	} else {
		sort.Strings(known)
		msg += fmt.Sprintf(": known keys here are %s", strings.Join(known, ", "))
	}
	return fmt.Errorf("%s", msg)
}

// closest is the name in known nearest to s by edit distance, when it is near enough to be a
// typo (at most a third of its length, at least 1); "" otherwise.
func closest(s string, known []string) string {
	sort.Strings(known)
	best, bestD := "", -1
	for _, k := range known {
		if d := levenshtein(s, k); bestD < 0 || d < bestD {
			best, bestD = k, d
		}
	}
	if bestD < 0 || bestD > max(1, len([]rune(s))/3) {
		return ""
	}
	return best
}

func levenshtein(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}

// typeErrorPosition is " (line L, column C)" for a value of the wrong type, found by the dotted
// path encoding/json names (lists are not indexed there: the first element with the key is
// taken); "" when it cannot be told.
func typeErrorPosition(src []byte, err error) string {
	var te *json.UnmarshalTypeError
	if !errors.As(err, &te) || te.Field == "" {
		return ""
	}
	var doc yaml.Node
	if yaml.Unmarshal(src, &doc) != nil || len(doc.Content) == 0 {
		return ""
	}
	if n := find(doc.Content[0], strings.Split(te.Field, ".")); n != nil {
		return fmt.Sprintf(" (line %d, column %d)", n.Line, n.Column)
	}
	return ""
}

func find(n *yaml.Node, path []string) *yaml.Node {
	if len(path) == 0 {
		return n
	}
	switch n.Kind {
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			if n.Content[i].Value == path[0] {
				return find(n.Content[i+1], path[1:])
			}
		}
	case yaml.SequenceNode:
		for _, c := range n.Content {
			if found := find(c, path); found != nil {
				return found
			}
		}
	}
	return nil
}

// checkPolicyKeys refuses a key under policy: that the policy set did not declare, and a value of
// another JSON type than the declared default's: a typo must not pass as a new key.
func checkPolicyKeys(src []byte, declared, got map[string]any) error {
	var doc yaml.Node
	if yaml.Unmarshal(src, &doc) != nil || len(doc.Content) == 0 {
		return nil
	}
	section := find(doc.Content[0], []string{"policy"})
	if section == nil || section.Kind != yaml.MappingNode {
		return nil
	}
	known := make([]string, 0, len(declared))
	for k := range declared {
		known = append(known, k)
	}
	sort.Strings(known)
	for i := 0; i+1 < len(section.Content); i += 2 {
		k := section.Content[i]
		want, ok := declared[k.Value]
		if !ok {
			msg := fmt.Sprintf("config: unknown key policy.%s (line %d, column %d)", k.Value, k.Line, k.Column)
			if s := closest(k.Value, known); s != "" {
				msg += fmt.Sprintf(": did you mean %s?", s)
			} else if len(known) > 0 {
				msg += ": the policy set declares " + strings.Join(known, ", ")
			}
			return fmt.Errorf("%s; a policy set declares its keys, with defaults, under policy: in its data/config.yaml", msg)
		}
		if jsonKind(got[k.Value]) != jsonKind(want) {
			v := section.Content[i+1]
			return fmt.Errorf("config: policy.%s (line %d, column %d): want a %s like the declared default, got a %s",
				k.Value, v.Line, v.Column, jsonKind(want), jsonKind(got[k.Value]))
		}
	}
	return nil
}

// jsonKind names the JSON type of a decoded value.
func jsonKind(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case bool:
		return "boolean"
	case float64, json.Number:
		return "number"
	case string:
		return "string"
	case []any:
		return "list"
	case map[string]any:
		return "mapping"
	}
	return fmt.Sprintf("%T", v)
}
