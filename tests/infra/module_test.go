// Package infra_test parses infra/ with HCL and asserts its safety properties. No Google
// provider can be downloaded here, so `terraform validate` cannot run; these checks read the
// configuration itself and evaluate what can be evaluated without a provider.
package infra_test

import (
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/ext/tryfunc"
	"github.com/hashicorp/hcl/v2/hclparse"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/function"
	"github.com/zclconf/go-cty/cty/function/stdlib"
)

// module is infra/ parsed: its top-level blocks and the source they came from.
type module struct {
	dir    string
	blocks []*hclsyntax.Block
	src    map[string][]byte
	vars   map[string]cty.Value // variable defaults
	locals map[string]cty.Value // locals that evaluate without a provider; others are unknown
}

func infraDir(t *testing.T) string {
	t.Helper()
	dir, err := filepath.Abs(filepath.Join("..", "..", "infra"))
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

func load(t *testing.T) *module {
	t.Helper()
	return loadDir(t, infraDir(t))
}

// loadDir parses the Terraform module in dir.
func loadDir(t *testing.T, dir string) *module {
	t.Helper()
	m := &module{dir: dir, src: map[string][]byte{}, vars: map[string]cty.Value{}, locals: map[string]cty.Value{}}
	files, err := filepath.Glob(filepath.Join(m.dir, "*.tf"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no .tf files in %s (err %v)", m.dir, err)
	}
	sort.Strings(files)
	p := hclparse.NewParser()
	for _, f := range files {
		file, diags := p.ParseHCLFile(f)
		if diags.HasErrors() {
			t.Fatalf("parse %s: %s", f, diags.Error())
		}
		m.src[f] = file.Bytes
		m.blocks = append(m.blocks, file.Body.(*hclsyntax.Body).Blocks...)
	}
	for _, v := range m.all("variable") {
		if a := attr(v, "default"); a != nil {
			val, diags := a.Expr.Value(nil)
			if diags.HasErrors() {
				t.Fatalf("variable %s: default is not a constant: %s", v.Labels[0], diags.Error())
			}
			m.vars[v.Labels[0]] = val
		} else {
			m.vars[v.Labels[0]] = cty.DynamicVal
		}
	}
	m.evalLocals()
	return m
}

// evalLocals evaluates locals in rounds until nothing changes; a local that needs a resource
// or data source stays unknown.
func (m *module) evalLocals() {
	exprs := map[string]hclsyntax.Expression{}
	for _, b := range m.all("locals") {
		for name, a := range b.Body.Attributes {
			exprs[name] = a.Expr
			m.locals[name] = cty.DynamicVal
		}
	}
	for range len(exprs) + 1 {
		changed := false
		for name, e := range exprs {
			v, diags := e.Value(m.ctx(nil))
			if diags.HasErrors() {
				continue
			}
			if !m.locals[name].RawEquals(v) {
				m.locals[name], changed = v, true
			}
		}
		if !changed {
			return
		}
	}
}

// ctx is the evaluation context: var, local, each (when given) and a few of Terraform's
// functions; every other root (resources, data, path) is unknown.
func (m *module) ctx(each map[string]cty.Value) *hcl.EvalContext {
	vars := map[string]cty.Value{
		"var":   cty.ObjectVal(m.vars),
		"local": cty.ObjectVal(m.locals),
		"path":  cty.ObjectVal(map[string]cty.Value{"module": cty.StringVal(m.dir)}),
	}
	if each != nil {
		vars["each"] = cty.ObjectVal(each)
	}
	for _, b := range m.blocks {
		switch b.Type {
		case "resource", "data":
			root := b.Labels[0]
			if b.Type == "data" {
				root = "data"
			}
			if _, ok := vars[root]; !ok {
				vars[root] = cty.DynamicVal
			}
		}
	}
	return &hcl.EvalContext{
		Variables: vars,
		Functions: map[string]function.Function{
			"coalesce": stdlib.CoalesceFunc,
			"concat":   stdlib.ConcatFunc,
			"length":   stdlib.LengthFunc,
			"distinct": stdlib.DistinctFunc,
			"floor":    stdlib.FloorFunc,
			"format":   stdlib.FormatFunc,
			"join":     stdlib.JoinFunc,
			"keys":     stdlib.KeysFunc,
			"merge":    stdlib.MergeFunc,
			"toset":    stdlib.MakeToFunc(cty.Set(cty.DynamicPseudoType)),
			"tostring": stdlib.MakeToFunc(cty.String),
			"try":      tryfunc.TryFunc,
		},
	}
}

// all returns the top-level blocks of one type.
func (m *module) all(typ string) []*hclsyntax.Block {
	var out []*hclsyntax.Block
	for _, b := range m.blocks {
		if b.Type == typ {
			out = append(out, b)
		}
	}
	return out
}

// resources returns the resource blocks of one type by name.
func (m *module) resources(typ string) map[string]*hclsyntax.Block {
	out := map[string]*hclsyntax.Block{}
	for _, b := range m.all("resource") {
		if b.Labels[0] == typ {
			out[b.Labels[1]] = b
		}
	}
	return out
}

func (m *module) resource(t *testing.T, typ, name string) *hclsyntax.Block {
	t.Helper()
	b, ok := m.resources(typ)[name]
	if !ok {
		t.Fatalf("infra/ has no resource %s.%s", typ, name)
	}
	return b
}

// value evaluates an attribute; it fails the test when the attribute is missing or cannot be
// evaluated without a provider.
func (m *module) value(t *testing.T, b *hclsyntax.Block, path string, each map[string]cty.Value) cty.Value {
	t.Helper()
	a := attrPath(t, b, path)
	v, diags := a.Expr.Value(m.ctx(each))
	if diags.HasErrors() {
		t.Fatalf("%s: %s: %s", blockName(b), path, diags.Error())
	}
	return v
}

func (m *module) str(t *testing.T, b *hclsyntax.Block, path string) string {
	t.Helper()
	v := m.value(t, b, path, nil)
	if !v.IsKnown() || v.IsNull() || v.Type() != cty.String {
		t.Fatalf("%s: %s = %#v, want a known string", blockName(b), path, v)
	}
	return v.AsString()
}

// attrPath finds "block.block.attr" under b (first nested block of each type).
func attrPath(t *testing.T, b *hclsyntax.Block, path string) *hclsyntax.Attribute {
	t.Helper()
	parts := strings.Split(path, ".")
	for _, p := range parts[:len(parts)-1] {
		nb := nested(b, p)
		if len(nb) == 0 {
			t.Fatalf("%s has no %s block (looking for %s)", blockName(b), p, path)
		}
		b = nb[0]
	}
	a := attr(b, parts[len(parts)-1])
	if a == nil {
		t.Fatalf("%s has no attribute %s", blockName(b), path)
	}
	return a
}

func attr(b *hclsyntax.Block, name string) *hclsyntax.Attribute { return b.Body.Attributes[name] }

func nested(b *hclsyntax.Block, typ string) []*hclsyntax.Block {
	var out []*hclsyntax.Block
	for _, nb := range b.Body.Blocks {
		if nb.Type == typ {
			out = append(out, nb)
		}
	}
	return out
}

func blockName(b *hclsyntax.Block) string {
	return strings.Join(append([]string{b.Type}, b.Labels...), ".")
}

// refs lists what an expression refers to, as "root.attr.attr" (indexes dropped).
func refs(e hclsyntax.Expression) []string {
	var out []string
	for _, tr := range e.Variables() {
		parts := []string{tr.RootName()}
		for _, step := range tr[1:] {
			if a, ok := step.(hcl.TraverseAttr); ok {
				parts = append(parts, a.Name)
			}
		}
		out = append(out, strings.Join(parts, "."))
	}
	return out
}

// refersTo reports whether the attribute at path refers to prefix (e.g. google_pubsub_topic.alert).
func refersTo(t *testing.T, b *hclsyntax.Block, path, prefix string) bool {
	t.Helper()
	for _, r := range refs(attrPath(t, b, path).Expr) {
		if r == prefix || strings.HasPrefix(r, prefix+".") {
			return true
		}
	}
	return false
}

// walk visits b and every block nested in it.
func walk(b *hclsyntax.Block, visit func(*hclsyntax.Block)) {
	visit(b)
	for _, nb := range b.Body.Blocks {
		walk(nb, visit)
	}
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
