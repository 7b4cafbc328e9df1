output "notification_channel" {
  description = "The Pub/Sub notification channel of this project that sends incidents to the central alert topic."
  value       = google_monitoring_notification_channel.alert_topic.id
}

output "alert_policies" {
  description = "The memory alert policies of this project, by name (remediation, critical)."
  value       = { for k, p in module.memory_alerts.policies : k => p.name }
}
