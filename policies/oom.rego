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

# The alert policy's own threshold, or the runbook's 85 % when the notification carried none.
default_threshold := 0.85

minute_ns := 60000000000

defaults := data.runmedic.config.defaults

threshold := input.incident.threshold if {
	is_number(input.incident.threshold)
} else := default_threshold

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
#     - already acted on this incident
#     - no memory data
#     - over the daily action budget
#     - regression with a revision to roll back to
#     - gradual growth on an old revision
#     - request spike above the safe concurrency
#     - at the memory ceiling
#     - raise memory one step
#     - nothing matched
decision := recovered_decision if {
	incident_closed
} else := acted_decision if {
	count(acted_on_incident) > 0
} else := no_data_decision if {
	not input.signals.has_memory_data
} else := over_budget_decision if {
	over_budget
} else := rollback_decision if {
	diagnosis == "regression"
	input.signals.previous_ready_revision != ""
} else := restart_decision if {
	diagnosis == "gradual_growth"
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
# title: Diagnosis
# description: The runbook root cause the signals point at, most specific first.
diagnosis := "recovered" if {
	incident_closed
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

memory_rising if {
	input.signals.memory_slope_per_hour > 0
	input.signals.rising_minutes >= min_rising_minutes
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

# METADATA
# title: Gradual growth (runbook 1 and 3)
# description: >-
#   Memory climbs steadily for hours and restarts reset it: a leak or an unbounded cache in code
#   that has served for a while. A restart buys time; people fix the code.
# custom:
#   runbook: [1. Memory Leak in Application, 3. Large Cache Not Evicting]
#   action: restart
gradual_growth if {
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

# Numbers for people: two decimals, and integers stay integers.
two(x) := round(x * 100) / 100

memory_evidence := sprintf("memory p99 %v (threshold %v) for %d minutes, peak %v", [
	two(input.signals.memory_now),
	two(threshold),
	input.signals.minutes_above_threshold,
	two(input.signals.memory_max),
])

trend_evidence := sprintf("memory trend %v an hour, rising for %d minutes, %d resets", [
	two(input.signals.memory_slope_per_hour),
	input.signals.rising_minutes,
	input.signals.resets,
])

cause_evidence contains msg if {
	diagnosis == "regression"
	msg := sprintf("revision %s took traffic %d minutes ago (regression window %s)", [
		input.signals.serving_revision,
		input.signals.serving_revision_age_minutes,
		defaults.regression_window,
	])
}

cause_evidence contains msg if {
	diagnosis == "regression"
	msg := sprintf("memory rose from %v before it served to %v now", [
		two(input.signals.memory_before_serving),
		two(input.signals.memory_now),
	])
}

cause_evidence contains msg if {
	diagnosis == "regression"
	input.signals.previous_ready_revision == ""
	msg := sprintf("no ready revision older than %s to roll back to", [input.signals.serving_revision])
}

cause_evidence contains msg if {
	diagnosis == "gradual_growth"
	msg := sprintf("revision %s has served for %d minutes; memory grows back after each restart", [
		input.signals.serving_revision,
		input.signals.serving_revision_age_minutes,
	])
}

cause_evidence contains msg if {
	diagnosis == "request_spike"
	msg := sprintf("request bursts with max_concurrency %d; safe concurrency for %d MiB is %d", [
		input.service.template.max_concurrency,
		input.signals.memory_limit_mib,
		input.signals.safe_concurrency,
	])
}

cause_evidence contains msg if {
	diagnosis == "insufficient_memory"
	not memory_rising
	msg := sprintf("high and flat at %s: no trend to blame", [input.service.template.memory])
}

cause_evidence contains msg if {
	diagnosis == "insufficient_memory"
	input.signals.memory_max >= oom_level
	input.signals.resets > 0
	msg := sprintf("out of memory under load: peak %v, %d resets", [two(input.signals.memory_max), input.signals.resets])
}

cause_evidence contains msg if {
	diagnosis == "unknown"
	msg := "no runbook cause matched: not a new revision rising, not hours of growth with resets, no request burst, not high and flat"
}

# The evidence every open-incident decision carries: the numbers, then the cause's own facts.
evidence := array.concat([memory_evidence, trend_evidence], sort(cause_evidence))

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
		input.signals.serving_revision,
		input.signals.previous_ready_revision,
	]),
	"evidence": evidence,
	"params": {"revision": input.signals.previous_ready_revision, "notify": notify},
}

restart_decision := {
	"action": "restart",
	"diagnosis": "gradual_growth",
	"reason": "memory grows for hours and restarts reset it: restart for fresh instances and escalate for the code fix",
	"evidence": evidence,
	"params": {"notify": notify},
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
	"evidence": evidence,
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
