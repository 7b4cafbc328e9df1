# METADATA
# title: Cloud Run memory runbook (OOM)
# description: >-
#   The on-call runbook for Cloud Run memory incidents as policy. The input is a snapshot of
#   the service plus input.signals (derived in Go); data.runmedic.config holds the runbook's
#   numbers. The policy answers with one decision and a set of refusals (deny).
# custom:
#   runbook: RUNBOOK-memory-oom.md
#   alert: alert-memory-high
package runmedic.oom

# The runbook's numbers that are not configuration: how long a trend must last to count, and
# what "near the limit" means. Authors change them here, with the tests beside this file.
min_rising_minutes := 15

growth_hours_minutes := 120

min_rise := 0.1

oom_level := 0.95

sustained_minutes := 5

# The runbook's 85 %, for inputs that carry no input.signals.threshold (hand-written tests).
default_threshold := 0.85

minute_ns := 60000000000

defaults := data.runmedic.config.defaults

# The remediation threshold: the config's memory_threshold for this service, which Go puts in
# input.signals.threshold. The alert's own threshold is shown in the evidence, never trusted: a
# notification claiming 0.1 must not make a healthy service's memory count as high.
threshold := input.signals.threshold if {
	is_number(input.signals.threshold)
	input.signals.threshold > 0
} else := default_threshold

# "; the alert said 0.1" when the notification's threshold differs from the one that decides.
alert_threshold_note := sprintf("; the alert said %v", [shown("incident_threshold", input.incident.threshold)]) if {
	is_number(input.incident.threshold)
	shown("incident_threshold", input.incident.threshold) != shown("threshold", threshold)
} else := ""

# Who hears at once when runmedic acts or gives up: the first row of the escalation table (the
# on-call lead). The plan adds the rest of the table, timed from the incident's start.
notify := [defaults.escalation[0].notify]

# What runmedic already did for this very incident and has not seen fail: a re-notification or a
# redelivery after the fix landed must not act twice.
acted_on_incident contains a if {
	some a in input.history
	a.incident == input.incident.id
	a.outcome in {"applied", "verified"}
}

# METADATA
# title: Decision
# description: >-
#   One decision, whatever matches: the branches below are in priority order and the first
#   that holds wins. Each branch is one row of the runbook table.
# entrypoint: true
# custom:
#   priority:
#     - incident closed
#     - a change for this incident failed verification
#     - already acted on this incident
#     - no memory data
#     - recovered before the alert arrived
#     - over the daily action budget
#     - regression with a revision to roll back to
#     - leak (gradual growth, or a regression with nothing to roll back to)
#     - request spike above the safe concurrency
#     - at the memory ceiling
#     - raise memory one step
#     - nothing matched
decision := recovered_decision if {
	incident_closed
} else := failed_verification_decision if {
	input.signals.verification_failed == true
} else := acted_decision if {
	count(acted_on_incident) > 0
} else := no_data_decision if {
	not input.signals.has_memory_data
} else := recovered_early_decision if {
	recovered_early
} else := over_budget_decision if {
	over_budget
} else := rollback_decision if {
	diagnosis == "regression"
	input.signals.previous_ready_revision != ""
} else := leak_decision if {
	leak_path
} else := lower_concurrency_decision if {
	diagnosis == "request_spike"
	concurrency_above_safe
} else := ceiling_decision if {
	needs_memory
	at_ceiling
} else := raise_memory_decision if {
	needs_memory
} else := unknown_decision

# METADATA
# title: Leak path
# description: >-
#   A leak runmedic cannot undo: code that has served for a while (gradual growth), or a new
#   revision with no Ready revision to return to. A restart buys time while memory climbs with
#   no restart yet; where instances already OOM-restart, a raise is the stopgap (the runbook's
#   "restart with increased memory"); at the ceiling people decide. The ladder runs either way.
# custom:
#   runbook: [1. Memory Leak in Application, 3. Large Cache Not Evicting, "Option A: Restart with increased memory"]
leak_decision := restart_decision if {
	not oom_restarting
} else := leak_raise_decision if {
	not at_ceiling
} else := ceiling_decision

# METADATA
# title: Diagnosis
# description: The runbook root cause the signals point at, most specific first.
diagnosis := "recovered" if {
	incident_closed
} else := "recovered" if {
	recovered_early
} else := "regression" if {
	regression
} else := "gradual_growth" if {
	gradual_growth
} else := "request_spike" if {
	request_spike
} else := "insufficient_memory" if {
	insufficient_memory
} else := "unknown"

