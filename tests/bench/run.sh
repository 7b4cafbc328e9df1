#!/usr/bin/env bash
# Measures every performance target of DESIGN.md on this machine and prints the table, with the
# machine, the Go version and the load average next to the figures. RUNS sets how many
# interleaved `runmedic plan` / `opa eval` pairs are timed (default 20). RUNMEDIC_SOAK=1 also
# runs the 50,000-delivery soak (several minutes).
set -euo pipefail

cd "$(dirname "$0")/../.."
runs=${RUNS:-20}
scenario=tests/scenarios/insufficient-memory
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

log() { printf '%s\n' "$*" >&2; }

# metric BENCH UNIT < go-test-output: the value reported with UNIT on BENCH's line.
metric() {
  awk -v name="$1" -v unit="$2" '$1 ~ name { for (i = 2; i <= NF; i++) if ($i == unit) { print $(i - 1); exit } }'
}

# median < numbers
median() {
  sort -n | awk '{ v[NR] = $1 } END { if (NR == 0) print "?"; else if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

now_us() { echo $(( $(date +%s%N) / 1000 )); }

log "building runmedic"
go build -o "$work/runmedic" ./cmd/runmedic
opa=$(command -v opa || true)
if [[ -z "$opa" ]]; then
  log "installing opa v1.22.3"
  GOBIN="$work/bin" go install github.com/open-policy-agent/opa@v1.22.3
  opa="$work/bin/opa"
fi
go run ./tests/bench/input -scenario "$scenario" -out "$work"

log "decision latency (go test -bench BenchmarkDecision)"
decision=$(go test -run '^$' -bench 'BenchmarkDecision/insufficient-memory' -benchtime 5000x ./internal/remediate/)
dec_p50=$(metric BenchmarkDecision/insufficient-memory p50-µs <<<"$decision")
dec_p99=$(metric BenchmarkDecision/insufficient-memory p99-µs <<<"$decision")
rego=$(go test -run '^$' -bench 'BenchmarkDecide$' -benchtime 5000x ./internal/policy/)
rego_ns=$(metric BenchmarkDecide ns/op <<<"$rego")

log "runmedic plan vs opa eval, $runs interleaved runs each"
: >"$work/plan.txt"
: >"$work/opa.txt"
for _ in $(seq "$runs"); do
  t0=$(now_us)
  status=0
  "$work/runmedic" plan --incident "$scenario/incident.json" --snapshot "$scenario/snapshot.json" -no-color >/dev/null || status=$?
  t1=$(now_us)
  if [[ $status -ne 2 ]]; then
    log "runmedic plan exited $status, want 2 (changes)"
    exit 1
  fi
  "$opa" eval -d policies/oom.rego -d "$work/data.json" -i "$work/input.json" \
    'decision := data.runmedic.oom.decision; deny := [m | some m in data.runmedic.oom.deny]' >/dev/null
  t2=$(now_us)
  echo $(( t1 - t0 )) >>"$work/plan.txt"
  echo $(( t2 - t1 )) >>"$work/opa.txt"
done
plan_ms=$(median <"$work/plan.txt" | awk '{ printf "%.1f", $1 / 1000 }')
opa_ms=$(median <"$work/opa.txt" | awk '{ printf "%.1f", $1 / 1000 }')
ratio=$(awk -v p="$plan_ms" -v o="$opa_ms" 'BEGIN { printf "%.2f", p / o }')

log "cold start (go test -bench BenchmarkColdStart)"
cold=$(go test -run '^$' -bench 'BenchmarkColdStart' -benchtime 10x ./tests/bench/)
cold_p50=$(metric BenchmarkColdStart p50-ms <<<"$cold")
cold_rss=$(metric BenchmarkColdStart peak-RSS-MiB <<<"$cold")

log "replay of 10,000 scenarios (go test -bench BenchmarkReplay)"
rep=$(go test -run '^$' -bench 'BenchmarkReplay$' -benchtime 1x ./tests/bench/)
rep_wall=$(metric BenchmarkReplay wall-s <<<"$rep")
rep_rss=$(metric BenchmarkReplay peak-RSS-MiB <<<"$rep")

log "alert delivered -> UpdateService issued (go test -bench BenchmarkAlertToUpdate)"
lat=$(go test -run '^$' -bench 'BenchmarkAlertToUpdate' -benchtime 300x ./tests/bench/)
lat_p50=$(metric BenchmarkAlertToUpdate p50-ms <<<"$lat")
lat_p99=$(metric BenchmarkAlertToUpdate p99-ms <<<"$lat")

log "storm (go test -bench BenchmarkStorm): 1,000 + 100 deliveries, 8 in flight"
storm=$(go test -run '^$' -bench 'BenchmarkStorm' -benchtime 1x ./tests/bench/)
storm_eps=$(metric BenchmarkStorm events/s <<<"$storm")

log "fleet event (go test -bench BenchmarkFleetEvent): 200 services at once, 30 s rollouts"
fleet=$(go test -run '^$' -bench 'BenchmarkFleetEvent' -benchtime 1x ./tests/bench/)
fleet_last=$(metric BenchmarkFleetEvent last-change-s <<<"$fleet")
fleet_verified=$(metric BenchmarkFleetEvent all-verified-s <<<"$fleet")

soak="not run (RUNMEDIC_SOAK=1 to run it)"
if [[ "${RUNMEDIC_SOAK:-}" == "1" ]]; then
  log "soak: 50,000 deliveries in-process"
  soak=$(RUNMEDIC_SOAK=1 go test -count=1 -timeout 60m -run 'TestSoak$' -v ./tests/bench/ | sed -n 's/.*soak: //p')
fi

cat <<TABLE

machine: $(nproc) cores, $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1), $(awk '/MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)
go:      $(go version | awk '{ print $3 }'), opa $("$opa" version | awk '/^Version/ { print $2 }')
date:    $(date -u +%Y-%m-%dT%H:%MZ), load average $(cut -d' ' -f1-3 /proc/loadavg)

| what | target on a 2-core machine | measured here |
| --- | --- | --- |
| one decision (signals + Rego + plan + guard), warm | p50 ≤ 250 µs, p99 ≤ 1 ms | p50 ${dec_p50} µs, p99 ${dec_p99} µs (Rego alone: $(awk -v n="$rego_ns" 'BEGIN { printf "%.0f", n / 1000 }') µs/op) |
| \`runmedic plan\` on a fixture, whole process | ≤ the time of \`opa eval\` on the same policy and input | ${plan_ms} ms vs ${opa_ms} ms: ratio ${ratio} (median of ${runs} interleaved runs) |
| \`runmedic replay\` of 10,000 scenarios, whole process | ≤ 10 s; peak RSS ≤ 256 MiB | ${rep_wall} s; peak RSS ${rep_rss} MiB |
| cold start to first decision | ≤ 50 ms; resident memory ≤ 64 MiB | p50 ${cold_p50} ms; peak RSS ${cold_rss} MiB |
| alert delivered → UpdateService issued (fakes on loopback) | p99 ≤ 20 ms | p50 ${lat_p50} ms, p99 ${lat_p99} ms |
| storm: 1,000 deliveries of one incident + 100 other incidents | exactly one change per service per cooldown; ≥ 1,000 events/s | one change per service (asserted); ${storm_eps} events/s |
| fleet event: 200 services alert at once, each rollout 30 s | every change issued within 5 s | last change issued after ${fleet_last} s; all verified at ${fleet_verified} s of fleet time |

soak: ${soak}
TABLE
