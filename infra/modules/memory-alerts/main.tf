locals {
  # The runbook's memory alerts. Both carry remediation = "auto": the policies decide what a
  # critical incident deserves, the alert only says where and how bad.
  memory_alerts = {
    remediation = {
      threshold = var.memory_threshold_remediation
      severity  = "WARNING"
    }
    critical = {
      threshold = var.memory_threshold_critical
      severity  = "CRITICAL"
    }
  }

  # Grouping by these labels keeps them in the incident's resource.labels; any other reduction
  # strips them and the function cannot tell which service the incident is about.
  memory_group_by = [
    "resource.label.project_id",
    "resource.label.service_name",
    "resource.label.location",
  ]

  memory_filter = join(" AND ", concat(
    [
      "resource.type = \"cloud_run_revision\"",
      "metric.type = \"run.googleapis.com/container/memory/utilizations\"",
    ],
    length(var.services) == 0 ? [] : ["resource.labels.service_name = one_of(${join(", ", [for n in var.services : "\"${n}\""])})"],
  ))
}

resource "google_monitoring_alert_policy" "memory" {
  for_each = local.memory_alerts

  project      = var.project_id
  display_name = "${var.name_prefix}: Cloud Run memory p99 > ${format("%.0f", each.value.threshold * 100)}% (${each.key})"
  combiner     = "OR"
  severity     = each.value.severity
  user_labels  = merge(var.labels, { remediation = "auto" })

  conditions {
    display_name = "Cloud Run memory p99 > ${format("%.0f", each.value.threshold * 100)}%"

    condition_threshold {
      filter          = local.memory_filter
      comparison      = "COMPARISON_GT"
      threshold_value = each.value.threshold
      duration        = var.alert_duration

      aggregations {
        alignment_period     = "60s"
        per_series_aligner   = "ALIGN_PERCENTILE_99"
        cross_series_reducer = "REDUCE_MAX"
        group_by_fields      = local.memory_group_by
      }

      trigger {
        count = 1
      }
    }
  }

  alert_strategy {
    auto_close           = var.auto_close
    notification_prompts = ["OPENED", "CLOSED"]

    notification_channel_strategy {
      notification_channel_names = [var.notification_channel]
      renotify_interval          = var.renotify_interval
    }
  }

  notification_channels = [var.notification_channel]

  documentation {
    mime_type = "text/markdown"
    subject   = "Cloud Run memory ${each.key}: $${resource.label.service_name}"
    content   = "Runbook: Memory Issues (OOM), alert-memory-high. ${var.documentation}"
  }
}
