output "bucket_name" {
  description = "Data bucket name."
  value       = module.storage.bucket_name
}

output "log_bucket_name" {
  description = "Access-log bucket name."
  value       = module.storage.log_bucket_name
}

output "kms_key_arn" {
  description = "Customer-managed key of the data bucket and the API-key parameter."
  value       = module.storage.kms_key_arn
}

output "personalize_role_arn" {
  description = "Role Personalize assumes for imports and batch jobs."
  value       = module.iam.personalize_role_arn
}

output "api_role_arn" {
  description = "The API's Lambda role."
  value       = module.iam.api_role_arn
}

output "api_key_parameter_name" {
  description = "SSM SecureString parameter with the API keys."
  value       = aws_ssm_parameter.api_keys.name
}

output "stack_name" {
  description = "CloudFormation stack holding the Personalize resources."
  value       = module.personalize.stack_name
}

output "dataset_group_arn" {
  description = "Personalize dataset group."
  value       = module.personalize.dataset_group_arn
}

output "dataset_arns" {
  description = "Dataset ARN per dataset type."
  value       = module.personalize.dataset_arns
}

output "schema_arns" {
  description = "Schema ARN per dataset type."
  value       = module.personalize.schema_arns
}

output "solution_arns" {
  description = "Solution ARN per configured solution name."
  value       = module.personalize.solution_arns
}

output "solution_names" {
  description = "Personalize solution names (config name plus configuration hash)."
  value       = module.personalize.solution_names
}

output "filter_arns" {
  description = "Filter ARN per configured filter name."
  value       = module.personalize.filter_arns
}

output "event_tracker_arn" {
  description = "Event tracker ARN."
  value       = module.personalize.event_tracker_arn
}

output "tracking_id" {
  description = "Event tracker tracking id for PutEvents."
  value       = module.personalize.tracking_id
}

output "campaign_arns" {
  description = "ARNs the scripts create the configured campaigns under, by campaign name."
  value       = zipmap([for c in local.config.campaigns : c.name], local.campaign_arns)
}

output "region" {
  description = "AWS region."
  value       = var.region
}

output "api_limits" {
  description = "API Gateway stage throttle (rate, burst) and the Lambda's reserved concurrency, from the config and its stage overrides; the deploy reads these."
  value       = local.config.api_limits
}

output "campaign_min_provisioned_tps" {
  description = "minProvisionedTPS per campaign after the stage's overrides (the scripts create the campaigns)."
  value       = { for c in local.config.campaigns : c.name => try(c.min_provisioned_tps, 1) }
}

output "alarm_topic_arn" {
  description = "SNS topic of every alarm."
  value       = module.monitoring.topic_arn
}

output "alarm_names" {
  description = "Names of the CloudWatch alarms."
  value       = module.monitoring.alarm_names
}

output "dashboard_name" {
  description = "CloudWatch dashboard name."
  value       = module.monitoring.dashboard_name
}
