package policy

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/open-policy-agent/opa/v1/ast"
)

// TestTwoMatchesOPA holds the shortcut rounding to OPA's builtins, text for text, on the
// numbers evidence prints: utilizations, slopes, thresholds and the halfway cases between them.
func TestTwoMatchesOPA(t *testing.T) {
	xs := []float64{0, math.Copysign(0, -1), 1, -1, 2, 0.5, 0.85, 0.9, 0.93, 0.005, 0.015, 0.025, 0.125, 0.995, -0.005, -0.015,
		1.005, 2.675, 0.1 + 0.2, 1e-6, 1.5e-6, 0.0049999, -0.0250001, 999999.995, 123456.785, 0.29,
		0.07, 0.57, 1.15, 4.35, -0.29, 999999.99, 0.1, 0.01, -0.01, 10.5,
		// Tails a digit away from halfway, which the digits alone round.
		0.014999999999999999, 0.015000000000000001, 1.0049999999999999, 0.9350000000000001,
		-2.6749999999999998, 999999.9949999999, 0.0050000000000000001, 123456.78500000001}
	r := rand.New(rand.NewPCG(1, 2))
	for range 20000 {
		xs = append(xs, r.Float64(), r.Float64()*4-2, math.Nextafter(float64(r.IntN(20000))/1000+0.005, 0), math.Nextafter(float64(r.IntN(20000))/1000+0.005, 2e4), math.Round(r.Float64()*1000)/1000+0.005, float64(r.IntN(2000))/200, float64(r.IntN(2000000)-1000000)/100)
	}
	for _, x := range xs {
		v, err := floatNumber(x, 64)
		if err != nil {
			t.Fatal(err)
		}
		want, err := twoByBuiltins(v.(ast.Number))
		if err != nil {
			t.Fatal(err)
		}
		if got := two(x); string(got) != string(want) {
			t.Fatalf("two(%v) = %s, OPA gives %s", x, got, want)
		}
	}
}
