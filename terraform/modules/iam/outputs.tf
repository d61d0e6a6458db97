output "personalize_role_arn" {
  description = "ARN of the role Personalize assumes for imports and batch jobs."
  value       = aws_iam_role.personalize.arn
}

output "api_role_arn" {
  description = "ARN of the API's Lambda role (null when create_api_role is false)."
  value       = one(aws_iam_role.api[*].arn)
}

output "personalize_policy_json" {
  description = "The Personalize role's permissions (for review and tests)."
  value       = jsonencode(local.personalize_policy)
}

output "api_policy_json" {
  description = "The API role's permissions (for review and tests)."
  value       = jsonencode(local.api_policy)
}
