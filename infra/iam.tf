# The function's identity. Every grant is on a single resource except monitoring.viewer,
# logging.viewer and run.operations.get, which have no narrower scope than the project, and
# datastore.user, which an IAM condition limits to runmedic's database.
resource "google_service_account" "runtime" {
  project      = var.project_id
  account_id   = var.function_name
  display_name = "runmedic function runtime"
  description  = "Reads and updates only the managed Cloud Run services; publishes audit and notification events."
}

# Pushes events from the alert topic to the function; may invoke that function and nothing else.
resource "google_service_account" "trigger" {
  project      = var.project_id
  account_id   = "${var.function_name}-trigger"
  display_name = "runmedic event trigger"
  description  = "Identity of the Eventarc trigger that delivers alerts and verify ticks to the function."
}

# Builds the function image; writes to runmedic's own repository and reads runmedic's own bucket.
resource "google_service_account" "build" {
  project      = var.project_id
  account_id   = "${var.function_name}-build"
  display_name = "runmedic function build"
  description  = "Cloud Build identity for the function's source build."
}

# Only the Cloud Run calls the adapter makes: GetService, UpdateService, GetRevision and
# ListRevisions. Not run.developer, which can also delete services and read every job.
resource "google_project_iam_custom_role" "service_updater" {
  project     = var.project_id
  role_id     = "runmedicServiceUpdater"
  title       = "runmedic service updater"
  description = "Read and update a Cloud Run service and read its revisions; never create or delete."
  permissions = [
    "run.revisions.get",
    "run.revisions.list",
    "run.services.get",
    "run.services.update",
  ]
}

# UpdateService returns a long-running operation; waiting on it is GetOperation. Operations are
# named under the location, not the service, so this one permission is granted on the project.
resource "google_project_iam_custom_role" "operation_reader" {
  project     = var.project_id
  role_id     = "runmedicOperationReader"
  title       = "runmedic operation reader"
  description = "Read the Cloud Run operations runmedic's own updates return."
  permissions = ["run.operations.get"]
}

# UpdateService deploys a revision that runs as the service's account: runmedic must be able to
# act as that account and do nothing else with it (roles/iam.serviceAccountUser would also let
# it list and read every account).
resource "google_project_iam_custom_role" "act_as" {
  project     = var.project_id
  role_id     = "runmedicActAs"
  title       = "runmedic act as"
  description = "Deploy revisions that run as a managed service's own account."
  permissions = ["iam.serviceAccounts.actAs"]
}

resource "google_cloud_run_v2_service_iam_member" "runtime_service_updater" {
  for_each = local.managed

  project  = var.project_id
  location = each.value.location
  name     = each.value.name
  role     = google_project_iam_custom_role.service_updater.name
  member   = google_service_account.runtime.member
}

resource "google_project_iam_member" "runtime_operation_reader" {
  project = var.project_id
  role    = google_project_iam_custom_role.operation_reader.name
  member  = google_service_account.runtime.member
}

resource "google_service_account_iam_member" "runtime_acts_as_managed" {
  for_each = local.managed_runtime_sas

  service_account_id = "projects/${var.project_id}/serviceAccounts/${each.value}"
  role               = google_project_iam_custom_role.act_as.name
  member             = google_service_account.runtime.member
}

# runmedic's ledger: read and write documents in its own database only. roles/datastore.user on
# the project, conditioned on the database's resource name, so no other database is reachable.
resource "google_project_iam_member" "runtime_ledger_user" {
  project = var.project_id
  role    = "roles/datastore.user"
  member  = google_service_account.runtime.member

  condition {
    title       = "runmedic ledger only"
    description = "Documents of the ${var.firestore_database} database, no other."
    expression  = "resource.name == \"projects/${var.project_id}/databases/${google_firestore_database.ledger.name}\" || resource.name.startsWith(\"projects/${var.project_id}/databases/${google_firestore_database.ledger.name}/\")"
  }
}

# Memory time series of the managed services (no resource-level scope exists for metrics).
resource "google_project_iam_member" "runtime_monitoring_viewer" {
  project = var.project_id
  role    = "roles/monitoring.viewer"
  member  = google_service_account.runtime.member
}

# Cloud Run's OOM-kill entries of the managed services, read as evidence for the diagnosis (log
# entries are read per project; without this grant the decision is made from metrics alone).
resource "google_project_iam_member" "runtime_logging_viewer" {
  project = var.project_id
  role    = "roles/logging.viewer"
  member  = google_service_account.runtime.member
}

# People's credentials (PagerDuty routing keys, Slack and Chat webhooks): read access on each
# named secret only, never project-wide.
resource "google_secret_manager_secret_iam_member" "runtime_secret_accessor" {
  for_each = toset(var.notification_secrets)

  project   = var.project_id
  secret_id = each.value
  role      = "roles/secretmanager.secretAccessor"
  member    = google_service_account.runtime.member
}

# Build logs (Cloud Build writes them as the build account; no narrower scope exists).
resource "google_project_iam_member" "build_log_writer" {
  project = var.project_id
  role    = "roles/logging.logWriter"
  member  = google_service_account.build.member
}

resource "google_artifact_registry_repository_iam_member" "build_writer" {
  project    = var.project_id
  location   = google_artifact_registry_repository.function.location
  repository = google_artifact_registry_repository.function.name
  role       = "roles/artifactregistry.writer"
  member     = google_service_account.build.member
}

resource "google_storage_bucket_iam_member" "build_source_reader" {
  bucket = google_storage_bucket.source.name
  role   = "roles/storage.objectViewer"
  member = google_service_account.build.member
}

# The trigger may invoke the function's service and nothing else.
resource "google_cloud_run_v2_service_iam_member" "trigger_invoker" {
  project  = var.project_id
  location = var.region
  name     = google_cloudfunctions2_function.runmedic.name
  role     = "roles/run.invoker"
  member   = google_service_account.trigger.member
}

# Pub/Sub mints the push tokens of the trigger account (needed in projects created before
# April 2021; harmless after). Scoped to that one account.
resource "google_service_account_iam_member" "pubsub_mints_trigger_tokens" {
  service_account_id = google_service_account.trigger.name
  role               = "roles/iam.serviceAccountTokenCreator"
  member             = "serviceAccount:${local.pubsub_agent}"
}
