package audit

import "testing"

func TestTraceID(t *testing.T) {
	const id = "4bf92f3577b34da6a3ce929d0e0e4736"
	tests := []struct {
		name, header, want string
		ok                 bool
	}{
		{"traceparent", "00-" + id + "-00f067aa0ba902b7-01", id, true},
		{"traceparent unsampled", "00-" + id + "-00f067aa0ba902b7-00", id, true},
		{"traceparent upper case", "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01", id, true},
		{"cloud trace context", id + "/12345;o=1", id, true},
		{"cloud trace context without span", id, id, true},
		{"cloud trace context options only", id + ";o=0", id, true},
		{"surrounding space", " " + id + "/1 ", id, true},
		{"empty", "", "", false},
		{"short id", "4bf92f35/1;o=1", "", false},
		{"not hex", "zzf92f3577b34da6a3ce929d0e0e4736/1", "", false},
		{"all zero", "00000000000000000000000000000000/1", "", false},
		{"traceparent zero id", "00-00000000000000000000000000000000-00f067aa0ba902b7-01", "", false},
		{"traceparent version ff", "ff-" + id + "-00f067aa0ba902b7-01", "", false},
		{"traceparent short span", "00-" + id + "-00f067aa-01", "", false},
		{"three dashes of junk", "a-b-c-d", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := TraceID(tt.header)
			if got != tt.want || ok != tt.ok {
				t.Errorf("TraceID(%q) = %q, %v, want %q, %v", tt.header, got, ok, tt.want, tt.ok)
			}
		})
	}
}

func TestTraceNameNeedsProject(t *testing.T) {
	if got := TraceName("", "4bf92f3577b34da6a3ce929d0e0e4736/1"); got != "" {
		t.Errorf("TraceName(\"\", valid) = %q, want \"\"", got)
	}
}
