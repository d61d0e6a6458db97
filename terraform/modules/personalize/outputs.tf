output "template_body" {
  description = "The rendered CloudFormation template (linted by cfn-lint in make tf-check)."
  value       = local.template_body
}

output "stack_name" {
  description = "Name of the CloudFormation stack."
  value       = aws_cloudformation_stack.this.name
}

output "dataset_group_arn" {
  description = "ARN of the dataset group."
  value       = lookup(local.stack_outputs, "DatasetGroupArn", null)
}

output "dataset_arns" {
  description = "Dataset ARN per dataset type (interactions, users, items)."
  value       = { for type, d in local.datasets : type => lookup(local.stack_outputs, "Dataset${d.logical}Arn", null) }
}

output "schema_arns" {
  description = "Schema ARN per dataset type."
  value       = { for type, d in local.datasets : type => lookup(local.stack_outputs, "Schema${d.logical}Arn", null) }
}

output "solution_arns" {
  description = "Solution ARN per configured solution name."
  value       = { for name, s in local.solutions : name => lookup(local.stack_outputs, "Solution${s.logical}Arn", null) }
}

output "solution_names" {
  description = "Personalize name of each solution (config name plus a hash of its configuration)."
  value       = local.solution_names
}

output "filter_arns" {
  description = "Filter ARN per configured filter name."
  value       = { for name, f in local.filters : name => lookup(local.stack_outputs, "Filter${f.logical}Arn", null) }
}

output "filter_names" {
  description = "Personalize name of each filter (config name plus a hash of its expression)."
  value       = { for name, f in local.filters : name => f.name }
}

output "event_tracker_arn" {
  description = "ARN of the event tracker."
  value       = lookup(local.stack_outputs, "EventTrackerArn", null)
}

output "tracking_id" {
  description = "Tracking id to send PutEvents with."
  value       = lookup(local.stack_outputs, "TrackingId", null)
}

output "metric_attribution_arn" {
  description = "ARN of the metric attribution (null without a metric_attribution section or role)."
  value       = lookup(local.stack_outputs, "MetricAttributionArn", null)
}
