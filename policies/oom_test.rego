# METADATA
# title: Tests of the memory runbook policy
# description: >-
#   One test per runbook row and per trap. Every test pins data.runmedic.config to the bundled
#   defaults, so the tests mean the same under `opa test` and `runmedic test`.
package runmedic.oom_test

import data.runmedic.oom

config := {
	"defaults": {
		"mode": "enforce",
		"memory_steps": ["512Mi", "1Gi", "2Gi", "4Gi", "8Gi", "16Gi", "32Gi"],
		"memory_ceiling": "8Gi",
		"cpu_ceiling": "4",
		"cooldown": "15m",
		"max_actions_per_day": 3,
		"regression_window": "24h",
		"verify_after": "10m",
		"verify_below": 0.8,
		"memory_threshold": 0.85,
		"escalation": [
			{"after": "5m", "notify": "backend-lead@aiprod.ai"},
			{"after": "15m", "notify": "service-lead"},
			{"after": "30m", "notify": "engineering-manager"},
		],
	},
	"services": [{"project": "aiprod-484120", "location": "europe-west1", "service": "aiprod-api"}],
}

everyone := ["backend-lead@aiprod.ai"]

# An open incident on a 2Gi service that has served for days: high and flat.
base := {
	"version": 1,
	"captured_at": "2026-02-04T10:30:00Z",
	"incident": {
		"id": "0.nrwotmyokd9n",
		"state": "open",
		"policy": "alert-memory-high",
		"observed": 0.93,
		"threshold": 0.85,
		"labels": {"remediation": "auto"},
	},
	"target": {"project": "aiprod-484120", "location": "europe-west1", "service": "aiprod-api"},
	"service": {
		"labels": {},
		"template": {"memory": "2Gi", "cpu": "1", "max_concurrency": 80},
	},
	"signals": {
		"has_memory_data": true,
		"memory_now": 0.93,
		"memory_max": 0.94,
		"memory_slope_per_hour": 0.01,
		"rising_minutes": 4,
		"resets": 0,
		"minutes_above_threshold": 34,
		"memory_before_serving": 0,
		"request_spike": false,
		"serving_revision": "aiprod-api-00042-abc",
		"serving_revision_age_minutes": 4000,
		"traffic_pinned": false,
		"previous_ready_revision": "aiprod-api-00041-xyz",
		"memory_limit_mib": 2048,
		"cpu_limit": 1,
		"next_memory_step": "4Gi",
		"next_memory_step_cpu": "",
		"safe_concurrency": 29,
		"actions_last_24h": 0,
		"minutes_since_last_action": -1,
	},
}

with_signals(patch) := object.union(base, {"signals": object.union(base.signals, patch)})

# A revision deployed 40 minutes ago: memory was 0.41 before and has climbed since.
regressed := with_signals({
	"memory_now": 0.9,
	"memory_max": 0.9,
	"memory_slope_per_hour": 0.6,
	"rising_minutes": 38,
	"minutes_above_threshold": 3,
	"memory_before_serving": 0.41,
	"serving_revision_age_minutes": 40,
})

# An old revision whose memory climbs for hours and drops at each restart.
growing := with_signals({
	"memory_now": 0.88,
	"memory_slope_per_hour": 0.12,
	"rising_minutes": 170,
	"resets": 2,
	"minutes_above_threshold": 6,
})

spiking := with_signals({
	"memory_now": 0.7,
	"memory_max": 0.97,
	"memory_slope_per_hour": 0,
	"rising_minutes": 0,
	"minutes_above_threshold": 4,
	"request_spike": true,
})

decide(input_doc) := x if {
	x := oom.decision with input as input_doc with data.runmedic.config as config
}

diagnose(input_doc) := x if {
	x := oom.diagnosis with input as input_doc with data.runmedic.config as config
}

refusals(input_doc) := x if {
	x := oom.deny with input as input_doc with data.runmedic.config as config
}

test_closed_incident_records_recovery if {
	d := decide(object.union(base, {"incident": {"state": "closed"}}))
	d.action == "none"
	d.diagnosis == "recovered"
	d.params == {}
}

test_closed_wins_over_budget_and_regression if {
	doc := object.union(regressed, {"incident": {"state": "closed"}, "signals": {"actions_last_24h": 9}})
	decide(doc).action == "none"
}

test_no_memory_data_escalates_without_acting if {
	d := decide(with_signals({"has_memory_data": false}))
	d.action == "escalate"
	d.diagnosis == "unknown"
	d.params.notify == everyone
	d.evidence == ["no memory utilization points for service aiprod-api"]
}

