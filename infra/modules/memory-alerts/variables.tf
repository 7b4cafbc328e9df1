# The runbook's two Cloud Run memory alert policies of one project, sent to one notification
# channel. The central deployment and every managed project use this module, so their alerts
# cannot drift apart.

variable "project_id" {
  description = "ID of the project whose Cloud Run memory is alerted on and that holds the policies."
  type        = string
}

variable "notification_channel" {
  description = "ID of the notification channel (projects/P/notificationChannels/N) the incidents are sent to."
  type        = string
}

variable "name_prefix" {
  description = "Prefix of the policies' display names; the central deployment's function name."
  type        = string
  default     = "runmedic"
}

variable "services" {
  description = "Names of the Cloud Run services whose memory is alerted on. Empty alerts on every service of the project."
  type        = list(string)
  default     = []
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

variable "documentation" {
  description = "The last sentence of the incident's documentation: what runmedic does with it and where its account is."
  type        = string
}

variable "labels" {
  description = "Labels added to the policies' user labels, beside remediation = \"auto\"."
  type        = map(string)
  default     = {}
}
