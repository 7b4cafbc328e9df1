package signals

import (
	"math/rand/v2"
	"slices"
	"testing"
)

// TestSelectMedian holds selection to the sorted median on random, sorted, reversed and
// constant inputs of odd and even length.
func TestSelectMedian(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	var sizes []int
	for n := 1; n < 60; n++ {
		sizes = append(sizes, n)
	}
	// As many slopes as a Theil–Sen fit takes, and more.
	sizes = append(sizes, 1127, 1128, 2000)
	for _, n := range sizes {
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
			sorted := slices.Sorted(slices.Values(v))
			want := sorted[n/2]
			if n%2 == 0 {
				want = (sorted[n/2-1] + sorted[n/2]) / 2
			}
			if got := selectMedian(v); got != want {
				t.Errorf("selectMedian(%s, n=%d) = %v, want %v", shape, n, got, want)
			}
		}
	}
}

// TestKth holds kth to its contract for every rank of short inputs and many ranks of long ones:
// v[k] is the k-th smallest, nothing before it larger, nothing after it smaller.
func TestKth(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for _, n := range []int{1, 2, 3, 7, 64, 1128, 5000} {
		for _, shape := range []string{"random", "few values", "sorted", "reversed"} {
			base := make([]float64, n)
			for i := range base {
				switch shape {
				case "random":
					base[i] = r.NormFloat64()
				case "few values":
					base[i] = float64(r.IntN(4))
				case "sorted":
					base[i] = float64(i)
				case "reversed":
					base[i] = float64(-i)
				}
			}
			sorted := slices.Sorted(slices.Values(base))
			for k := 0; k < n; k += max(1, n/37) {
				v := slices.Clone(base)
				if got := kth(v, k); got != sorted[k] {
					t.Fatalf("kth(%s, n=%d, k=%d) = %v, want %v", shape, n, k, got, sorted[k])
				}
				for i, x := range v {
					if i < k && x > v[k] || i > k && x < v[k] {
						t.Fatalf("kth(%s, n=%d, k=%d) left v[%d] = %v on the wrong side of %v", shape, n, k, i, x, v[k])
					}
				}
			}
		}
	}
}
