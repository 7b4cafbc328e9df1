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
  description = "p99 memory utilization (0..1) that opens the remediation alert; the caller holds the runbook default."
  type        = number
}

variable "memory_threshold_critical" {
  description = "p99 memory utilization (0..1) that opens the critical alert; the caller holds the runbook default."
  type        = number
}

variable "alert_duration" {
  description = "How long the p99 stays above a threshold before an incident opens."
  type        = string
}

variable "renotify_interval" {
  description = "Interval at which a still-open incident is sent again."
  type        = string
}

variable "auto_close" {
  description = "An open incident without data for this long is closed."
  type        = string
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
