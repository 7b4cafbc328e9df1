output "policies" {
  description = "The memory alert policies by kind (remediation, critical), for their IDs and names."
  value       = google_monitoring_alert_policy.memory
}
