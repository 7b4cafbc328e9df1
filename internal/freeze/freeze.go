// Package freeze decides whether runmedic must hold its changes and tell people instead: a
// freeze window of the config is in force, the service is marked frozen, or a Cloud Monitoring
// snooze covers the incident's alert policy. It is pure: the time, the service's metadata and
// the snoozes are parameters.
package freeze

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/runmedic/runmedic/internal/config"
)

// Key is the service label (or annotation) that freezes a service while it is "true". Cloud Run
// label keys cannot hold a "/", so on a label the key is written with "_" for "." and "/"
// (runmedic_io_freeze); the annotation carries it as written.
const Key = "runmedic.io/freeze"

// labelKey is Key as a Cloud Run label key can spell it.
const labelKey = "runmedic_io_freeze"

// Window reports the first freeze window in force at now, worded for the plan, or "" when none.
// Windows are validated by config; one whose zone cannot be loaded is in force (fail safe).
func Window(windows []config.FreezeWindow, now time.Time) string {
	for i, w := range windows {
		name := w.Name
		if name == "" {
			name = fmt.Sprintf("freeze[%d]", i)
		}
		loc, err := w.Location()
		if err != nil {
			return fmt.Sprintf("freeze window %s has a time zone that cannot be read (%v): holding changes", name, err)
		}
		t := now.In(loc)
		if w.Start != "" {
			day := t.Format(time.DateOnly)
			if day >= w.Start && day <= w.End {
				return fmt.Sprintf("freeze window %s (%s to %s, %s) is in force", name, w.Start, w.End, loc)
			}
			continue
		}
		from, _ := config.Minutes(w.From)
		to, _ := config.Minutes(w.To)
		if inWeekly(w.Weekdays, from, to, t) {
			days := "every day"
			if len(w.Weekdays) > 0 {
				days = strings.Join(w.Weekdays, ", ")
			}
			return fmt.Sprintf("freeze window %s (%s %s-%s, %s) is in force", name, days, w.From, w.To, loc)
		}
	}
	return ""
}

// inWeekly reports whether t falls in the weekly window: on one of days between from and to
// (minutes after midnight). A window whose end is before its start runs past midnight into the
// next day; it belongs to the day it starts on.
func inWeekly(days []string, from, to int, t time.Time) bool {
	on := func(d time.Weekday) bool { return len(days) == 0 || slices.Contains(days, config.Weekdays[d]) }
	m := t.Hour()*60 + t.Minute()
	if from < to {
		return on(t.Weekday()) && m >= from && m < to
	}
	return (on(t.Weekday()) && m >= from) || (on((t.Weekday()+6)%7) && m < to)
}

// Marked reports whether the service's labels or annotations freeze it.
func Marked(labels, annotations map[string]string) bool {
	return strings.EqualFold(labels[labelKey], "true") || strings.EqualFold(labels[Key], "true") || strings.EqualFold(annotations[Key], "true")
}

// Snooze is a Cloud Monitoring snooze as runmedic reads it.
type Snooze struct {
	Name        string // projects/P/snoozes/ID
	DisplayName string
	Policies    []string  // alert policy names (projects/P/alertPolicies/ID) it covers
	Start, End  time.Time // the interval it is active in
}

// Snoozed reports the first snooze active at now that covers policy, worded for the plan, or "".
func Snoozed(snoozes []Snooze, policy string, now time.Time) string {
	for _, s := range snoozes {
		if now.Before(s.Start) || !now.Before(s.End) || !covers(s.Policies, policy) {
			continue
		}
		name := s.DisplayName
		if name == "" {
			name = s.Name
		}
		return fmt.Sprintf("snooze %q covers alert policy %s until %s", name, policy, s.End.UTC().Format(time.RFC3339))
	}
	return ""
}

// covers compares full policy names, or the trailing id when the incident carries only that.
func covers(policies []string, policy string) bool {
	for _, p := range policies {
		if p == policy || strings.HasSuffix(p, "/alertPolicies/"+policy) || strings.HasSuffix(policy, "/alertPolicies/"+lastPart(p)) {
			return true
		}
	}
	return false
}

func lastPart(s string) string { return s[strings.LastIndex(s, "/")+1:] }