# METADATA
# title: Refusals
# description: >-
#   Policy-authored refusals. They are shown in the plan and block apply.
deny contains "alert policy label remediation=manual: runmedic only plans" if {
	input.incident.labels.remediation == "manual"
}

deny contains msg if {
	input.service.labels.remediation == "manual"
	msg := sprintf("service %s has label remediation=manual: runmedic only plans", [input.target.service])
}

incident_closed if input.incident.state == "closed"

over_budget if input.signals.actions_last_24h >= defaults.max_actions_per_day

at_ceiling if input.signals.next_memory_step == ""

# Causes whose remedy, short of a rollback, is more memory.
needs_memory if diagnosis in {"regression", "request_spike", "insufficient_memory"}

concurrency_above_safe if {
	input.signals.safe_concurrency >= 1
	input.service.template.max_concurrency > input.signals.safe_concurrency
}

# METADATA
# title: Memory rising
# description: >-
#   Memory has grown for at least min_rising_minutes at the end of the window, by the
#   noise-robust growth signals; inputs without them (older snapshots) use the smoothed walk.
memory_rising if {
	input.signals.growth_per_hour > 0
	input.signals.growth_minutes >= min_rising_minutes
}

memory_rising if {
	not has_growth_signals
	input.signals.memory_slope_per_hour > 0
	input.signals.rising_minutes >= min_rising_minutes
}

# METADATA
# title: Growth signals present
# description: The input carries the noise-robust growth signals (snapshots read by current runmedic do).
has_growth_signals if is_number(input.signals.growth_minutes)

# METADATA
# title: Instances already OOM-restart
# description: Restarts in the memory series, or OOM kills in the logs.
oom_restarting if input.signals.resets > 0

oom_restarting if input.signals.oom_kills > 0

# METADATA
# title: Recovered before the alert arrived (runbook Step 5)
# description: >-
#   Memory has been below verify_below for at least verify_after at the end of the window and is
#   not climbing again after a restart: Monitoring's lag delivered an alert about a service that
#   already recovered. Record it; page nobody.
# custom:
#   runbook: "Step 5: Verify Recovery"
#   action: none
recovered_early if input.signals.recovered_early == true

# METADATA
# title: Leak path
# description: Gradual growth, or a regression with no Ready revision to roll back to.
leak_path if diagnosis == "gradual_growth"

leak_path if {
	diagnosis == "regression"
	input.signals.previous_ready_revision == ""
}

# Above the threshold, as the alert condition is (COMPARISON_GT) and as minutes_above_threshold counts.
memory_high if input.signals.memory_now > threshold

memory_high if input.signals.minutes_above_threshold >= sustained_minutes

young_revision if {
	input.signals.serving_revision != ""
	input.signals.serving_revision_age_minutes * minute_ns < time.parse_duration_ns(defaults.regression_window)
}

normal_before_serving if {
	input.signals.memory_before_serving > 0
	input.signals.memory_before_serving < defaults.verify_below
}

# METADATA
# title: Regression (runbook 1 and 5)
# description: >-
#   A leak shipped with a recent revision: the serving revision is younger than the regression
#   window, memory was normal before it took traffic and has been rising since.
# custom:
#   runbook: [1. Memory Leak in Application, 5. Third-Party Library Memory Leak]
#   action: rollback
regression if {
	young_revision
	normal_before_serving
	memory_rising
	input.signals.memory_now - input.signals.memory_before_serving >= min_rise
}

# A canary: the suspect revision (younger than the regression window, serving a share or all of
# the traffic, its own memory rising while the older revisions stay flat) rose from a normal level.
regression if {
	input.signals.suspect_by in {"alert", "memory"}
	normal_before_suspect
	input.signals.suspect_memory_now - input.signals.memory_before_suspect >= min_rise
}

# OOM kills on the young suspect alone, from a normal level before it took traffic.
regression if {
	input.signals.suspect_by == "oom_kills"
	normal_before_suspect
}

# METADATA
# title: Normal before the suspect
# description: Memory was known and below verify_below in the hour before the suspect revision was created.
normal_before_suspect if {
	input.signals.memory_before_suspect > 0
	input.signals.memory_before_suspect < defaults.verify_below
}

# METADATA
# title: Gradual growth (runbook 1 and 3)
# description: >-
#   Memory has grown for hours, seen through restarts (cycles of climb and OOM kill) or
#   without any yet: a leak or an unbounded cache in code that has served for a while. A restart
#   or a stopgap raise buys time; people fix the code.
# custom:
#   runbook: [1. Memory Leak in Application, 3. Large Cache Not Evicting]
#   action: restart
gradual_growth if {
	input.signals.growth_per_hour > 0
	input.signals.growth_minutes >= growth_hours_minutes
}

