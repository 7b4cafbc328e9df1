# The three variables every deployment sets: project_id, region, managed_services.
# Everything else has the runbook's default.

variable "project_id" {
  description = "ID of the Google Cloud project that holds the managed Cloud Run services and where runmedic is deployed."
  type        = string
}

variable "region" {
  description = "Region of the function, its trigger and the scheduler job; also the default location of managed services."
  type        = string
}

variable "managed_services" {
  description = "Cloud Run services runmedic may change. It gets Cloud Run developer on each of them and nothing else in Cloud Run; list the same services in the allowlist of policies/data/config.yaml. location defaults to var.region."
  type = list(object({
    name     = string
    location = optional(string)
  }))

  validation {
    condition     = length(var.managed_services) > 0
    error_message = "managed_services must list at least one Cloud Run service."
  }
}

variable "notification_secrets" {
  description = "IDs of the Secret Manager secrets (in project_id) that the config's recipients name as secret:projects/P/secrets/ID/versions/V: PagerDuty routing keys, Slack and Chat webhooks. The runtime account gets secretAccessor on each of them and on no other secret."
  type        = list(string)
  default     = []
}

variable "memory_threshold_remediation" {
  description = "p99 memory utilization (0..1) above which the remediation alert opens. Runbook: \"85% of limit: Alert triggered\"."
  type        = number
  default     = 0.85

  validation {
    condition     = var.memory_threshold_remediation > 0 && var.memory_threshold_remediation < 1
    error_message = "memory_threshold_remediation must be between 0 and 1."
  }
}

variable "memory_threshold_critical" {
  description = "p99 memory utilization (0..1) above which the critical alert opens. Runbook: \"95% of limit: Service degrading\"."
  type        = number
  default     = 0.95

  validation {
    condition     = var.memory_threshold_critical > 0 && var.memory_threshold_critical <= 1
    error_message = "memory_threshold_critical must be between 0 and 1."
  }
}

variable "alert_duration" {
  description = "How long the p99 must stay above a threshold before the incident opens (runbook: 5 minutes)."
  type        = string
  default     = "300s"
}

variable "renotify_interval" {
  description = "How often Cloud Monitoring re-sends a still-open incident to the function, so a refused or failed step is retried."
  type        = string
  default     = "1800s"
}

variable "auto_close" {
  description = "An open incident with no data for this long is closed (and the close is sent to the function)."
  type        = string
  default     = "1800s"
}

variable "function_name" {
  description = "Name of the Cloud Function (and of its Cloud Run service); also the prefix of the topics, accounts and jobs this module creates."
  type        = string
  default     = "runmedic"
}

variable "go_runtime" {
  description = "Cloud Run functions Go runtime ID. Keep it at the go directive of go.mod (go 1.26 -> go126) so the build uses the toolchain the tests ran with."
  type        = string
  default     = "go126"
}

variable "function_timeout_seconds" {
  description = "Function timeout. An UpdateService call waits for the new revision to become ready, so it must cover a rollout; 540 is the maximum for event-triggered functions."
  type        = number
  default     = 540

  validation {
    condition     = var.function_timeout_seconds >= 300 && var.function_timeout_seconds <= 540
    error_message = "function_timeout_seconds must be between 300 (an UpdateService wait) and 540 (the event-function maximum)."
  }
}

variable "function_memory_mib" {
  description = "Memory of the function instance, in MiB. It must hold function_concurrency messages at Pub/Sub's 10 MB maximum under GOMEMLIMIT (80 % of it); the function's precondition refuses a plan that cannot."
  type        = number
  default     = 512

  validation {
    condition     = var.function_memory_mib >= 128 && var.function_memory_mib <= 32768 && floor(var.function_memory_mib) == var.function_memory_mib
    error_message = "function_memory_mib must be a whole number of MiB between 128 and 32768."
  }
}

variable "function_concurrency" {
  description = "Events one instance handles at once. Work on one service is serialised inside the instance; different services proceed in parallel."
  type        = number
  default     = 8
}

variable "max_delivery_attempts" {
  description = "Deliveries of one event (alert or verify tick) before Pub/Sub moves it to the dead-letter topic."
  type        = number
  default     = 10

  validation {
    condition     = var.max_delivery_attempts >= 5 && var.max_delivery_attempts <= 100
    error_message = "max_delivery_attempts must be between 5 and 100 (Pub/Sub limits)."
  }
}

variable "verify_schedule" {
  description = "Cron schedule of the verify tick that makes runmedic check pending verifications and escalations (runbook: watch memory for 10 minutes after a change)."
  type        = string
  default     = "*/5 * * * *"
}

variable "verify_time_zone" {
  description = "Time zone of verify_schedule."
  type        = string
  default     = "Etc/UTC"
}

variable "source_dir" {
  description = "Upload directory staged by ../deploy.sh (go.mod and the function package at its root), relative to this directory (infra/)."
  type        = string
  default     = ".build/upload"
}

variable "config_path" {
  description = "Optional RUNMEDIC_CONFIG: path, inside the upload, of a config YAML that overrides the embedded policies/data/config.yaml. Empty means the embedded config."
  type        = string
  default     = ""
}

variable "policies_dir" {
  description = "Optional RUNMEDIC_POLICIES: directory, inside the upload, of Rego policies that replace the embedded ones. Empty means the embedded policies."
  type        = string
  default     = ""
}

variable "labels" {
  description = "Labels added to every resource that takes labels."
  type        = map(string)
  default     = {}
}

variable "firestore_database" {
  description = "Name of the Firestore (Native mode) database that holds runmedic's ledger; the runtime account may use this database only."
  type        = string
  default     = "runmedic"
}

variable "firestore_location" {
  description = "Location of the ledger database; empty uses region."
  type        = string
  default     = ""
}

variable "ledger_collections" {
  description = "Collection groups of the ledger whose documents expire by TTL on their expire_at field."
  type        = list(string)
  default     = ["services", "actions", "incidents", "escalations", "deliveries", "fleet"]
}
