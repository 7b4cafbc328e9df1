# Cloud Monitoring publishes incidents here; the verify-tick job too. It triggers the function.
resource "google_pubsub_topic" "alert" {
  project = var.project_id
  name    = "${var.function_name}-alerts"
  labels  = local.labels

  depends_on = [google_project_service.apis]
}

# One event per decision and outcome, for whoever keeps the audit trail.
resource "google_pubsub_topic" "audit" {
  project = var.project_id
  name    = "${var.function_name}-audit"
  labels  = local.labels

  depends_on = [google_project_service.apis]
}

# Escalations to people (runbook escalation table); subscribe a mailer or chat bridge.
resource "google_pubsub_topic" "notify" {
  project = var.project_id
  name    = "${var.function_name}-notify"
  labels  = local.labels

  depends_on = [google_project_service.apis]
}

# Events the function failed on max_delivery_attempts times.
resource "google_pubsub_topic" "dead_letter" {
  project = var.project_id
  name    = "${var.function_name}-dead-letter"
  labels  = local.labels

  depends_on = [google_project_service.apis]
}

# A topic without a subscription drops what is published to it: keep dead letters for a week.
resource "google_pubsub_subscription" "dead_letter" {
  project                    = var.project_id
  name                       = "${var.function_name}-dead-letter"
  topic                      = google_pubsub_topic.dead_letter.id
  message_retention_duration = "604800s"
  ack_deadline_seconds       = 60
  labels                     = local.labels

  expiration_policy {
    ttl = ""
  }
}

# Lets Cloud Monitoring's notification service agent deliver incidents to the alert topic.
resource "google_pubsub_topic_iam_member" "alert_monitoring_publisher" {
  project = var.project_id
  topic   = google_pubsub_topic.alert.name
  role    = "roles/pubsub.publisher"
  member  = "serviceAccount:${local.monitoring_notification_agent}"
}

# Lets Pub/Sub forward undeliverable events to the dead-letter topic.
resource "google_pubsub_topic_iam_member" "dead_letter_pubsub_publisher" {
  project = var.project_id
  topic   = google_pubsub_topic.dead_letter.name
  role    = "roles/pubsub.publisher"
  member  = "serviceAccount:${local.pubsub_agent}"
}

resource "google_pubsub_topic_iam_member" "audit_runtime_publisher" {
  project = var.project_id
  topic   = google_pubsub_topic.audit.name
  role    = "roles/pubsub.publisher"
  member  = google_service_account.runtime.member
}

resource "google_pubsub_topic_iam_member" "notify_runtime_publisher" {
  project = var.project_id
  topic   = google_pubsub_topic.notify.name
  role    = "roles/pubsub.publisher"
  member  = google_service_account.runtime.member
}
