# runmedic's ledger: a named Firestore database in Native mode, so runmedic's records never share
# a database (or its IAM) with the project's own data. Entries carry expire_at; Firestore deletes
# them after it, so old records go by TTL and never by dropping what a decision needs.
resource "google_firestore_database" "ledger" {
  project                 = var.project_id
  name                    = var.firestore_database
  location_id             = coalesce(var.firestore_location, var.region)
  type                    = "FIRESTORE_NATIVE"
  concurrency_mode        = "OPTIMISTIC"
  delete_protection_state = "DELETE_PROTECTION_ENABLED"
  deletion_policy         = "ABANDON"

  depends_on = [google_project_service.apis]
}

# TTL on expire_at in every collection group of the ledger. The field is only compared by the
# TTL sweeper, so it is left out of single-field indexes (index_config {}).
resource "google_firestore_field" "expire_at" {
  for_each = toset(var.ledger_collections)

  project    = var.project_id
  database   = google_firestore_database.ledger.name
  collection = each.value
  field      = "expire_at"

  ttl_config {}
  index_config {}
}
