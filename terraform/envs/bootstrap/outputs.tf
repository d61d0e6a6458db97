output "bucket_name" {
  description = "The state bucket (the stage's region)."
  value       = module.state.bucket_name
}

output "replica_bucket_name" {
  description = "The state's replica bucket (state_replica_region), replicated both ways with bucket_name."
  value       = module.replica.bucket_name
}

output "log_bucket_names" {
  description = "The buckets the state buckets' access logs go to (one per region: S3 delivers within a region)."
  value       = [module.access_logs.id, module.replica_access_logs.id]
}

output "backend_config" {
  description = "The stage's backend config (pipeline.infra writes it to envs/aws/stages/<stage>.backend.hcl)."
  value       = <<-EOT
    bucket       = "${module.state.bucket_name}"
    key          = "${local.state_key}"
    region       = "${var.region}"
    kms_key_id   = "${module.state.kms_key_arn}"
  EOT
}

output "failover_backend_config" {
  description = "The same state through the replica, for an outage of the stage's region (written to envs/aws/stages/<stage>.failover.backend.hcl; terraform/README.md, \"State failover\")."
  value       = <<-EOT
    bucket       = "${module.replica.bucket_name}"
    key          = "${local.state_key}"
    region       = "${var.state_replica_region}"
    kms_key_id   = "${module.replica.kms_key_arn}"
  EOT
}

output "state_key" {
  description = "Key of the stage's state object in the bucket."
  value       = local.state_key
}
