# Verify ticks: a message on the alert topic, marked by an attribute, that makes the function
# check pending verifications and due escalations even when Monitoring sends nothing.
resource "google_cloud_scheduler_job" "verify_tick" {
  project     = var.project_id
  region      = var.region
  name        = "${var.function_name}-verify-tick"
  description = "Publishes a verify tick to the runmedic alert topic."
  schedule    = var.verify_schedule
  time_zone   = var.verify_time_zone

  pubsub_target {
    topic_name = google_pubsub_topic.alert.id
    data       = base64encode(jsonencode({ kind = local.tick_value }))
    attributes = {
      (local.tick_attribute) = local.tick_value
    }
  }

  depends_on = [google_project_service.apis]
}
