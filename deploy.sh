#!/usr/bin/env bash
# deploy.sh: stage the function upload, build and vet it, and deploy it with gcloud or Terraform.
#
# The Go functions buildpack builds the package at the root of the upload next to go.mod (and
# rejects a root package named main), so the upload is the module with the function package
# moved to its root: go.mod, go.sum, internal/, policies/ and function/*.go (tests left out).
# The module path does not change, so github.com/runmedic/runmedic/internal/... still resolves
# and the root package may import it.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
readonly ROOT
readonly MARKER=".runmedic-upload"
readonly ENTRY_POINT="Remediate"
readonly TICK_ATTRIBUTE="runmedic-kind=verify-tick"

with="gcloud"
dry_run=false
auto_approve=false
project="${RUNMEDIC_PROJECT:-}"
region="${RUNMEDIC_REGION:-}"
runtime="${RUNMEDIC_RUNTIME:-}"
runtime_set=false
function_name="runmedic"
function_name_set=false
stage_dir="$ROOT/infra/.build/upload"
config_file=""
var_file=""
service_account=""
trigger_service_account=""
max_delivery_attempts=10

usage() {
  cat <<EOF
Usage: deploy.sh [options]

Stages the function upload in --stage-dir, runs go build and go vet in it, then deploys.

  --with gcloud|terraform   gcloud: topics + gcloud functions deploy --gen2 (default)
                            terraform: terraform apply of infra/ (alerts, IAM, scheduler, ...)
  --project ID              project (env RUNMEDIC_PROJECT); gcloud: required
  --region REGION           region (env RUNMEDIC_REGION); gcloud: required
  --runtime ID              Go runtime (env RUNMEDIC_RUNTIME; default from go.mod: $(default_runtime))
  --function-name NAME      function name and resource prefix (default runmedic)
  --service-account EMAIL   gcloud: runtime identity (default NAME@PROJECT.iam.gserviceaccount.com)
  --trigger-service-account EMAIL
                            gcloud: trigger identity (default NAME-trigger@PROJECT.iam.gserviceaccount.com)
  --config FILE             replaces policies/data/config.yaml in the upload (it is embedded)
  --var-file FILE           terraform: extra -var-file (infra/terraform.tfvars is read anyway)
  --stage-dir DIR           upload directory (default infra/.build/upload); cleared on every run
  --auto-approve            terraform: apply without asking
  --dry-run                 do every local step; print each remote command instead of running it
  -h, --help                this help
EOF
}

die() {
  printf 'deploy.sh: %s\n' "$*" >&2
  exit 1
}

# default_runtime maps go.mod's go directive to a runtime ID: "go 1.26.8" -> go126.
default_runtime() {
  sed -n 's/^go \([0-9][0-9]*\)\.\([0-9][0-9]*\).*/go\1\2/p' "$ROOT/go.mod"
}

# quote renders a command as shell text that can be pasted back into a shell.
quote() {
  local out="" a
  for a in "$@"; do
    out+="${out:+ }$(printf '%q' "$a")"
  done
  printf '%s' "$out"
}

# remote runs a command that changes or reads the cloud, or prints it under --dry-run.
remote() {
  if "$dry_run"; then
    printf '+ %s\n' "$(quote "$@")"
  else
    "$@"
  fi
}

need() {
  command -v "$1" >/dev/null 2>&1 || die "$1 not found on PATH; $2"
}

parse_args() {
  while (($# > 0)); do
    case "$1" in
      --with) with="${2:?--with needs gcloud or terraform}"; shift ;;
      --with=*) with="${1#*=}" ;;
      --project) project="${2:?--project needs a value}"; shift ;;
      --project=*) project="${1#*=}" ;;
      --region) region="${2:?--region needs a value}"; shift ;;
      --region=*) region="${1#*=}" ;;
      --runtime) runtime="${2:?--runtime needs a value}"; shift ;;
      --runtime=*) runtime="${1#*=}" ;;
      --function-name) function_name="${2:?--function-name needs a value}"; function_name_set=true; shift ;;
      --function-name=*) function_name="${1#*=}"; function_name_set=true ;;
      --service-account) service_account="${2:?--service-account needs a value}"; shift ;;
      --service-account=*) service_account="${1#*=}" ;;
      --trigger-service-account) trigger_service_account="${2:?--trigger-service-account needs a value}"; shift ;;
      --trigger-service-account=*) trigger_service_account="${1#*=}" ;;
      --config) config_file="${2:?--config needs a file}"; shift ;;
      --config=*) config_file="${1#*=}" ;;
      --var-file) var_file="${2:?--var-file needs a file}"; shift ;;
      --var-file=*) var_file="${1#*=}" ;;
      --stage-dir) stage_dir="${2:?--stage-dir needs a directory}"; shift ;;
      --stage-dir=*) stage_dir="${1#*=}" ;;
      --auto-approve) auto_approve=true ;;
      --dry-run) dry_run=true ;;
      -h | --help) usage; exit 0 ;;
      *) die "unknown argument $1 (see --help)" ;;
    esac
    shift
  done

  case "$with" in
    gcloud | terraform) ;;
    *) die "--with must be gcloud or terraform, not $with" ;;
  esac
  if [[ "$with" == gcloud ]]; then
    [[ -n "$project" ]] || die "--project is required with --with gcloud"
    [[ -n "$region" ]] || die "--region is required with --with gcloud"
  fi
  if [[ -n "$runtime" ]]; then
    runtime_set=true
  else
    runtime=$(default_runtime)
    [[ -n "$runtime" ]] || die "no go directive in $ROOT/go.mod; pass --runtime"
  fi
  [[ -z "$config_file" || -f "$config_file" ]] || die "config file $config_file not found"
  [[ -z "$var_file" || -f "$var_file" ]] || die "var file $var_file not found"
  # Absolute paths: terraform runs in infra/, gcloud anywhere.
  mkdir -p "$stage_dir"
  stage_dir=$(cd "$stage_dir" && pwd)
  [[ -z "$config_file" ]] || config_file=$(cd "$(dirname "$config_file")" && pwd)/$(basename "$config_file")
  [[ -z "$var_file" ]] || var_file=$(cd "$(dirname "$var_file")" && pwd)/$(basename "$var_file")
  service_account="${service_account:-$function_name@$project.iam.gserviceaccount.com}"
  trigger_service_account="${trigger_service_account:-$function_name-trigger@$project.iam.gserviceaccount.com}"
}

