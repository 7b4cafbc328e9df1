package signals

import (
	"math/rand/v2"
	"slices"
	"testing"
)

// TestSelectMedian holds quickselect to the sorted median on random, sorted, reversed and
// constant inputs of odd and even length.
func TestSelectMedian(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for n := 1; n < 60; n++ {
		for _, shape := range []string{"random", "sorted", "reversed", "constant", "few values"} {
			v := make([]float64, n)
			for i := range v {
				switch shape {
				case "random":
					v[i] = r.Float64()
				case "sorted":
					v[i] = float64(i)
				case "reversed":
					v[i] = float64(n - i)
				case "constant":
					v[i] = 0.5
				case "few values":
					v[i] = float64(r.IntN(3))
				}
			}
			want := median(slices.Clone(v))
			if got := selectMedian(v); got != want {
				t.Errorf("selectMedian(%s, n=%d) = %v, want %v", shape, n, got, want)
			}
		}
	}
}
