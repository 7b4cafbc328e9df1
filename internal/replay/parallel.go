package replay

import (
	"context"
	"runtime"
	"sync"

	"github.com/runmedic/runmedic/internal/scenario"
)

// Stream decides scs with r on GOMAXPROCS workers and passes the rows to emit one at a time, in
// the order of scs, as soon as a row and every row before it are decided. A scenario listed but
// not read (scenario.List) is read by its worker and dropped once decided, so memory holds a
// few scenarios at a time, not all of them. A scenario that cannot be read stops the replay
// with its error, as scenario.LoadAll would; an error from emit stops it too.
func Stream(ctx context.Context, r *scenario.Runner, scs []scenario.Scenario, opts Options, emit func(Row) error) error {
	workers := runtime.GOMAXPROCS(0)
	// At most window scenarios are in flight or decided but not yet emitted: one slow scenario
	// holds back the others' rows, not an unbounded number of them.
	window := 4 * workers
	ctx, cancel := context.WithCancel(ctx)
	type result struct {
		i   int
		row Row
		err error
	}
	jobs := make(chan int)
	results := make(chan result, window)
	slots := make(chan struct{}, window)
	var wg sync.WaitGroup
	defer func() {
		cancel()
		wg.Wait()
	}()
	wg.Go(func() {
		defer close(jobs)
		for i := range scs {
			select {
			case slots <- struct{}{}:
			case <-ctx.Done():
				return
			}
			select {
			case jobs <- i:
			case <-ctx.Done():
				return
			}
		}
	})
	for range workers {
		wg.Go(func() {
			for i := range jobs {
				sc := scs[i]
				var err error
				if sc.Unread() {
					sc, err = sc.Read()
				}
				var row Row
				if err == nil {
					row = decideOne(ctx, r, sc, opts)
				}
				results <- result{i: i, row: row, err: err} // never blocks: window ≥ jobs taken
			}
		})
	}
	pending := make(map[int]result, window)
	for next := 0; next < len(scs); {
		var res result
		select {
		case res = <-results:
		case <-ctx.Done():
			return ctx.Err()
		}
		pending[res.i] = res
		for p, ok := pending[next]; ok; p, ok = pending[next] {
			delete(pending, next)
			if p.err != nil {
				return p.err
			}
			if err := emit(p.row); err != nil {
				return err
			}
			next++
			<-slots
		}
	}
	return nil
}
