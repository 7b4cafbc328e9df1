# One project whose Cloud Run services runmedic manages from a central deployment. Which of its
# services runmedic acts on is decided at run time: the config's allowlist (a rule with
# service "*" for this project) narrowed by each service's runmedic_io_mode label.

variable "project_id" {
  description = "ID of the managed project: its Cloud Run memory alerts are sent to the central alert topic, and the runtime account gets read and update access to its Cloud Run services."
  type        = string
}

variable "alert_topic_id" {
  description = "Full ID (projects/P/topics/T) of the central alert topic the function is triggered by."
  type        = string
}

variable "audit_topic_id" {
  description = "Full ID of the central audit topic, named in the alert documentation so people know where runmedic's account of an incident is."
  type        = string
}

variable "runtime_member" {
  description = "IAM member of the function's runtime account (serviceAccount:EMAIL), granted in this project."
  type        = string
}

variable "name_prefix" {
  description = "Prefix of display names and of the custom role ID; the central deployment's function name."
  type        = string
  default     = "runmedic"
}

variable "services" {
  description = "Names of the Cloud Run services whose memory is alerted on. Empty alerts on every service of the project; the function then leaves alone the services that have not opted in, after one read."
  type        = list(string)
  default     = []
}

variable "service_accounts" {
  description = "Emails of the runtime accounts of the services that may opt in: UpdateService deploys a revision that runs as the service's account, so runmedic must be able to act as it. Null means the project's Compute Engine default account, which services without an explicit account run as."
  type        = list(string)
  default     = null
}

variable "memory_threshold_remediation" {
  description = "p99 memory utilization (0..1) above which the remediation alert opens (runbook: 85%)."
  type        = number
  default     = 0.85
}

variable "memory_threshold_critical" {
  description = "p99 memory utilization (0..1) above which the critical alert opens (runbook: 95%)."
  type        = number
  default     = 0.95
}

variable "alert_duration" {
  description = "How long the p99 must stay above a threshold before the incident opens (runbook: 5 minutes)."
  type        = string
  default     = "300s"
}

variable "renotify_interval" {
  description = "How often Cloud Monitoring re-sends a still-open incident to the function."
  type        = string
  default     = "1800s"
}

variable "auto_close" {
  description = "An open incident with no data for this long is closed (and the close is sent to the function)."
  type        = string
  default     = "1800s"
}

variable "labels" {
  description = "Labels added to every resource that takes labels."
  type        = map(string)
  default     = {}
}