test_over_budget_escalates_with_the_diagnosis if {
	d := decide(with_signals({"actions_last_24h": 3}))
	d.action == "escalate"
	d.diagnosis == "insufficient_memory"
	d.reason == "3 actions in the last 24h reach the budget of 3: escalate only"
}

test_over_budget_blocks_rollback_too if {
	d := decide(object.union(regressed, {"signals": {"actions_last_24h": 4}}))
	d.action == "escalate"
	d.diagnosis == "regression"
}

test_regression_rolls_back_to_previous_ready_revision if {
	d := decide(regressed)
	d.action == "rollback"
	d.diagnosis == "regression"
	d.params == {"revision": "aiprod-api-00041-xyz", "notify": everyone}
	"revision aiprod-api-00042-abc took traffic 40 minutes ago (regression window 24h)" in d.evidence
	"memory rose from 0.41 before it served to 0.9 now" in d.evidence
}

test_regression_without_previous_revision_takes_the_leak_path if {
	d := decide(object.union(regressed, {"signals": {"previous_ready_revision": ""}}))
	d.action == "restart"
	d.diagnosis == "regression"
	d.params == {"notify": everyone}
	"no ready revision older than aiprod-api-00042-abc to roll back to (previous_ready_revision empty): the leak path" in d.evidence
}

test_regression_without_previous_revision_shows_the_growth if {
	d := decide(object.union(regressed, {"signals": {"previous_ready_revision": "", "growth_minutes": 40, "growth_per_hour": 0.3, "minutes_to_limit": 30}}))
	d.action == "restart"
	some e in d.evidence
	startswith(e, "memory has grown for 40 minutes at 0.3 an hour (growth_minutes, growth_per_hour)")
}

test_regression_without_previous_revision_at_ceiling_escalates if {
	d := decide(object.union(regressed, {"signals": {"previous_ready_revision": "", "next_memory_step": "", "resets": 1}}))
	d.action == "escalate"
	d.diagnosis == "regression"
	"no ready revision older than aiprod-api-00042-abc to roll back to (previous_ready_revision empty): the leak path" in d.evidence
}

test_trap_memory_already_high_before_the_revision_is_no_regression if {
	diagnose(object.union(regressed, {"signals": {"memory_before_serving": 0.85}})) != "regression"
}

test_trap_unknown_memory_before_the_revision_is_no_regression if {
	diagnose(object.union(regressed, {"signals": {"memory_before_serving": 0}})) != "regression"
}

test_trap_revision_older_than_window_is_no_regression if {
	diagnose(object.union(regressed, {"signals": {"serving_revision_age_minutes": 1500}})) != "regression"
}

test_regression_window_comes_from_config if {
	short := object.union(config, {"defaults": {"regression_window": "30m"}})
	d := oom.decision with input as regressed with data.runmedic.config as short
	d.action != "rollback"
}

test_trap_small_rise_is_no_regression if {
	diagnose(object.union(regressed, {"signals": {"memory_now": 0.45, "memory_max": 0.45}})) != "regression"
}

test_trap_short_rise_is_no_regression if {
	diagnose(object.union(regressed, {"signals": {"rising_minutes": 5}})) != "regression"
}

test_gradual_growth_that_already_restarts_raises_as_a_stopgap if {
	d := decide(growing)
	d.action == "raise_memory"
	d.diagnosis == "gradual_growth"
	d.params == {"memory": "4Gi", "notify": everyone}
	d.reason == "instances already OOM-restart from a leak: raise memory from 2Gi to 4Gi as a stopgap, not the fix, and escalate for the code fix"
	"memory trend 0.12 an hour, rising for 170 minutes, 2 resets" in d.evidence
	"revision aiprod-api-00042-abc has served for 4000 minutes; memory grows back after each restart" in d.evidence
}

test_trap_growth_without_resets_is_not_gradual_growth if {
	d := decide(object.union(growing, {"signals": {"resets": 0}}))
	d.diagnosis == "unknown"
	d.action == "escalate"
}

test_request_spike_lowers_concurrency_to_safe if {
	d := decide(spiking)
	d.action == "lower_concurrency"
	d.diagnosis == "request_spike"
	d.params == {"max_concurrency": 29, "notify": everyone}
	"request bursts with max_concurrency 80; safe concurrency for 2048 MiB is 29" in d.evidence
}

test_request_spike_already_at_safe_concurrency_raises_memory if {
	doc := object.union(spiking, {"service": {"template": {"max_concurrency": 20}}})
	d := decide(doc)
	d.action == "raise_memory"
	d.diagnosis == "request_spike"
	d.params == {"memory": "4Gi", "notify": everyone}
}

