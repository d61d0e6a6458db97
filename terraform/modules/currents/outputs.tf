output "function_name" {
  description = "The bridge's Lambda function name."
  value       = aws_lambda_function.this.function_name
}

output "function_arn" {
  description = "The bridge's Lambda function ARN."
  value       = aws_lambda_function.this.arn
}

output "dead_letter_queue_url" {
  description = "Where new-file events wait to be replayed: those EventBridge could not deliver and those the function failed on (after two retries)."
  value       = aws_sqs_queue.dead_letter.url
}

output "role_arn" {
  description = "The function's execution role."
  value       = aws_iam_role.this.arn
}

output "signing_job_id" {
  description = "The AWS Signer job that signed the deployed package (aws signer revoke-signature --job-id revokes it)."
  value       = aws_signer_signing_job.this.job_id
}

output "rule_arn" {
  description = "The EventBridge rule that invokes the bridge on new Currents files."
  value       = aws_cloudwatch_event_rule.this.arn
}
