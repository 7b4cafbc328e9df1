package replay

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/runmedic/runmedic/internal/scenario"
)

// TestStreamMatchesOneAtATime: deciding in parallel from listed (unread) scenarios gives the
// rows deciding them one at a time gives, in the scenarios' order, with every scenario three
// times over so that workers finish out of order.
func TestStreamMatchesOneAtATime(t *testing.T) {
	listed, err := scenario.List(scenariosDir)
	if err != nil {
		t.Fatal(err)
	}
	var scs []scenario.Scenario
	for range 3 {
		scs = append(scs, listed...)
	}
	ctx := context.Background()
	r := bundledRunner(t)
	var want []Row
	for _, sc := range scs {
		sc, err := sc.Read()
		if err != nil {
			t.Fatal(err)
		}
		want = append(want, decideOne(ctx, r, sc, Options{}))
	}
	var got []Row
	if err := Stream(ctx, r, scs, Options{}, func(row Row) error {
		got = append(got, row)
		return nil
	}); err != nil {
		t.Fatalf("Stream() = %v", err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Stream() rows differ from one at a time (-want +got):\n%s", diff)
	}
}

func TestStreamStops(t *testing.T) {
	listed, err := scenario.List(scenariosDir)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	t.Run("at an unreadable scenario, after the rows before it", func(t *testing.T) {
		scs := append([]scenario.Scenario{}, listed[:5]...)
		missing := scenario.Scenario{Name: "gone", Dir: filepath.Join(t.TempDir(), "gone")}
		scs = append(scs, missing)
		scs = append(scs, listed[5:20]...)
		var names []string
		err := Stream(ctx, bundledRunner(t), scs, Options{}, func(row Row) error {
			names = append(names, row.Scenario)
			return nil
		})
		if err == nil || !errors.Is(err, os.ErrNotExist) || !strings.Contains(err.Error(), "scenario gone") {
			t.Fatalf("Stream() = %v, want the missing scenario's error", err)
		}
		if len(names) != 5 || names[4] != listed[4].Name {
			t.Errorf("rows emitted before the error = %v, want the 5 before it", names)
		}
		rows := Decide(ctx, bundledRunner(t), scs, Options{})
		if len(rows) != len(scs) || rows[5].Scenario != "gone" || !strings.Contains(rows[5].Error, "no such file") || rows[6].Error != "" {
			t.Errorf("Decide() row 5 = %+v (of %d rows), want the read error there and the others decided", rows[5], len(rows))
		}
	})
	t.Run("when emit fails", func(t *testing.T) {
		stop := errors.New("disk full")
		n := 0
		err := Stream(ctx, bundledRunner(t), listed, Options{}, func(Row) error {
			if n++; n == 3 {
				return stop
			}
			return nil
		})
		if !errors.Is(err, stop) || n != 3 {
			t.Errorf("Stream() = %v after %d rows, want %v after 3", err, n, stop)
		}
	})
}