test_trap_request_spike_with_no_safe_concurrency_raises_memory if {
	d := decide(object.union(spiking, {"signals": {"safe_concurrency": 0}}))
	d.action == "raise_memory"
}

test_high_and_flat_raises_memory_one_step if {
	d := decide(base)
	d.action == "raise_memory"
	d.diagnosis == "insufficient_memory"
	d.params == {"memory": "4Gi"}
	d.reason == "insufficient_memory: raise memory from 2Gi to 4Gi"
	d.evidence == [
		"memory p99 0.93 (threshold 0.85) for 34 minutes, peak 0.94",
		"memory trend 0.01 an hour, rising for 4 minutes, 0 resets",
		"high and flat at 2Gi: no trend to blame",
	]
}

test_raise_memory_carries_the_cpu_the_step_needs if {
	d := decide(with_signals({"next_memory_step": "8Gi", "next_memory_step_cpu": "2"}))
	d.params == {"memory": "8Gi", "cpu": "2"}
}

test_out_of_memory_under_load_raises_memory if {
	doc := with_signals({
		"memory_now": 0.6,
		"memory_max": 0.99,
		"memory_slope_per_hour": 0.3,
		"rising_minutes": 20,
		"resets": 3,
		"minutes_above_threshold": 2,
	})
	d := decide(doc)
	d.action == "raise_memory"
	d.diagnosis == "insufficient_memory"
	"out of memory under load: peak 0.99, 3 resets" in d.evidence
}

test_at_the_ceiling_escalates_with_the_evidence if {
	d := decide(with_signals({"next_memory_step": ""}))
	d.action == "escalate"
	d.diagnosis == "insufficient_memory"
	d.params == {"notify": everyone}
	d.reason == "2Gi is the largest memory step allowed (ceiling 8Gi): escalate"
	"high and flat at 2Gi: no trend to blame" in d.evidence
}

test_nothing_matched_escalates_as_unknown if {
	doc := with_signals({"memory_now": 0.5, "memory_max": 0.6, "minutes_above_threshold": 0})
	d := decide(doc)
	d.action == "escalate"
	d.diagnosis == "unknown"
	some line in d.evidence
	startswith(line, "no runbook cause matched")
}

test_threshold_defaults_to_85_percent_without_one if {
	doc := object.union(
		with_signals({"memory_now": 0.86, "minutes_above_threshold": 0}),
		{"incident": {"threshold": null}},
	)
	d := decide(doc)
	d.action == "raise_memory"
	startswith(d.evidence[0], "memory p99 0.86 (threshold 0.85)")
}

test_threshold_comes_from_the_config if {
	doc := object.union(
		with_signals({"memory_now": 0.86, "minutes_above_threshold": 0, "threshold": 0.9}),
		{"incident": {"threshold": 0.85}},
	)
	decide(doc).diagnosis == "unknown"
}

test_a_forged_low_alert_threshold_is_shown_not_trusted if {
	doc := object.union(
		with_signals({"memory_now": 0.62, "memory_max": 0.63, "minutes_above_threshold": 0, "threshold": 0.85}),
		{"incident": {"threshold": 0.1}},
	)
	d := decide(doc)
	d.action != "raise_memory"
	startswith(d.evidence[0], "memory p99 0.62 (threshold 0.85; the alert said 0.1)")
}

test_integer_values_print_as_integers if {
	d := decide(with_signals({"memory_now": 1, "memory_max": 1}))
	startswith(d.evidence[0], "memory p99 1 (threshold 0.85)")
}

test_evidence_prints_the_numbers_runmedic_rounded if {
	doc := object.union(base, {"rounded": {"memory_now": 0.5, "threshold": 0.75, "incident_threshold": 0.75, "memory_max": 0.25}})
	startswith(decide(doc).evidence[0], "memory p99 0.5 (threshold 0.75) for 34 minutes, peak 0.25")
}

test_deny_when_the_alert_asks_for_manual_remediation if {
	refusals(object.union(base, {"incident": {"labels": {"remediation": "manual"}}})) == {"alert policy label remediation=manual: runmedic only plans"}
}

test_deny_when_the_service_asks_for_manual_remediation if {
	refusals(object.union(base, {"service": {"labels": {"remediation": "manual"}}})) == {"service aiprod-api has label remediation=manual: runmedic only plans"}
}

test_no_refusals_by_default if {
	count(refusals(base)) == 0
}

