# Incidents reach the function through this channel.
resource "google_monitoring_notification_channel" "alert_topic" {
  project      = var.project_id
  display_name = "${var.function_name}: alert topic"
  type         = "pubsub"
  labels = {
    topic = google_pubsub_topic.alert.id
  }
  user_labels = local.labels

  depends_on = [google_pubsub_topic_iam_member.alert_monitoring_publisher]
}

locals {
  managed_service_names = distinct([for s in local.managed : s.name])
}

# The runbook's memory alerts on the managed services of this project, the same module every
# managed project uses.
module "memory_alerts" {
  source = "./modules/memory-alerts"

  project_id           = var.project_id
  notification_channel = google_monitoring_notification_channel.alert_topic.id
  name_prefix          = var.function_name
  services             = local.managed_service_names
  documentation        = "runmedic diagnoses the incident and acts within its policies; see the audit topic ${google_pubsub_topic.audit.id}."

  memory_threshold_remediation = var.memory_threshold_remediation
  memory_threshold_critical    = var.memory_threshold_critical
  alert_duration               = var.alert_duration
  renotify_interval            = var.renotify_interval
  auto_close                   = var.auto_close
  labels                       = local.labels
}

moved {
  from = google_monitoring_alert_policy.memory
  to   = module.memory_alerts.google_monitoring_alert_policy.memory
}
