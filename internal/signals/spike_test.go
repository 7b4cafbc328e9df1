package signals

import (
	"testing"

	"github.com/runmedic/runmedic/internal/snapshot"
)

func TestRequestSpike(t *testing.T) {
	flatMem := series(t0, repeat(0.6, 75)...)
	risingMem := series(t0, ramp(0.3, 0.9, 75)...)
	tests := []struct {
		name string
		req  []snapshot.Point
		mem  []snapshot.Point
		want bool
	}{
		{
			name: "burst in the last 15 minutes",
			req:  series(t0, join(repeat(100, 60), repeat(120, 10), []float64{250}, repeat(120, 4))...),
			mem:  flatMem,
			want: true,
		},
		{
			name: "exactly twice the median",
			req:  series(t0, join(repeat(100, 60), []float64{200}, repeat(100, 14))...),
			mem:  flatMem,
			want: true,
		},
		{
			name: "below twice the median",
			req:  series(t0, join(repeat(100, 60), []float64{199}, repeat(100, 14))...),
			mem:  flatMem,
			want: false,
		},
		{
			name: "burst older than 15 minutes",
			req:  series(t0, join(repeat(100, 40), []float64{400}, repeat(100, 34))...),
			mem:  flatMem,
			want: false,
		},
		{
			name: "burst with a memory trend is not a spike",
			req:  series(t0, join(repeat(100, 60), []float64{400}, repeat(100, 14))...),
			mem:  risingMem,
			want: false,
		},
		{
			name: "memory rising only inside the window is the burst's footprint",
			req:  series(t0, join(repeat(100, 60), []float64{400}, repeat(100, 14))...),
			mem:  series(t0, join(repeat(0.5, 65), ramp(0.55, 0.95, 10))...),
			want: true,
		},
		{
			name: "idle baseline",
			req:  series(t0, join(repeat(0, 60), repeat(50, 15))...),
			mem:  flatMem,
			want: false,
		},
		{
			name: "only recent points",
			req:  series(t0, 10, 500, 10),
			mem:  flatMem,
			want: false,
		},
		{
			name: "no request data",
			req:  nil,
			mem:  flatMem,
			want: false,
		},
		{
			// The median, not the mean: one huge old outlier does not hide the burst.
			name: "old outlier does not raise the baseline",
			req:  series(t0, join([]float64{100000}, repeat(100, 59), []float64{300}, repeat(100, 14))...),
			mem:  flatMem,
			want: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := testSnapshot(tt.mem)
			s.Metrics.RequestCount = tt.req
			got, err := Compute(s, testDefaults())
			if err != nil {
				t.Fatalf("Compute: %v", err)
			}
			if got.RequestSpike != tt.want {
				t.Errorf("RequestSpike = %v, want %v (rising_minutes %d)", got.RequestSpike, tt.want, got.RisingMinutes)
			}
		})
	}
}