gradual_growth if {
	not has_growth_signals
	input.signals.memory_slope_per_hour > 0
	input.signals.rising_minutes >= growth_hours_minutes
	input.signals.resets > 0
}

# METADATA
# title: Request spike (runbook 4)
# description: >-
#   Memory spikes with bursts of requests, large bodies held in memory at once.
# custom:
#   runbook: 4. Large Request/Response Bodies
#   action: lower_concurrency
request_spike if input.signals.request_spike == true

# METADATA
# title: Insufficient memory (runbook 2)
# description: >-
#   Memory is high and flat (the service simply needs more), or instances run out of memory
#   under load and restart.
# scope: document
# custom:
#   runbook: 2. Insufficient Memory Allocation
#   action: raise_memory
insufficient_memory if {
	memory_high
	not memory_rising
}

insufficient_memory if {
	input.signals.memory_max >= oom_level
	input.signals.resets > 0
}

insufficient_memory if {
	memory_high
	input.signals.oom_kills > 0
}

# Numbers for people: two decimals, and integers stay integers.
two(x) := round(x * 100) / 100

memory_evidence := sprintf("memory p99 %v (threshold %v%s) for %d minutes, peak %v", [
	shown("memory_now", input.signals.memory_now),
	shown("threshold", threshold),
	alert_threshold_note,
	input.signals.minutes_above_threshold,
	shown("memory_max", input.signals.memory_max),
])

trend_evidence := sprintf("memory trend %v an hour, rising for %d minutes, %d resets", [
	shown("memory_slope_per_hour", input.signals.memory_slope_per_hour),
	input.signals.rising_minutes,
	input.signals.resets,
])

# METADATA
# title: Leaking revision
# description: >-
#   The revision that leaks: the suspect when the signals name one, else the serving revision.
leaking_revision := input.signals.suspect_revision if {
	input.signals.suspect_revision != ""
} else := input.signals.serving_revision

# METADATA
# title: Canary
# description: >-
#   The suspect revision is not the one serving the most traffic: a canary or a partial rollout.
canary if {
	input.signals.suspect_revision != ""
	input.signals.suspect_revision != input.signals.serving_revision
}

# METADATA
# title: Cause evidence
# description: >-
#   The diagnosis's own facts, from the one set below that belongs to it: the sets of the causes
#   that did not win are never evaluated. A new cause adds its set here. Undefined for
#   "recovered": the decisions that print it come first in the priority order.
cause_evidence := regression_evidence if {
	diagnosis == "regression"
} else := gradual_growth_evidence if {
	diagnosis == "gradual_growth"
} else := request_spike_evidence if {
	diagnosis == "request_spike"
} else := insufficient_memory_evidence if {
	diagnosis == "insufficient_memory"
} else := {"no runbook cause matched: not a new revision rising, not hours of growth with resets, no request burst, not high and flat"} if {
	diagnosis == "unknown"
}

regression_evidence contains msg if {
	not canary
	msg := sprintf("revision %s took traffic %d minutes ago (regression window %s)", [
		input.signals.serving_revision,
		input.signals.serving_revision_age_minutes,
		defaults.regression_window,
	])
}

regression_evidence contains msg if {
	not canary
	msg := sprintf("memory rose from %v before it served to %v now", [
		shown("memory_before_serving", input.signals.memory_before_serving),
		shown("memory_now", input.signals.memory_now),
	])
}

regression_evidence contains msg if {
	canary
	msg := sprintf("suspect_revision %s (suspect_by %s) serves %d%% and is %d minutes old: its memory rose from %v before it took traffic (memory_before_suspect) to %v (suspect_memory_now) while the older revisions stay flat", [
		input.signals.suspect_revision,
		input.signals.suspect_by,
		input.signals.suspect_percent,
		input.signals.suspect_revision_age_minutes,
		shown("memory_before_suspect", input.signals.memory_before_suspect),
		shown("suspect_memory_now", input.signals.suspect_memory_now),
	])
}

regression_evidence contains msg if {
	input.signals.previous_ready_revision == ""
	msg := sprintf("no ready revision older than %s to roll back to (previous_ready_revision empty): the leak path", [leaking_revision])
}

regression_evidence contains msg if {
	input.signals.previous_ready_revision == ""
	some msg in growth_evidence
}

gradual_growth_evidence contains msg if {
	oom_restarting
	msg := sprintf("revision %s has served for %d minutes; memory grows back after each restart", [
		input.signals.serving_revision,
		input.signals.serving_revision_age_minutes,
	])
}

