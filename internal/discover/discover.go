// Package discover finds the services runmedic manages through a config rule with service "*": it
// lists each such project and location, keeps the services whose mode label opts them in, and
// caches the answer so a verify tick can walk them without listing Cloud Run every five minutes.
// Services the config names are not its business: the tick knows them already.
package discover

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/runmedic/runmedic/internal/cloudrun"
	"github.com/runmedic/runmedic/internal/config"
	"github.com/runmedic/runmedic/internal/snapshot"
)

// Lister lists the services of one project and location. *cloudrun.Client is one. A listing
// cut short returns what it read with an error wrapping cloudrun.ErrTruncated.
type Lister interface {
	ListServices(ctx context.Context, project, location string) ([]cloudrun.Listed, error)
}

// Member is one opted-in service and the mode in force for it when it was listed
// (snapshot.Member, the orchestrator's type).
type Member = snapshot.Member

// Defaults for a Discoverer's zero fields.
const (
	DefaultTTL     = 10 * time.Minute // a location's listing is reused this long
	DefaultRetry   = time.Minute      // a location whose listing failed is not listed again sooner
	DefaultTimeout = 30 * time.Second // one refresh of every stale location, in all
)

// Discoverer lists, at a bounded rate, the services admitted by the config's "*" rules that opt
// in with their mode label. It is safe for concurrent use; concurrent callers share one refresh.
type Discoverer struct {
	Config  config.Config
	Lister  Lister
	TTL     time.Duration // 0: DefaultTTL
	Retry   time.Duration // 0: DefaultRetry
	Timeout time.Duration // 0: DefaultTimeout

	mu    sync.Mutex
	cache map[location]*listing
}

// location is one project and location a "*" rule names.
type location struct{ project, location string }

func (l location) String() string {
	return fmt.Sprintf("projects/%s/locations/%s", l.project, l.location)
}

// listing is what was last learnt about one location.
type listing struct {
	members []Member
	listed  time.Time // when members were listed in full (or cut short at the page bound)
	tried   time.Time // when a listing was last attempted
	ok      bool      // members were ever listed
}

// Services returns the opted-in services of every "*" rule at now, sorted by project,
// location and name. A location is
// listed again only when its listing is older than TTL, and, after a failed listing, not before
// Retry has passed: a failing API is not hammered by every tick. When a location cannot be
// listed, the services it last had are kept and the error is returned beside the rest; a listing
// cut short at its page bound keeps what it read and is reported too.
func (d *Discoverer) Services(ctx context.Context, now time.Time) ([]Member, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.cache == nil {
		d.cache = map[location]*listing{}
	}
	ctx, cancel := context.WithTimeout(ctx, cmp.Or(d.Timeout, DefaultTimeout))
	defer cancel()
	var errs []error
	var out []Member
	for _, loc := range d.locations() {
		l := d.cache[loc]
		if l == nil {
			l = &listing{}
			d.cache[loc] = l
		}
		stale := !l.ok || now.Sub(l.listed) >= cmp.Or(d.TTL, DefaultTTL)
		if stale && (l.tried.IsZero() || now.Sub(l.tried) >= cmp.Or(d.Retry, DefaultRetry)) {
			l.tried = now
			listed, err := d.Lister.ListServices(ctx, loc.project, loc.location)
			switch {
			case err == nil || errors.Is(err, cloudrun.ErrTruncated):
				l.members, l.listed, l.ok = d.optedIn(listed), now, true
				if err != nil {
					errs = append(errs, err)
				}
			default:
				errs = append(errs, fmt.Errorf("discover services in %s: %w", loc, err))
			}
		}
		out = append(out, l.members...)
	}
	slices.SortFunc(out, func(a, b Member) int {
		return cmp.Or(cmp.Compare(a.Target.Project, b.Target.Project), cmp.Compare(a.Target.Location, b.Target.Location), cmp.Compare(a.Target.Service, b.Target.Service))
	})
	return out, errors.Join(errs...)
}

// locations are the distinct projects and locations of the config's "*" rules, in config order.
func (d *Discoverer) locations() []location {
	var out []location
	for _, r := range d.Config.Services {
		if l := (location{r.Project, r.Location}); r.Service == config.AnyService && !slices.Contains(out, l) {
			out = append(out, l)
		}
	}
	return out
}

// optedIn keeps the listed services a "*" rule admits and whose mode is not off. A service the
// config names is left to its own rule.
func (d *Discoverer) optedIn(listed []cloudrun.Listed) []Member {
	var out []Member
	for _, s := range listed {
		rule, ok := d.Config.Allowed(s.Target)
		if !ok || rule.Service != config.AnyService {
			continue
		}
		if mode, _ := d.Config.ModeOf(s.Target, s.Labels, s.Annotations); mode != config.ModeOff {
			out = append(out, Member{Target: s.Target, Mode: mode})
		}
	}
	return out
}
