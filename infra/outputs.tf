output "function_name" {
  description = "Full resource name of the function."
  value       = google_cloudfunctions2_function.runmedic.id
}

output "function_uri" {
  description = "URI of the function's Cloud Run service (internal ingress only)."
  value       = google_cloudfunctions2_function.runmedic.service_config[0].uri
}

output "alert_topic" {
  description = "Topic Cloud Monitoring and the verify-tick job publish to; triggers the function."
  value       = google_pubsub_topic.alert.id
}

output "audit_topic" {
  description = "Topic of runmedic's audit events (RUNMEDIC_AUDIT_TOPIC)."
  value       = google_pubsub_topic.audit.id
}

output "notify_topic" {
  description = "Topic of runmedic's escalations to people (RUNMEDIC_NOTIFY_TOPIC)."
  value       = google_pubsub_topic.notify.id
}

output "dead_letter_topic" {
  description = "Topic of events that failed max_delivery_attempts times."
  value       = google_pubsub_topic.dead_letter.id
}

output "dead_letter_subscription" {
  description = "Pull subscription that keeps dead letters for seven days."
  value       = google_pubsub_subscription.dead_letter.id
}

output "runtime_service_account" {
  description = "Email of the function's runtime identity."
  value       = google_service_account.runtime.email
}

output "notification_channel" {
  description = "Pub/Sub notification channel; add it to other alert policies runmedic should handle."
  value       = google_monitoring_notification_channel.alert_topic.id
}

output "alert_policies" {
  description = "Memory alert policies by name (remediation, critical)."
  value       = { for k, p in module.memory_alerts.policies : k => p.id }
}

output "verify_tick_job" {
  description = "Cloud Scheduler job that publishes verify ticks."
  value       = google_cloud_scheduler_job.verify_tick.id
}
