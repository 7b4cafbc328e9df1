package policy

import (
	"math"
	"math/big"
	"strconv"
	"strings"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/topdown"
	"github.com/open-policy-agent/opa/v1/topdown/builtins"
)

// Rounded holds the numbers the evidence prints, already rounded to two decimals as the policy's
// two(x) rounds them (round(x * 100) / 100 in OPA's arithmetic), so a decision does not pay for
// Rego arithmetic on every number it words. An empty field is left out; the policy then rounds
// the number itself.
type Rounded struct {
	// MemoryNow is input.signals.memory_now rounded.
	MemoryNow Number `json:"memory_now,omitempty"`
	// MemoryMax is input.signals.memory_max rounded.
	MemoryMax Number `json:"memory_max,omitempty"`
	// MemorySlopePerHour is input.signals.memory_slope_per_hour rounded.
	MemorySlopePerHour Number `json:"memory_slope_per_hour,omitempty"`
	// Threshold is input.signals.threshold rounded, when it is above 0 (when it decides).
	Threshold Number `json:"threshold,omitempty"`
	// IncidentThreshold is input.incident.threshold rounded, when the alert carries one.
	IncidentThreshold Number `json:"incident_threshold,omitempty"`
	// MemoryBeforeServing is input.signals.memory_before_serving rounded.
	MemoryBeforeServing Number `json:"memory_before_serving,omitempty"`
	// MemoryBeforeSuspect is input.signals.memory_before_suspect rounded.
	MemoryBeforeSuspect Number `json:"memory_before_suspect,omitempty"`
	// SuspectMemoryNow is input.signals.suspect_memory_now rounded.
	SuspectMemoryNow Number `json:"suspect_memory_now,omitempty"`
	// GrowthPerHour is input.signals.growth_per_hour rounded.
	GrowthPerHour Number `json:"growth_per_hour,omitempty"`
}

// Number is a JSON number kept as the exact text OPA's arithmetic gives.
type Number string

// MarshalJSON writes the number unquoted; the empty Number writes null.
func (n Number) MarshalJSON() ([]byte, error) {
	if n == "" {
		return []byte("null"), nil
	}
	return []byte(n), nil
}

// WithRounded is in with Rounded filled in when nil, as Value sees it: encode this to hand
// another evaluator (opa eval) the input a decision sees.
func (in Input) WithRounded() Input {
	if in.Rounded == nil {
		in.Rounded = roundedOf(in)
	}
	return in
}

// roundedOf rounds the numbers in's evidence prints. A value JSON cannot hold is left empty:
// Value reports it.
func roundedOf(in Input) *Rounded {
	s := in.Signals
	r := &Rounded{
		MemoryNow:           two(s.MemoryNow),
		MemoryMax:           two(s.MemoryMax),
		MemorySlopePerHour:  two(s.MemorySlopePerHour),
		MemoryBeforeServing: two(s.MemoryBeforeServing),
		MemoryBeforeSuspect: two(s.MemoryBeforeSuspect),
		SuspectMemoryNow:    two(s.SuspectMemoryNow),
		GrowthPerHour:       two(s.GrowthPerHour),
	}
	if s.Threshold > 0 {
		r.Threshold = two(s.Threshold)
	}
	if t := in.Incident.Threshold; t != nil {
		r.IncidentThreshold = two(*t)
	}
	return r
}

// two is the policy's two(x) on x as the input encodes it: the text the policy would print.
func two(x float64) Number {
	if x == 0 { // the signals' "none" for a rate or a level: 0, and -0 too, is OPA's 0
		return "0"
	}
	v, err := floatNumber(x, 64)
	if err != nil {
		return ""
	}
	n := v.(ast.Number)
	if a := math.Abs(x); a >= 1e-6 && a < 1e6 {
		return Number(twoFast(n))
	}
	out, err := twoByBuiltins(n)
	if err != nil {
		return ""
	}
	return Number(out)
}

var (
	hundredFloat = builtins.NumberToFloat("100")
	half         = big.NewFloat(0.5) // OPA's halfAwayFromZero
)

