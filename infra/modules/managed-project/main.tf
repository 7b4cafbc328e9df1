data "google_project" "managed" {
  project_id = var.project_id
}

locals {
  # Monitoring's notification agent of this project publishes its incidents to the central topic.
  monitoring_notification_agent = "service-${data.google_project.managed.number}@gcp-sa-monitoring-notification.iam.gserviceaccount.com"
  default_compute_sa            = "${data.google_project.managed.number}-compute@developer.gserviceaccount.com"
  service_accounts              = toset(coalesce(var.service_accounts, [local.default_compute_sa]))

  # What runmedic does to a Cloud Run service: read it and its revisions, list the project's
  # services to discover the ones that opted in, update it, and follow the update's operation.
  # Nothing creates, deletes or changes IAM on a service.
  run_permissions = [
    "run.operations.get",
    "run.revisions.get",
    "run.revisions.list",
    "run.services.get",
    "run.services.list",
    "run.services.update",
  ]

  # The central topic's project and name, from its ID.
  alert_topic_project = split("/", var.alert_topic_id)[1]
  alert_topic_name    = split("/", var.alert_topic_id)[3]
}
