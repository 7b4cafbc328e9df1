package replay

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/runmedic/runmedic/internal/scenario"
)

// BenchmarkReplay1000 is `runmedic replay` over 1,000 scenarios (the bundled ones, copied fifty
// times with their own incident ids): loading the folders and deciding every one, the policies
// compiled once per distinct config as the CLI does.
func BenchmarkReplay1000(b *testing.B) {
	dir := b.TempDir()
	src := loadScenarios(b)
	for i := 0; len(src) > 0 && i < 1000; i++ {
		sc := src[i%len(src)]
		to := filepath.Join(dir, fmt.Sprintf("%04d-%s", i, filepath.Base(sc.Dir)))
		if err := os.MkdirAll(to, 0o755); err != nil {
			b.Fatal(err)
		}
		files := map[string][]byte{scenario.IncidentFile: sc.Incident, scenario.SnapshotFile: sc.Snapshot}
		if sc.Config != nil {
			files[scenario.ConfigFile] = sc.Config
		}
		for name, data := range files {
			if err := os.WriteFile(filepath.Join(to, name), data, 0o644); err != nil {
				b.Fatal(err)
			}
		}
	}
	ctx := context.Background()
	b.ResetTimer()
	for b.Loop() {
		scs, err := scenario.LoadAll(dir)
		if err != nil {
			b.Fatal(err)
		}
		rows := Decide(ctx, bundledRunner(b), scs, Options{})
		if len(rows) != 1000 {
			b.Fatalf("decided %d scenarios, want 1000", len(rows))
		}
	}
}
