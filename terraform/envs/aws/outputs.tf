output "bucket_name" {
  description = "Data bucket name."
  value       = module.platform.bucket_name
}

output "log_bucket_name" {
  description = "Access-log bucket name."
  value       = module.platform.log_bucket_name
}

output "kms_key_arn" {
  description = "Customer-managed data key."
  value       = module.platform.kms_key_arn
}

output "personalize_role_arn" {
  description = "Role Personalize assumes."
  value       = module.platform.personalize_role_arn
}

output "api_role_arn" {
  description = "The API's Lambda role."
  value       = module.platform.api_role_arn
}

output "api_key_parameter_name" {
  description = "SSM parameter holding the API keys."
  value       = module.platform.api_key_parameter_name
}

output "stack_name" {
  description = "CloudFormation stack of the Personalize resources."
  value       = module.platform.stack_name
}

output "dataset_group_arn" {
  description = "Personalize dataset group."
  value       = module.platform.dataset_group_arn
}

output "dataset_arns" {
  description = "Dataset ARN per dataset type."
  value       = module.platform.dataset_arns
}

output "schema_arns" {
  description = "Schema ARN per dataset type."
  value       = module.platform.schema_arns
}

output "solution_arns" {
  description = "Solution ARN per configured solution."
  value       = module.platform.solution_arns
}

output "solution_names" {
  description = "Personalize solution names."
  value       = module.platform.solution_names
}

output "filter_arns" {
  description = "Filter ARN per configured filter."
  value       = module.platform.filter_arns
}

output "event_tracker_arn" {
  description = "Event tracker ARN."
  value       = module.platform.event_tracker_arn
}

output "tracking_id" {
  description = "Tracking id for PutEvents."
  value       = module.platform.tracking_id
}

output "campaign_arns" {
  description = "ARNs the scripts create the campaigns under."
  value       = module.platform.campaign_arns
}

output "region" {
  description = "AWS region."
  value       = module.platform.region
}

output "endpoint_url" {
  description = "Endpoint override for clients (none in AWS)."
  value       = null
}
