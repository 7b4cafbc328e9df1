# Incidents of this project reach the central function through this channel.
resource "google_monitoring_notification_channel" "alert_topic" {
  project      = var.project_id
  display_name = "${var.name_prefix}: central alert topic"
  type         = "pubsub"
  labels = {
    topic = var.alert_topic_id
  }
  user_labels = var.labels

  depends_on = [google_pubsub_topic_iam_member.alert_monitoring_publisher]
}

# The runbook's memory alerts, as the central project has them.
module "memory_alerts" {
  source = "../memory-alerts"

  project_id           = var.project_id
  notification_channel = google_monitoring_notification_channel.alert_topic.id
  name_prefix          = var.name_prefix
  services             = var.services
  documentation        = "runmedic acts only on services that opted in with the label runmedic_io_mode; see the audit topic ${var.audit_topic_id}."

  memory_threshold_remediation = var.memory_threshold_remediation
  memory_threshold_critical    = var.memory_threshold_critical
  alert_duration               = var.alert_duration
  renotify_interval            = var.renotify_interval
  auto_close                   = var.auto_close
  labels                       = var.labels
}

moved {
  from = google_monitoring_alert_policy.memory
  to   = module.memory_alerts.google_monitoring_alert_policy.memory
}
