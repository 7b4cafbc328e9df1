# Further projects whose Cloud Run services this one deployment manages. The deployment's own
# project stays managed by the resources beside this file; each entry here adds a project's
# memory alerts (sent to this deployment's alert topic) and the runtime account's access there.
# Which services of a project runmedic acts on is the config's business: a rule
# {project: P, location: L, service: "*"} admits those that carry the label runmedic_io_mode.
variable "managed_projects" {
  description = "Projects, besides project_id, whose Cloud Run services runmedic manages, by project ID. services narrows the memory alerts to those service names (empty: every service); service_accounts are the runtime accounts runmedic may act as when it updates a service (null: the project's Compute Engine default account)."
  type = map(object({
    services         = optional(list(string), [])
    service_accounts = optional(list(string))
  }))
  default = {}
}

module "managed_project" {
  source   = "./modules/managed-project"
  for_each = var.managed_projects

  project_id       = each.key
  alert_topic_id   = google_pubsub_topic.alert.id
  audit_topic_id   = google_pubsub_topic.audit.id
  runtime_member   = google_service_account.runtime.member
  name_prefix      = var.function_name
  services         = each.value.services
  service_accounts = each.value.service_accounts

  memory_threshold_remediation = var.memory_threshold_remediation
  memory_threshold_critical    = var.memory_threshold_critical
  alert_duration               = var.alert_duration
  renotify_interval            = var.renotify_interval
  auto_close                   = var.auto_close
  labels                       = local.labels
}
