#!/usr/bin/env bash
# Runs every test of runmedic: checks the tools the tests need (failing at once, with how to get
# them), installs shellcheck, chromium and staticcheck when they are missing, then runs
#   - go test -race ./..., with one line per package as it finishes (tests/progress)
#   - the shell scripts through shellcheck
#   - staticcheck ./...
# The tests start the Pub/Sub and Firestore emulators (Java), fake Cloud Run, Monitoring and Logging gRPC servers
# on loopback, the functions framework, headless Chromium and runmedic binaries they build. On 2 cores the whole run
# takes about five minutes. Arguments, if any, replace ./... (e.g. ./test.sh ./internal/config/...).
set -euo pipefail
cd "$(dirname "$0")"

die() { echo "test.sh: $*" >&2; exit 1; }

staticcheck_version=v0.8.2

command -v go >/dev/null || die "go is not on PATH: install Go 1.26 (https://go.dev/dl/)"
command -v gcloud >/dev/null || die "gcloud is not on PATH: install the Google Cloud CLI (https://cloud.google.com/sdk/docs/install), then: gcloud components install pubsub-emulator"
command -v java >/dev/null || die "java is not on PATH: the Pub/Sub emulator needs a Java 17 runtime (apt-get install -y openjdk-17-jre-headless)"
emulator_dir="$(gcloud info --format='value(installation.sdk_root)' 2>/dev/null)/platform/pubsub-emulator"
[ -x "$emulator_dir/bin/cloud-pubsub-emulator" ] || die "the Pub/Sub emulator is not installed (looked in $emulator_dir): gcloud components install pubsub-emulator (or apt-get install google-cloud-cli-pubsub-emulator)"
firestore_dir="$(dirname "$emulator_dir")/cloud-firestore-emulator"
[ -x "$firestore_dir/cloud_firestore_emulator" ] || die "the Firestore emulator is not installed (looked in $firestore_dir): gcloud components install cloud-firestore-emulator (or apt-get install google-cloud-cli-firestore-emulator)"
command -v terraform >/dev/null || die "terraform is not on PATH: infra/ is checked with terraform fmt; install Terraform >= 1.5 (https://developer.hashicorp.com/terraform/install)"

# Debian packages the suite needs beyond the machine image: shellcheck for the scripts, chromium
# to render the HTML reports for the screenshot tests.
missing=()
command -v shellcheck >/dev/null || missing+=(shellcheck)
command -v chromium >/dev/null || command -v chromium-browser >/dev/null || missing+=(chromium)
if [ "${#missing[@]}" -gt 0 ]; then
	echo "== installing ${missing[*]} (apt-get)"
	sudo=""
	[ "$(id -u)" -eq 0 ] || sudo="sudo"
	{ $sudo apt-get update -qq && $sudo apt-get install -y -qq "${missing[@]}" >/dev/null; } ||
		die "could not install ${missing[*]}: install them (apt-get install ${missing[*]}) and run again"
fi
gobin="$(go env GOPATH)/bin"
staticcheck="$(command -v staticcheck || true)"
if [ -z "$staticcheck" ] && [ -x "$gobin/staticcheck" ]; then
	staticcheck="$gobin/staticcheck"
fi
if [ -z "$staticcheck" ]; then
	echo "== installing staticcheck $staticcheck_version (go install)"
	go install "honnef.co/go/tools/cmd/staticcheck@$staticcheck_version" || die "could not install staticcheck"
	staticcheck="$gobin/staticcheck"
fi

packages=("$@")
[ "${#packages[@]}" -gt 0 ] || packages=(./...)

echo "== go test -race ${packages[*]} (about five minutes for ./...; a still-running note every 30 s)"
progress="$(mktemp -d)/progress"
trap 'rm -rf "$(dirname "$progress")"' EXIT
go build -o "$progress" ./tests/progress
status=0
go test -race -json "${packages[@]}" 2>&1 | "$progress" || status=1

echo "== shellcheck"
shellcheck --severity=style test.sh deploy.sh .ci/run tests/bench/run.sh || status=1

echo "== staticcheck ${packages[*]}"
"$staticcheck" "${packages[@]}" || status=1

[ "$status" -eq 0 ] || die "failed: see above"
echo "== all passed"
