package policy

import (
	"errors"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strings"

	"github.com/open-policy-agent/opa/v1/ast"
)

// isTest reports whether name is a Rego test file: tests are run by Test, never by the decision
// engine.
func isTest(name string) bool { return strings.HasSuffix(name, "_test.rego") }

// loadModules parses every .rego file in fsys (tests too when withTests), keyed by its path in
// fsys, which is also the file name in every error and location.
func loadModules(fsys fs.FS, withTests bool) (map[string]*ast.Module, error) {
	modules := map[string]*ast.Module{}
	err := fs.WalkDir(fsys, ".", func(name string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() || path.Ext(name) != ".rego" || (!withTests && isTest(name)) {
			return nil
		}
		src, err := fs.ReadFile(fsys, name)
		if err != nil {
			return err
		}
		m, err := ast.ParseModuleWithOpts(name, string(src), ast.ParserOptions{
			RegoVersion:       ast.RegoV1,
			ProcessAnnotation: true,
		})
		if err != nil {
			return regoError(err)
		}
		modules[name] = m
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("load policies: %w", err)
	}
	if len(modules) == 0 {
		return nil, errors.New("load policies: no .rego files")
	}
	return modules, nil
}

// compile compiles modules, reporting OPA's errors as file:line:col: message.
func compile(modules map[string]*ast.Module) (*ast.Compiler, error) {
	c := ast.NewCompiler().WithEnablePrintStatements(false)
	if c.Compile(modules); c.Failed() {
		return nil, fmt.Errorf("compile policies: %w", regoError(c.Errors))
	}
	return c, nil
}

// RegoError is one or more OPA parse or compile errors, each with its position.
type RegoError struct {
	Errors []string // "file:line:col: code: message", sorted
}

// Error lists every position, so one line shows all that must be fixed.
func (e *RegoError) Error() string { return strings.Join(e.Errors, "; ") }

// regoError turns OPA's ast.Errors into a RegoError that says where; other errors pass through.
func regoError(err error) error {
	var errs ast.Errors
	if !errors.As(err, &errs) {
		return err
	}
	out := &RegoError{}
	for _, e := range errs {
		out.Errors = append(out.Errors, formatError(e))
	}
	sort.Strings(out.Errors)
	return out
}

func formatError(e *ast.Error) string {
	where := "?"
	if e.Location != nil {
		where = fmt.Sprintf("%s:%d:%d", e.Location.File, e.Location.Row, e.Location.Col)
	}
	return fmt.Sprintf("%s: %s: %s", where, e.Code, e.Message)
}

// packageModules are the modules that declare pkg ("runmedic.oom").
func packageModules(modules map[string]*ast.Module, pkg string) []*ast.Module {
	var out []*ast.Module
	for _, m := range modules {
		if strings.TrimPrefix(m.Package.Path.String(), "data.") == pkg {
			out = append(out, m)
		}
	}
	return out
}

// checkPackage rejects a package name that is not a plain dotted name: it is spliced into the
// engine's query.
func checkPackage(pkg string) error {
	if pkg == "" {
		return errors.New("policy package: empty")
	}
	for part := range strings.SplitSeq(pkg, ".") {
		if part == "" || !ast.IsVarCompatibleString(part) {
			return fmt.Errorf("policy package %q: want a dotted name like runmedic.oom", pkg)
		}
	}
	return nil
}