gradual_growth_evidence contains msg if {
	not oom_restarting
	msg := sprintf("revision %s has served for %d minutes; no restart yet", [
		input.signals.serving_revision,
		input.signals.serving_revision_age_minutes,
	])
}

gradual_growth_evidence contains msg if {
	some msg in growth_evidence
}

# METADATA
# title: Growth evidence
# description: How long and how fast memory has grown, for the leak path, from the noise-robust growth signals.
growth_evidence contains msg if {
	has_growth_signals
	msg := sprintf("memory has grown for %d minutes at %v an hour (growth_minutes, growth_per_hour) through %d restarts (resets); %d minutes to the limit at that rate (minutes_to_limit)", [
		input.signals.growth_minutes,
		shown("growth_per_hour", input.signals.growth_per_hour),
		input.signals.resets,
		input.signals.minutes_to_limit,
	])
}

request_spike_evidence contains msg if {
	msg := sprintf("request bursts with max_concurrency %d; safe concurrency for %d MiB is %d", [
		input.service.template.max_concurrency,
		input.signals.memory_limit_mib,
		input.signals.safe_concurrency,
	])
}

insufficient_memory_evidence contains msg if {
	not memory_rising
	msg := sprintf("high and flat at %s: no trend to blame", [input.service.template.memory])
}

insufficient_memory_evidence contains msg if {
	input.signals.memory_max >= oom_level
	input.signals.resets > 0
	msg := sprintf("out of memory under load: peak %v, %d resets", [shown("memory_max", input.signals.memory_max), input.signals.resets])
}

insufficient_memory_evidence contains msg if {
	input.signals.oom_kills > 0
	not memory_rising
	msg := sprintf("OOM kills at a flat level (memory_plateau %v): out of memory under load, not a leak", [input.signals.memory_plateau])
}

# METADATA
# title: Logs evidence
# description: >-
#   What the logs said, or that they could not be read: a decision made from metrics alone says so.
logs_evidence contains msg if {
	input.signals.oom_kills > 0
	msg := sprintf("logs: %d OOM kills in the window (oom_kills), largest used %v MiB (oom_max_used_mib), the last %d minutes ago", [
		input.signals.oom_kills,
		input.signals.oom_max_used_mib,
		input.signals.minutes_since_oom_kill,
	])
}

logs_evidence contains "logs: no OOM kill in the window (oom_kills 0)" if {
	input.signals.oom_kills == 0
}

logs_evidence contains msg if {
	input.logs
	not input.signals.logs_available
	msg := sprintf("logs unavailable (%s): OOM-kill signals absent, decided from metrics only", [input.signals.logs_error])
}

# METADATA
# title: Fit evidence
# description: A raise holds the largest OOM "used" with headroom, when the logs report one.
fit_evidence contains msg if {
	is_number(input.signals.oom_max_used_mib)
	msg := sprintf("%s holds the largest used %v MiB with 20%% headroom", [input.signals.next_memory_step, input.signals.oom_max_used_mib])
}

# The evidence every open-incident decision carries: the numbers, then the cause's own facts.
evidence := array.concat(array.concat([memory_evidence, trend_evidence], sort(cause_evidence)), sort(logs_evidence))

cpu_param := {"cpu": input.signals.next_memory_step_cpu} if {
	input.signals.next_memory_step_cpu != ""
} else := {}

recovered_decision := {
	"action": "none",
	"diagnosis": "recovered",
	"reason": sprintf("incident %s closed: nothing to do but record the recovery", [input.incident.id]),
	"evidence": [sprintf("incident state %s", [input.incident.state])],
	"params": {},
}

acted_decision := {
	"action": "none",
	"diagnosis": diagnosis,
	"reason": sprintf("runmedic already acted on incident %s: waiting for verification, not acting twice", [input.incident.id]),
	"evidence": array.concat(
		[sprintf("%s at %s, outcome %s", [a.action, a.at, a.outcome]) | some a in acted_on_incident],
		[memory_evidence],
	),
	"params": {},
}

no_data_decision := {
	"action": "escalate",
	"diagnosis": "unknown",
	"reason": "no memory data to diagnose from: people decide",
	"evidence": [sprintf("no memory utilization points for service %s", [input.target.service])],
	"params": {"notify": notify},
}

over_budget_decision := {
	"action": "escalate",
	"diagnosis": diagnosis,
	"reason": sprintf("%d actions in the last 24h reach the budget of %d: escalate only", [
		input.signals.actions_last_24h,
		defaults.max_actions_per_day,
	]),
	"evidence": evidence,
	"params": {"notify": notify},
}