# check_remote_prerequisites fails fast, before any build, when a real deploy cannot work.
check_remote_prerequisites() {
  if "$dry_run"; then
    command -v gcloud >/dev/null 2>&1 || printf 'deploy.sh: note: gcloud not found; a real run needs it\n' >&2
    if [[ "$with" == terraform ]] && ! command -v terraform >/dev/null 2>&1; then
      printf 'deploy.sh: note: terraform not found; a real run needs it\n' >&2
    fi
    return
  fi
  need gcloud "install the Google Cloud CLI (https://cloud.google.com/sdk/docs/install)"
  if [[ "$with" == terraform ]]; then
    need terraform "install Terraform >= 1.5 (https://developer.hashicorp.com/terraform/install)"
    if [[ -z "${GOOGLE_OAUTH_ACCESS_TOKEN:-}${GOOGLE_CREDENTIALS:-}" ]] &&
      ! gcloud auth application-default print-access-token >/dev/null 2>&1; then
      die "no Application Default Credentials for Terraform; run: gcloud auth application-default login"
    fi
  fi
  # gcloud is used in both modes (directly, or by infra/ to attach the dead-letter policy).
  if ! gcloud auth print-access-token >/dev/null 2>&1; then
    die "no active gcloud credentials; run: gcloud auth login (or activate a service account)"
  fi
}

