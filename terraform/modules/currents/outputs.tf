output "function_name" {
  description = "The bridge's Lambda function name."
  value       = aws_lambda_function.this.function_name
}

output "function_arn" {
  description = "The bridge's Lambda function ARN."
  value       = aws_lambda_function.this.arn
}

output "dead_letter_queue_url" {
  description = "Where S3 events the function failed on (after two retries) wait to be replayed."
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
