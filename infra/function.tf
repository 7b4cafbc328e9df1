# The function's source: the directory ../deploy.sh stages (go.mod and the function package at
# its root, as the Go functions buildpack requires). The object name carries the content hash,
# so a new upload is a new object and a new build.
data "archive_file" "source" {
  type        = "zip"
  source_dir  = var.source_dir
  output_path = "${path.module}/.build/${var.function_name}-source.zip"
}

resource "google_storage_bucket" "source" {
  project                     = var.project_id
  name                        = "${var.project_id}-${var.function_name}-source"
  location                    = var.region
  uniform_bucket_level_access = true
  public_access_prevention    = "enforced"
  force_destroy               = true
  labels                      = local.labels

  lifecycle_rule {
    condition {
      age = 30
    }
    action {
      type = "Delete"
    }
  }

  depends_on = [google_project_service.apis]
}

resource "google_storage_bucket_object" "source" {
  bucket = google_storage_bucket.source.name
  name   = "${var.function_name}-${data.archive_file.source.output_md5}.zip"
  source = data.archive_file.source.output_path
}

resource "google_artifact_registry_repository" "function" {
  project       = var.project_id
  location      = var.region
  repository_id = var.function_name
  format        = "DOCKER"
  description   = "Images of the runmedic function."
  labels        = local.labels

  depends_on = [google_project_service.apis]
}

resource "google_cloudfunctions2_function" "runmedic" {
  project     = var.project_id
  location    = var.region
  name        = var.function_name
  description = "Remediates Cloud Run memory incidents following the runbook's policies."
  labels      = local.labels

  build_config {
    runtime           = var.go_runtime
    entry_point       = local.entry_point
    service_account   = google_service_account.build.id
    docker_repository = google_artifact_registry_repository.function.id

    source {
      storage_source {
        bucket = google_storage_bucket.source.name
        object = google_storage_bucket_object.source.name
      }
    }
  }

  service_config {
    # One instance by default. The Firestore ledger claims each (service, incident, step) in a
    # transaction, so this can be raised for a fleet that outgrows one instance: two instances
    # under one storm still change each service once (tests/e2e TestTwoServeProcessesOneChange).
    min_instance_count               = 0
    max_instance_count               = 1
    max_instance_request_concurrency = var.function_concurrency
    available_cpu                    = "1"
    available_memory                 = "${var.function_memory_mib}Mi"
    timeout_seconds                  = var.function_timeout_seconds
    service_account_email            = google_service_account.runtime.email
    ingress_settings                 = "ALLOW_INTERNAL_ONLY"
    all_traffic_on_latest_revision   = true
    environment_variables            = local.function_env
  }

  # Eventarc pushes each Pub/Sub message to the function as an HTTP request carrying a
  # binary-mode CloudEvent. The code registers the entry point as an HTTP function
  # (functions.HTTP) and decodes that CloudEvent itself: the trigger, its event type and its
  # retry policy are unchanged, and a 2xx answer acks while a 500 asks for redelivery.
  event_trigger {
    trigger_region        = var.region
    event_type            = local.event_type
    pubsub_topic          = google_pubsub_topic.alert.id
    retry_policy          = "RETRY_POLICY_RETRY"
    service_account_email = google_service_account.trigger.email
  }

  lifecycle {
    # Every message in flight may be at Pub/Sub's maximum: the instance must hold them all under
    # GOMEMLIMIT, and GOMEMLIMIT must sit below the instance's memory.
    precondition {
      condition     = local.function_inflight_mib <= local.gomemlimit_mib && local.gomemlimit_mib < var.function_memory_mib
      error_message = "function_memory_mib ${var.function_memory_mib} cannot hold ${var.function_concurrency} messages of ${local.pubsub_max_message_mib} MB in flight: they need ${local.function_inflight_mib} MiB under GOMEMLIMIT ${local.gomemlimit_mib} MiB. Raise function_memory_mib or lower function_concurrency."
    }
  }

  depends_on = [
    google_artifact_registry_repository_iam_member.build_writer,
    google_project_iam_member.build_log_writer,
    google_storage_bucket_iam_member.build_source_reader,
    google_pubsub_topic_iam_member.audit_runtime_publisher,
    google_pubsub_topic_iam_member.notify_runtime_publisher,
    google_project_iam_member.runtime_ledger_user,
  ]
}

# The provider cannot yet set a dead-letter policy on the subscription Eventarc creates for the
# trigger (hashicorp/terraform-provider-google#25069, #17697), so it is attached with gcloud
# each time the trigger is (re)created. Needs gcloud where terraform runs.
resource "terraform_data" "trigger_dead_letter" {
  triggers_replace = [
    google_cloudfunctions2_function.runmedic.event_trigger[0].trigger,
    google_pubsub_topic.dead_letter.id,
    var.max_delivery_attempts,
  ]

  provisioner "local-exec" {
    interpreter = ["/bin/bash", "-c"]
    environment = {
      PROJECT      = var.project_id
      TRIGGER      = google_cloudfunctions2_function.runmedic.event_trigger[0].trigger
      DEAD_LETTER  = google_pubsub_topic.dead_letter.id
      MAX_ATTEMPTS = tostring(var.max_delivery_attempts)
      PUBSUB_AGENT = "serviceAccount:${local.pubsub_agent}"
    }
    command = <<-EOT
      set -euo pipefail
      sub=$(gcloud eventarc triggers describe "$TRIGGER" --project="$PROJECT" --format='value(transport.pubsub.subscription)')
      if [[ -z "$sub" ]]; then echo "trigger $TRIGGER has no Pub/Sub subscription" >&2; exit 1; fi
      gcloud pubsub subscriptions update "$sub" --project="$PROJECT" --dead-letter-topic="$DEAD_LETTER" --max-delivery-attempts="$MAX_ATTEMPTS" --quiet
      gcloud pubsub subscriptions add-iam-policy-binding "$sub" --project="$PROJECT" --member="$PUBSUB_AGENT" --role=roles/pubsub.subscriber --quiet >/dev/null
    EOT
  }

  depends_on = [google_pubsub_topic_iam_member.dead_letter_pubsub_publisher]
}