# stage copies the module with the function package at its root into stage_dir.
stage() {
  local fn_dir="$ROOT/function"
  compgen -G "$fn_dir/*.go" >/dev/null || die "no Go files in $fn_dir: nothing to deploy"

  if [[ "$stage_dir" == "/" || "$stage_dir" == "$ROOT" || "$ROOT" == "$stage_dir"/* ]]; then
    die "refusing to use $stage_dir as the upload directory: it would clear the repository"
  fi
  if [[ -n "$(ls -A "$stage_dir")" && ! -f "$stage_dir/$MARKER" ]]; then
    die "refusing to clear $stage_dir: not empty and not a runmedic upload directory"
  fi
  find "$stage_dir" -mindepth 1 -delete
  touch "$stage_dir/$MARKER"

  cp "$ROOT/go.mod" "$ROOT/go.sum" "$stage_dir/"
  copy_tree internal
  copy_tree policies
  local f
  for f in "$fn_dir"/*.go; do
    [[ "$f" == *_test.go ]] || cp "$f" "$stage_dir/"
  done
  if [[ -n "$config_file" ]]; then
    mkdir -p "$stage_dir/policies/data"
    cp "$config_file" "$stage_dir/policies/data/config.yaml"
  fi
  chmod -R u+w "$stage_dir"
}

# copy_tree copies a top-level directory without Go tests and testdata: they are not part of
# the function and must not be built by the buildpack.
copy_tree() {
  local dir="$1"
  [[ -d "$ROOT/$dir" ]] || die "$ROOT/$dir not found"
  (cd "$ROOT" && find "$dir" -type d -name testdata -prune -o -type f ! -name '*_test.go' -print) |
    while IFS= read -r f; do
      mkdir -p "$stage_dir/$(dirname "$f")"
      cp "$ROOT/$f" "$stage_dir/$f"
    done
}

# check_stage enforces the buildpack's rules on the upload root.
check_stage() {
  local pkgs
  pkgs=$(sed -n 's/^package \([A-Za-z_][A-Za-z0-9_]*\).*/\1/p' "$stage_dir"/*.go | sort -u)
  [[ -n "$pkgs" ]] || die "no package clause in the upload root"
  [[ "$(wc -l <<<"$pkgs")" -eq 1 ]] || die "the upload root mixes packages: $(tr '\n' ' ' <<<"$pkgs")"
  [[ "$pkgs" != main ]] || die "the function package must not be package main"
  [[ ! -e "$stage_dir/$pkgs" ]] || die "a directory named $pkgs at the upload root would hide the root package from the buildpack"
  grep -q "functions.HTTP(\"$ENTRY_POINT\"" "$stage_dir"/*.go ||
    die "the function package does not register functions.HTTP(\"$ENTRY_POINT\", ...)"
  if grep -q '"github.com/runmedic/runmedic/function' "$stage_dir"/*.go; then
    die "the function imports its own subpackages, which do not exist in the upload"
  fi
}

build() {
  need go "install Go ($(default_runtime)) to build the upload"
  (cd "$stage_dir" && GOFLAGS=-mod=readonly go build ./... && GOFLAGS=-mod=readonly go vet ./...) ||
    die "the staged upload in $stage_dir does not build or vet"
}

topic() { printf 'projects/%s/topics/%s-%s' "$project" "$function_name" "$1"; }

deploy_gcloud() {
  local t
  for t in alerts audit notify dead-letter; do
    if "$dry_run"; then
      printf '+ %s >/dev/null 2>&1 || %s\n' \
        "$(quote gcloud pubsub topics describe "$function_name-$t" --project="$project")" \
        "$(quote gcloud pubsub topics create "$function_name-$t" --project="$project")"
    elif ! gcloud pubsub topics describe "$function_name-$t" --project="$project" >/dev/null 2>&1; then
      gcloud pubsub topics create "$function_name-$t" --project="$project"
    fi
  done

  remote gcloud functions deploy "$function_name" --gen2 \
    --project="$project" --region="$region" \
    --runtime="$runtime" --source="$stage_dir" --entry-point="$ENTRY_POINT" \
    --trigger-topic="$function_name-alerts" --retry \
    --max-instances=1 --min-instances=0 --concurrency=8 --cpu=1 --memory=512Mi --timeout=540s \
    --ingress-settings=internal-only \
    --service-account="$service_account" --trigger-service-account="$trigger_service_account" \
    --set-env-vars="RUNMEDIC_AUDIT_TOPIC=$(topic audit),RUNMEDIC_NOTIFY_TOPIC=$(topic notify),GOOGLE_CLOUD_PROJECT=$project" \
    --quiet

  attach_dead_letter
  printf 'Verify ticks: publish to %s with attribute %s (infra/ creates the Cloud Scheduler job).\n' \
    "$(topic alerts)" "$TICK_ATTRIBUTE"
}

# attach_dead_letter sets the dead-letter policy on the subscription Eventarc created for the
# trigger; neither gcloud functions deploy nor the Terraform provider can set it.
attach_dead_letter() {
  local trigger sub
  if "$dry_run"; then
    remote gcloud functions describe "$function_name" --gen2 --project="$project" --region="$region" --format='value(eventTrigger.trigger)'
    remote gcloud eventarc triggers describe '<trigger>' --project="$project" --format='value(transport.pubsub.subscription)'
    trigger='<trigger>' sub='<subscription>'
  else
    trigger=$(gcloud functions describe "$function_name" --gen2 --project="$project" --region="$region" --format='value(eventTrigger.trigger)')
    [[ -n "$trigger" ]] || die "function $function_name has no event trigger"
    sub=$(gcloud eventarc triggers describe "$trigger" --project="$project" --format='value(transport.pubsub.subscription)')
    [[ -n "$sub" ]] || die "trigger $trigger has no Pub/Sub subscription"
  fi
  remote gcloud pubsub subscriptions update "$sub" --project="$project" \
    --dead-letter-topic="$(topic dead-letter)" --max-delivery-attempts="$max_delivery_attempts" --quiet
}

deploy_terraform() {
  if [[ ! -f "$ROOT/infra/terraform.tfvars" && -z "$var_file" ]]; then
    printf 'deploy.sh: warning: infra/terraform.tfvars is missing and no --var-file was given: terraform apply will stop on the unset variables (project_id, region, managed_services); copy infra/terraform.tfvars.example to infra/terraform.tfvars and fill it in\n' >&2
  fi
  # Flags given on this command line win over the var file: -var comes after -var-file.
  local args=(-input=false)
  [[ -z "$var_file" ]] || args+=("-var-file=$var_file")
  args+=("-var=source_dir=$stage_dir")
  [[ -z "$project" ]] || args+=("-var=project_id=$project")
  [[ -z "$region" ]] || args+=("-var=region=$region")
  if "$function_name_set"; then args+=("-var=function_name=$function_name"); fi
  if "$runtime_set"; then args+=("-var=go_runtime=$runtime"); fi
  if "$auto_approve"; then args+=(-auto-approve); fi
  remote terraform -chdir="$ROOT/infra" init -input=false
  remote terraform -chdir="$ROOT/infra" apply "${args[@]}"
}

main() {
  parse_args "$@"
  check_remote_prerequisites
  stage
  check_stage
  build
  printf 'Staged and built %s (runtime %s, entry point %s).\n' "$stage_dir" "$runtime" "$ENTRY_POINT"
  case "$with" in
    gcloud) deploy_gcloud ;;
    terraform) deploy_terraform ;;
  esac
}

main "$@"
