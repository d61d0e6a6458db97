output "name" {
  description = "Name of the log group."
  value       = aws_cloudwatch_log_group.this.name
}

output "arn" {
  description = "ARN of the log group (without the :* suffix IAM log-stream grants append)."
  value       = aws_cloudwatch_log_group.this.arn
}

output "kms_key_arn" {
  description = "ARN of the log group's key."
  value       = aws_kms_key.this.arn
}

output "key_policy_json" {
  description = "The key's policy document (for review and tests)."
  value       = jsonencode(local.key_policy)
}
