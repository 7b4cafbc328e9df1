data "google_project" "this" {
  project_id = var.project_id
}

# The managed services as they are now: their runtime accounts are what runmedic must be able to
# act as when it updates them (UpdateService checks iam.serviceAccounts.actAs on the revision's
# service account).
data "google_cloud_run_v2_service" "managed" {
  for_each = local.managed

  project  = var.project_id
  location = each.value.location
  name     = each.value.name
}

locals {
  # Names the function reads; they are also documented in README.md.
  entry_point      = "Remediate"
  event_type       = "google.cloud.pubsub.topic.v1.messagePublished"
  tick_attribute   = "runmedic-kind"
  tick_value       = "verify-tick"
  env_audit_topic  = "RUNMEDIC_AUDIT_TOPIC"
  env_notify_topic = "RUNMEDIC_NOTIFY_TOPIC"
  env_config       = "RUNMEDIC_CONFIG"
  env_policies     = "RUNMEDIC_POLICIES"
  env_project      = "GOOGLE_CLOUD_PROJECT"
  env_database     = "RUNMEDIC_FIRESTORE_DATABASE"
  env_gomemlimit   = "GOMEMLIMIT"

  # Memory for messages in flight. Pub/Sub delivers up to 10 MB a message. The function acks a
  # body over its cap unread when the request announces its length (tests/bench
  # TestOversizedPushesBoundedRSS: eight at once add under 1 MiB), and reads at most the cap
  # plus one byte otherwise. 40 MiB a message is the budget from when the functions framework
  # held each body and its CloudEvent (about 24 MiB each), kept as headroom.
  pubsub_max_message_mib = 10
  inflight_message_mib   = 40
  function_base_mib      = 56 # idle process, compiled policy, clients
  # The Go runtime collects before this; the rest of the instance's memory is for the runtime's
  # own overhead and whatever is not heap.
  gomemlimit_mib        = floor(var.function_memory_mib * 0.8)
  function_inflight_mib = local.function_base_mib + var.function_concurrency * local.inflight_message_mib

  managed = {
    for s in var.managed_services :
    "${coalesce(s.location, var.region)}/${s.name}" => {
      name     = s.name
      location = coalesce(s.location, var.region)
    }
  }

  # A service without an explicit account runs as the Compute Engine default account.
  default_compute_sa = "${data.google_project.this.number}-compute@developer.gserviceaccount.com"
  managed_runtime_sas = toset([
    for k, svc in data.google_cloud_run_v2_service.managed :
    try(coalesce(svc.template[0].service_account), local.default_compute_sa)
  ])

  # Google-managed service agents that need a grant on this module's resources.
  monitoring_notification_agent = "service-${data.google_project.this.number}@gcp-sa-monitoring-notification.iam.gserviceaccount.com"
  pubsub_agent                  = "service-${data.google_project.this.number}@gcp-sa-pubsub.iam.gserviceaccount.com"

  function_env = merge(
    {
      (local.env_audit_topic)  = google_pubsub_topic.audit.id
      (local.env_notify_topic) = google_pubsub_topic.notify.id
      (local.env_project)      = var.project_id
      (local.env_database)     = google_firestore_database.ledger.name
      (local.env_gomemlimit)   = "${local.gomemlimit_mib}MiB"
    },
    var.config_path == "" ? {} : { (local.env_config) = var.config_path },
    var.policies_dir == "" ? {} : { (local.env_policies) = var.policies_dir },
  )

  labels = merge(var.labels, { app = "runmedic" })
}

resource "google_project_service" "apis" {
  for_each = toset([
    "artifactregistry.googleapis.com",
    "cloudbuild.googleapis.com",
    "cloudfunctions.googleapis.com",
    "cloudscheduler.googleapis.com",
    "eventarc.googleapis.com",
    "firestore.googleapis.com",
    "iam.googleapis.com",
    "monitoring.googleapis.com",
    "pubsub.googleapis.com",
    "run.googleapis.com",
    "secretmanager.googleapis.com",
    "storage.googleapis.com",
  ])

  project            = var.project_id
  service            = each.value
  disable_on_destroy = false
}

# The allowlist runmedic enforces lives in the config baked into the upload. A service granted
# here but missing there is never touched; one listed there but not granted here fails with
# PERMISSION_DENIED at apply time. Warn on both.
check "allowlist_matches_managed_services" {
  assert {
    condition = try(
      toset([for s in yamldecode(file("${var.source_dir}/policies/data/config.yaml")).services : "${s.location}/${s.service}" if s.project == var.project_id]) == toset(keys(local.managed)),
      false,
    )
    error_message = "The allowlist in ${var.source_dir}/policies/data/config.yaml (services of project ${var.project_id}) differs from managed_services, or the upload is not staged yet (run ../deploy.sh --dry-run)."
  }
}