// twoFast is twoByBuiltins's arithmetic without the text between the steps, for a number written
// without an exponent whose hundredfold is a small integer: OPA prints each intermediate float
// in the shortest text that reads back to it at the same precision, so the text changes nothing.
// Most numbers are rounded from their digits alone (twoByDigits); a written halfway case takes
// the arithmetic. TestTwoMatchesOPA holds the two equal.
func twoFast(n ast.Number) ast.Number {
	dot := strings.IndexByte(string(n), '.')
	if dot < 0 {
		return n // an integer: x * 100 / 100 in small-integer arithmetic
	}
	if len(n)-dot-1 <= 2 {
		// At most two decimals: x * 100 rounds to the integer k it is written as, and k / 100
		// reads back as the shortest text of that value, which is n.
		return n
	}
	if out, ok := twoByDigits(n, dot); ok {
		return out
	}
	p := new(big.Float).Mul(builtins.NumberToFloat(n), hundredFloat)
	var i *big.Int
	if p.Signbit() {
		i, _ = new(big.Float).Sub(p, half).Int(nil)
	} else {
		i, _ = new(big.Float).Add(p, half).Int(nil)
	}
	r := i.Int64()
	if r != 0 && r%100 == 0 {
		return ast.Number(big.NewInt(r / 100).String())
	}
	q := new(big.Float).Quo(builtins.NumberToFloat(ast.Number(i.String())), hundredFloat)
	return builtins.FloatToNumber(q)
}

// twoByDigits rounds n, written with more than two decimals and no exponent, from its digits
// alone: the digits past the second decimal say which way x * 100 rounds, unless they are a
// single 5 (a written halfway case, whose binary value may sit on either side: false). Any other
// tail is at least 1e-17 of x away from the halfway point (n has at most 17 significant digits),
// about a hundred times more than OPA's two steps at 64 bits of precision can move it. The result,
// k / 100 for the rounded integer k, is the text OPA prints: the shortest text of the 64-bit
// quotient closest to k / 100 is k / 100 itself, written without an exponent below 1e6.
func twoByDigits(n ast.Number, dot int) (ast.Number, bool) {
	s := string(n)
	tail := s[dot+3:]
	if tail == "5" {
		return "", false
	}
	neg := s[0] == '-'
	whole := s[:dot]
	if neg {
		whole = whole[1:]
	}
	var k int64
	for _, c := range whole + s[dot+1:dot+3] {
		if c < '0' || c > '9' || k > math.MaxInt64/100 {
			return "", false
		}
		k = k*10 + int64(c-'0')
	}
	if tail[0] >= '5' {
		k++
	}
	if k == 0 {
		return "0", true
	}
	b := make([]byte, 0, len(s))
	if neg {
		b = append(b, '-')
	}
	b = strconv.AppendInt(b, k/100, 10)
	if cents := k % 100; cents != 0 {
		b = append(b, '.', byte('0'+cents/10))
		if cents%10 != 0 {
			b = append(b, byte('0'+cents%10))
		}
	}
	return ast.Number(b), true
}

var (
	opaMul   = topdown.GetBuiltin(ast.Multiply.Name)
	opaRound = topdown.GetBuiltin(ast.Round.Name)
	opaDiv   = topdown.GetBuiltin(ast.Divide.Name)
	hundred  = ast.IntNumberTerm(100)
)

// twoByBuiltins is round(n * 100) / 100 by OPA's own builtins.
func twoByBuiltins(n ast.Number) (ast.Number, error) {
	t, err := call(opaMul, ast.NewTerm(n), hundred)
	if err != nil {
		return "", err
	}
	if t, err = call(opaRound, t); err != nil {
		return "", err
	}
	if t, err = call(opaDiv, t, hundred); err != nil {
		return "", err
	}
	out, _ := t.Value.(ast.Number)
	return out, nil
}

func call(f topdown.BuiltinFunc, args ...*ast.Term) (*ast.Term, error) {
	var out *ast.Term
	err := f(topdown.BuiltinContext{}, args, func(t *ast.Term) error {
		out = t
		return nil
	})
	return out, err
}
