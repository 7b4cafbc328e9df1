package policy

import (
	"bytes"
	"fmt"
	"io/fs"
	"sort"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/format"
)

// Finding is one thing `opa check --strict --schema` or `opa fmt --list` would report about a
// policy directory. Check names which: "strict", "fmt" or "schema".
type Finding struct {
	Check   string `json:"check"`
	File    string `json:"file"`
	Line    int    `json:"line,omitempty"`
	Message string `json:"message"`
}

// String is "oom.rego:12: schema: undefined ref: input.signals.memroy_now …".
func (f Finding) String() string {
	if f.Line > 0 {
		return fmt.Sprintf("%s:%d: %s: %s", f.File, f.Line, f.Check, f.Message)
	}
	return fmt.Sprintf("%s: %s: %s", f.File, f.Check, f.Message)
}

// Check runs over every .rego file in fsys what CI holds the bundled set to: a strict compile
// (tests included: no unused variables, imports or deprecated built-ins), `opa fmt`, and a type
// check of the policies (tests aside: they build their own inputs) against InputSchema, so
// input.signals.memroy_now is an error naming the path. The error is for files that do not
// parse; findings are sorted by file and line.
func Check(fsys fs.FS) ([]Finding, error) {
	modules, err := loadModules(fsys, true)
	if err != nil {
		return nil, err
	}
	var out []Finding
	for name := range modules {
		src, err := fs.ReadFile(fsys, name)
		if err != nil {
			return nil, err
		}
		formatted, err := format.SourceWithOpts(name, src, format.Opts{RegoVersion: ast.RegoV1})
		if err != nil {
			return nil, fmt.Errorf("format %s: %w", name, err)
		}
		if !bytes.Equal(formatted, src) {
			out = append(out, Finding{Check: "fmt", File: name, Message: "not formatted as `opa fmt` would; `opa fmt -w " + name + "` rewrites it"})
		}
	}
	strict := ast.NewCompiler().WithStrict(true).WithEnablePrintStatements(false)
	if strict.Compile(modules); strict.Failed() {
		out = append(out, findings("strict", strict.Errors)...)
	}
	policies := map[string]*ast.Module{}
	for name, m := range modules {
		if !isTest(name) {
			policies[name] = m.Copy()
		}
	}
	schemas := ast.NewSchemaSet()
	schemas.Put(ast.SchemaRootRef, InputSchema())
	typed := ast.NewCompiler().WithSchemas(schemas).WithEnablePrintStatements(false)
	if len(policies) > 0 {
		if typed.Compile(policies); typed.Failed() {
			for _, f := range findings("schema", typed.Errors) {
				if f.Check == "schema" && strict.Failed() && !isTypeError(f) {
					continue // a compile error the strict pass already reported
				}
				out = append(out, f)
			}
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].File != out[j].File {
			return out[i].File < out[j].File
		}
		return out[i].Line < out[j].Line
	})
	return out, nil
}

func findings(check string, errs ast.Errors) []Finding {
	out := make([]Finding, 0, len(errs))
	for _, e := range errs {
		f := Finding{Check: check, Message: e.Code + ": " + e.Message}
		if e.Location != nil {
			f.File, f.Line = e.Location.File, e.Location.Row
		}
		out = append(out, f)
	}
	return out
}

func isTypeError(f Finding) bool {
	return len(f.Message) >= len(ast.TypeErr) && f.Message[:len(ast.TypeErr)] == ast.TypeErr
}