rollback_decision := {
	"action": "rollback",
	"diagnosis": "regression",
	"reason": sprintf("memory has risen since %s took traffic: send 100%% to %s", [
		leaking_revision,
		input.signals.previous_ready_revision,
	]),
	"evidence": evidence,
	"params": {"revision": input.signals.previous_ready_revision, "notify": notify},
}

restart_decision := {
	"action": "restart",
	"diagnosis": diagnosis,
	"reason": "memory climbs toward the limit and no instance has restarted yet: restart for fresh instances to buy time, and escalate for the code fix",
	"evidence": evidence,
	"params": {"notify": notify},
}

# METADATA
# title: Leak stopgap raise
# description: >-
#   Instances already OOM-restart from a leak: more memory buys time; the reason says it is not the fix.
leak_raise_decision := {
	"action": "raise_memory",
	"diagnosis": diagnosis,
	"reason": sprintf("instances already OOM-restart from a leak: raise memory from %s to %s as a stopgap, not the fix, and escalate for the code fix", [
		input.service.template.memory,
		input.signals.next_memory_step,
	]),
	"evidence": array.concat(evidence, sort(fit_evidence)),
	"params": object.union(object.union({"memory": input.signals.next_memory_step}, cpu_param), {"notify": notify}),
}

# METADATA
# title: Failed verification (runbook escalation table)
# description: >-
#   A change for this incident did not bring memory below verify_below within verify_after: escalate.
failed_verification_decision := {
	"action": "escalate",
	"diagnosis": diagnosis,
	"reason": sprintf("runmedic's change for incident %s failed verification (verification_failed): memory stayed at or above %v after %s; escalate", [
		input.incident.id,
		defaults.verify_below,
		defaults.verify_after,
	]),
	"evidence": array.concat(
		[sprintf("%s at %s, outcome %s", [a.action, a.at, a.outcome]) | some a in input.history; a.incident == input.incident.id; count(a.changes) > 0],
		[memory_evidence],
	),
	"params": {"notify": notify},
}

# METADATA
# title: Recovered before the alert (runbook Step 5)
# description: >-
#   Memory already recovered: record it, page nobody.
recovered_early_decision := {
	"action": "none",
	"diagnosis": "recovered",
	"reason": sprintf("memory has been below %v for %d minutes (minutes_below_verify, at least verify_after %s): recovered before the alert arrived; record it, page nobody", [
		defaults.verify_below,
		input.signals.minutes_below_verify,
		defaults.verify_after,
	]),
	"evidence": array.concat([memory_evidence], sort(logs_evidence)),
	"params": {},
}

lower_concurrency_decision := {
	"action": "lower_concurrency",
	"diagnosis": "request_spike",
	"reason": sprintf("request bursts: lower max_concurrency from %d to the safe %d and escalate", [
		input.service.template.max_concurrency,
		input.signals.safe_concurrency,
	]),
	"evidence": evidence,
	"params": {"max_concurrency": input.signals.safe_concurrency, "notify": notify},
}

ceiling_decision := {
	"action": "escalate",
	"diagnosis": diagnosis,
	"reason": sprintf("%s is the largest memory step allowed (ceiling %s): escalate", [
		input.service.template.memory,
		defaults.memory_ceiling,
	]),
	"evidence": evidence,
	"params": {"notify": notify},
}

raise_memory_decision := {
	"action": "raise_memory",
	"diagnosis": diagnosis,
	"reason": sprintf("%s: raise memory from %s to %s", [
		diagnosis,
		input.service.template.memory,
		input.signals.next_memory_step,
	]),
	"evidence": array.concat(evidence, sort(fit_evidence)),
	"params": object.union(object.union({"memory": input.signals.next_memory_step}, cpu_param), raise_notify),
}

# Raising memory is the whole remedy only when memory is what is missing; a regression without a
# rollback target and a request spike also need people.
raise_notify := {} if {
	diagnosis == "insufficient_memory"
} else := {"notify": notify}

unknown_decision := {
	"action": "escalate",
	"diagnosis": "unknown",
	"reason": "the signals match no runbook cause: people decide",
	"evidence": evidence,
	"params": {"notify": notify},
}

# x as people read it, two(x): runmedic's input carries the number already rounded by this very
# arithmetic in input.rounded[name]; an input without it (a hand-written test) is rounded here.
shown(name, x) := input.rounded[name] if {
	is_number(input.rounded[name])
} else := two(x)
