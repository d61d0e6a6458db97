output "bucket_name" {
  description = "Name of the data bucket."
  value       = one(concat(aws_s3_bucket.protected[*].bucket, aws_s3_bucket.disposable[*].bucket))
}

output "bucket_arn" {
  description = "ARN of the data bucket."
  value       = local.bucket_arn
}

output "log_bucket_name" {
  description = "Name of the access-log bucket."
  value       = module.access_logs.id
}

output "kms_key_arn" {
  description = "ARN of the customer-managed key that encrypts the data bucket."
  value       = local.kms_key_arn
}

output "bucket_policy_json" {
  description = "The data bucket's policy document (for review and tests)."
  value       = jsonencode(local.bucket_policy)
}
