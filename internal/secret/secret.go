// Package secret resolves the credentials named in runmedic's config: a PagerDuty routing key or
// a chat webhook is never written into the file itself, only a reference to where it lives:
//
//   - env:NAME reads the environment variable NAME;
//   - secret:projects/P/secrets/S/versions/V reads Secret Manager (V may be "latest").
//
// A resolved Value prints, logs and encodes as "[redacted]"; only Reveal gives the text, and only
// a sink sending a request calls it.
package secret

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
)

// Redacted is how a Value shows itself anywhere but in Reveal.
const Redacted = "[redacted]"

// Value is a resolved credential. Its zero value is empty.
type Value struct{ s string }

// Reveal is the credential itself, for the one request that needs it.
func (v Value) Reveal() string { return v.s }

// Empty reports whether nothing was resolved.
func (v Value) Empty() bool { return v.s == "" }

// String hides the credential from fmt.
func (v Value) String() string { return Redacted }

// GoString hides the credential from %#v.
func (v Value) GoString() string { return Redacted }

// MarshalJSON hides the credential from encoding/json.
func (v Value) MarshalJSON() ([]byte, error) { return []byte(`"` + Redacted + `"`), nil }

// MarshalText hides the credential from text encoders (YAML, flags).
func (v Value) MarshalText() ([]byte, error) { return []byte(Redacted), nil }

// LogValue hides the credential from log/slog.
func (v Value) LogValue() slog.Value { return slog.StringValue(Redacted) }

// Literal wraps text already in hand: a plain URL, or a credential in a test. The config never
// yields one for a credential.
func Literal(s string) Value { return Value{s} }

// Kinds of reference.
const (
	prefixEnv    = "env:"
	prefixSecret = "secret:"
)

// ErrLiteral marks a config value that is neither env:NAME nor secret:…: a credential written
// into the file. Its message never repeats the value.
var ErrLiteral = errors.New("a literal credential is not allowed: write env:NAME or secret:projects/P/secrets/S/versions/V")

// Check validates a reference without resolving it. The error never contains ref itself unless
// ref is a well-formed reference.
func Check(ref string) error {
	switch {
	case strings.HasPrefix(ref, prefixEnv):
		name := strings.TrimPrefix(ref, prefixEnv)
		if name == "" || strings.ContainsAny(name, " =\t\n") {
			return fmt.Errorf("env reference: want env:NAME")
		}
		return nil
	case strings.HasPrefix(ref, prefixSecret):
		return checkVersionName(strings.TrimPrefix(ref, prefixSecret))
	default:
		return ErrLiteral
	}
}

// checkVersionName accepts projects/P/secrets/S/versions/V.
func checkVersionName(name string) error {
	p := strings.Split(name, "/")
	if len(p) != 6 || p[0] != "projects" || p[2] != "secrets" || p[4] != "versions" || p[1] == "" || p[3] == "" || p[5] == "" {
		return fmt.Errorf("secret reference: want secret:projects/P/secrets/S/versions/V")
	}
	return nil
}

// Accessor reads one Secret Manager version by its full name. *secretmanager.Client is one.
type Accessor interface {
	Access(ctx context.Context, version string) ([]byte, error)
}

// Resolver turns references into values.
type Resolver struct {
	Getenv  func(string) string // os.Getenv in production
	Secrets Accessor            // nil: secret: references cannot be resolved
}

// Resolve reads ref. Errors name the reference (never a credential): an unset variable, a
// secret that cannot be read, an empty value.
func (r Resolver) Resolve(ctx context.Context, ref string) (Value, error) {
	if err := Check(ref); err != nil {
		return Value{}, err
	}
	var s string
	switch {
	case strings.HasPrefix(ref, prefixEnv):
		name := strings.TrimPrefix(ref, prefixEnv)
		if r.Getenv != nil {
			s = r.Getenv(name)
		}
		if s == "" {
			return Value{}, fmt.Errorf("%s: environment variable is not set", ref)
		}
	default:
		if r.Secrets == nil {
			return Value{}, fmt.Errorf("%s: no Secret Manager client", ref)
		}
		b, err := r.Secrets.Access(ctx, strings.TrimPrefix(ref, prefixSecret))
		if err != nil {
			return Value{}, fmt.Errorf("%s: %w", ref, err)
		}
		s = strings.TrimSpace(string(b))
		if s == "" {
			return Value{}, fmt.Errorf("%s: the secret is empty", ref)
		}
	}
	return Value{s}, nil
}
