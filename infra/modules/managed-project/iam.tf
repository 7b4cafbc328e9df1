# Cloud Run services of this project are opted in by label at run time, so access cannot be
# granted per service: a custom role carries exactly the permissions runmedic uses, no more
# (run.developer would also create and delete services).
resource "google_project_iam_custom_role" "remediator" {
  project     = var.project_id
  role_id     = "${replace(var.name_prefix, "-", "_")}_remediator"
  title       = "${var.name_prefix} remediator"
  description = "Read, list and update Cloud Run services and follow their operations; nothing else."
  permissions = local.run_permissions
}

resource "google_project_iam_member" "runtime_remediator" {
  project = var.project_id
  role    = google_project_iam_custom_role.remediator.id
  member  = var.runtime_member
}

# UpdateService deploys a revision that runs as the service's account: runmedic must be able to
# act as those accounts, and only those.
resource "google_service_account_iam_member" "runtime_acts_as" {
  for_each = local.service_accounts

  service_account_id = "projects/${var.project_id}/serviceAccounts/${each.value}"
  role               = "roles/iam.serviceAccountUser"
  member             = var.runtime_member
}

# Memory time series and snoozes of this project's services; metrics have no narrower scope.
resource "google_project_iam_member" "runtime_monitoring_viewer" {
  project = var.project_id
  role    = "roles/monitoring.viewer"
  member  = var.runtime_member
}

# Cloud Run's OOM-kill entries, read as evidence; log entries are read per project.
resource "google_project_iam_member" "runtime_logging_viewer" {
  project = var.project_id
  role    = "roles/logging.viewer"
  member  = var.runtime_member
}

# This project's Monitoring notification agent publishes incidents to the central alert topic.
resource "google_pubsub_topic_iam_member" "alert_monitoring_publisher" {
  project = local.alert_topic_project
  topic   = local.alert_topic_name
  role    = "roles/pubsub.publisher"
  member  = "serviceAccount:${local.monitoring_notification_agent}"
}