test_missing_labels_are_no_refusal if {
	count(refusals(object.union(base, {"incident": {"labels": null}, "service": {"labels": null}}))) == 0
}

test_closed_incident_is_diagnosed_recovered if {
	diagnose(object.union(base, {"incident": {"state": "closed"}})) == "recovered"
}

test_minutes_above_threshold_count_as_high_when_memory_dipped if {
	d := decide(with_signals({"memory_now": 0.8, "minutes_above_threshold": 12}))
	d.action == "raise_memory"
	d.diagnosis == "insufficient_memory"
}

test_a_blip_above_threshold_is_not_high if {
	diagnose(with_signals({"memory_now": 0.8, "minutes_above_threshold": 2})) == "unknown"
}

test_renotification_after_the_fix_does_not_act_twice if {
	acted := {"incident": "0.nrwotmyokd9n", "action": "raise_memory", "at": "2026-02-04T10:26:00Z", "changes": [], "outcome": "applied"}
	d := decide(object.union(base, {"history": [acted]}))
	d.action == "none"
	d.evidence[0] == "raise_memory at 2026-02-04T10:26:00Z, outcome applied"
}

test_a_failed_action_on_the_incident_does_not_stop_the_next_step if {
	failed := {"incident": "0.nrwotmyokd9n", "action": "raise_memory", "at": "2026-02-04T10:00:00Z", "changes": [], "outcome": "failed"}
	d := decide(object.union(base, {"history": [failed]}))
	d.action == "raise_memory"
}

test_an_action_for_another_incident_does_not_count if {
	other := {"incident": "0.other", "action": "raise_memory", "at": "2026-02-04T10:00:00Z", "changes": [], "outcome": "applied"}
	d := decide(object.union(base, {"history": [other]}))
	d.action == "raise_memory"
}

test_memory_exactly_at_the_threshold_is_not_high if {
	not oom.memory_high with input as with_signals({"memory_now": 0.85, "minutes_above_threshold": 0})
		with data.runmedic.config as config
}

# The signals a current snapshot carries: growth seen through restarts, revisions, logs and
# verification. A service on an old revision, high and flat, logs read with no kill.
current := with_signals({
	"growth_minutes": 0,
	"growth_per_hour": 0,
	"memory_plateau": true,
	"minutes_to_limit": -1,
	"suspect_revision": "",
	"suspect_by": "",
	"suspect_percent": 0,
	"suspect_revision_age_minutes": -1,
	"memory_before_suspect": -1,
	"suspect_memory_now": 0,
	"logs_available": true,
	"oom_kills": 0,
	"minutes_below_verify": 0,
	"recovered_early": false,
	"already_acted": false,
	"verification_failed": false,
})

# A leak on an old revision, climbing for hours, no restart and no OOM kill yet.
leaking := object.union(current, {"signals": {
	"memory_now": 0.88,
	"growth_minutes": 170,
	"growth_per_hour": 0.05,
	"memory_plateau": false,
	"minutes_to_limit": 144,
}})

# A canary at 10 % deployed an hour ago leaks; the week-old revision serving 90 % is flat.
canary_leak := object.union(current, {"signals": {
	"serving_revision": "aiprod-api-00042-abc",
	"previous_ready_revision": "aiprod-api-00042-abc",
	"suspect_revision": "aiprod-api-00043-new",
	"suspect_by": "memory",
	"suspect_percent": 10,
	"suspect_revision_age_minutes": 60,
	"memory_before_suspect": 0.55,
	"suspect_memory_now": 0.93,
	"growth_minutes": 58,
	"growth_per_hour": 0.4,
}})

test_leak_without_restarts_restarts_and_escalates if {
	d := decide(leaking)
	d.action == "restart"
	d.diagnosis == "gradual_growth"
	d.params == {"notify": everyone}
	"memory has grown for 170 minutes at 0.05 an hour (growth_minutes, growth_per_hour) through 0 restarts (resets); 144 minutes to the limit at that rate (minutes_to_limit)" in d.evidence
	"revision aiprod-api-00042-abc has served for 4000 minutes; no restart yet" in d.evidence
	"logs: no OOM kill in the window (oom_kills 0)" in d.evidence
}

test_leak_with_oom_kills_raises_to_hold_the_largest_used if {
	doc := object.union(leaking, {"signals": {"oom_kills": 4, "oom_max_used_mib": 2300, "minutes_since_oom_kill": 12, "next_memory_step": "4Gi"}})
	d := decide(doc)
	d.action == "raise_memory"
	d.diagnosis == "gradual_growth"
	d.params == {"memory": "4Gi", "notify": everyone}
	"logs: 4 OOM kills in the window (oom_kills), largest used 2300 MiB (oom_max_used_mib), the last 12 minutes ago" in d.evidence
	"4Gi holds the largest used 2300 MiB with 20% headroom" in d.evidence
}

