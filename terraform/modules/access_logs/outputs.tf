output "id" {
  description = "Name (id) of the log bucket."
  value       = aws_s3_bucket.this.id
}

output "arn" {
  description = "ARN of the log bucket."
  value       = aws_s3_bucket.this.arn
}

output "target_bucket" {
  description = "The log bucket's name, read from its policy: use it as aws_s3_bucket_logging's target_bucket, so S3 starts delivering logs only once the grant that admits them exists."
  value       = aws_s3_bucket_policy.this.bucket
}

output "target_prefix" {
  description = "Key prefix the grant covers: use it as aws_s3_bucket_logging's target_prefix."
  value       = var.target_prefix
}

output "policy_json" {
  description = "The log bucket's policy document (for review and tests)."
  value       = jsonencode(local.policy)
}