test_leak_that_restarts_at_the_ceiling_escalates if {
	d := decide(object.union(leaking, {"signals": {"resets": 3, "next_memory_step": ""}}))
	d.action == "escalate"
	d.diagnosis == "gradual_growth"
	d.params == {"notify": everyone}
}

test_trap_growth_shorter_than_two_hours_is_no_leak if {
	diagnose(object.union(leaking, {"signals": {"growth_minutes": 90}})) != "gradual_growth"
}

test_canary_that_leaks_rolls_back_to_the_stable_revision if {
	d := decide(canary_leak)
	d.action == "rollback"
	d.diagnosis == "regression"
	d.params == {"revision": "aiprod-api-00042-abc", "notify": everyone}
	d.reason == "memory has risen since aiprod-api-00043-new took traffic: send 100% to aiprod-api-00042-abc"
	"suspect_revision aiprod-api-00043-new (suspect_by memory) serves 10% and is 60 minutes old: its memory rose from 0.55 before it took traffic (memory_before_suspect) to 0.93 (suspect_memory_now) while the older revisions stay flat" in d.evidence
}

test_canary_with_oom_kills_alone_rolls_back if {
	doc := object.union(canary_leak, {"signals": {"suspect_by": "oom_kills", "suspect_memory_now": 0.6}})
	decide(doc).action == "rollback"
}

test_trap_canary_high_before_it_took_traffic_is_no_regression if {
	diagnose(object.union(canary_leak, {"signals": {"memory_before_suspect": 0.9}})) != "regression"
}

test_recovered_before_the_alert_pages_nobody if {
	d := decide(object.union(current, {"signals": {"memory_now": 0.62, "minutes_below_verify": 22, "recovered_early": true}}))
	d.action == "none"
	d.diagnosis == "recovered"
	d.params == {}
	d.reason == "memory has been below 0.8 for 22 minutes (minutes_below_verify, at least verify_after 10m): recovered before the alert arrived; record it, page nobody"
}

test_failed_verification_escalates if {
	doc := object.union(current, {
		"signals": {"verification_failed": true},
		"history": [{
			"incident": "0.nrwotmyokd9n", "action": "raise_memory", "at": "2026-02-04T10:00:00Z",
			"outcome": "applied", "changes": [{"path": "template.memory", "before": "1Gi", "after": "2Gi"}],
		}],
	})
	d := decide(doc)
	d.action == "escalate"
	d.params == {"notify": everyone}
	d.evidence[0] == "raise_memory at 2026-02-04T10:00:00Z, outcome applied"
	d.reason == "runmedic's change for incident 0.nrwotmyokd9n failed verification (verification_failed): memory stayed at or above 0.8 after 10m; escalate"
}

test_logs_that_cannot_be_read_are_named_in_the_evidence if {
	doc := object.union(current, {
		"logs": {"available": false, "error": "permission denied", "oom_kills": []},
		"signals": {"logs_available": false, "logs_error": "permission denied", "oom_kills": null},
	})
	d := decide(json.remove(doc, ["signals/oom_kills"]))
	d.action == "raise_memory"
	"logs unavailable (permission denied): OOM-kill signals absent, decided from metrics only" in d.evidence
}

test_oom_kills_at_a_flat_level_are_insufficient_memory if {
	doc := object.union(current, {"signals": {
		"memory_max": 0.99, "oom_kills": 3, "oom_max_used_mib": 3600,
		"minutes_since_oom_kill": 5, "next_memory_step": "8Gi", "next_memory_step_cpu": "2",
	}})
	d := decide(doc)
	d.action == "raise_memory"
	d.diagnosis == "insufficient_memory"
	d.params == {"memory": "8Gi", "cpu": "2"}
	"OOM kills at a flat level (memory_plateau true): out of memory under load, not a leak" in d.evidence
	"8Gi holds the largest used 3600 MiB with 20% headroom" in d.evidence
}

test_regression_reads_the_growth_signals if {
	doc := object.union(current, {"signals": {
		"memory_now": 0.9, "memory_before_serving": 0.41, "serving_revision_age_minutes": 40,
		"growth_minutes": 38, "growth_per_hour": 0.6, "rising_minutes": 0,
	}})
	decide(doc).action == "rollback"
}
