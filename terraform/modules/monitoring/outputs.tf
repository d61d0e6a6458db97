output "topic_arn" {
  description = "SNS topic every alarm and the job-failure rule publish to."
  value       = aws_sns_topic.this.arn
}

output "alarm_names" {
  description = "Names of every alarm this module creates."
  value = sort(concat(
    [for a in aws_cloudwatch_metric_alarm.fallback_rate : a.alarm_name],
    [for a in aws_cloudwatch_metric_alarm.server_errors : a.alarm_name],
    [for a in aws_cloudwatch_metric_alarm.latency : a.alarm_name],
    [for a in aws_cloudwatch_metric_alarm.deadline_misses : a.alarm_name],
    [for a in aws_cloudwatch_metric_alarm.breaker_open : a.alarm_name],
    [for a in aws_cloudwatch_metric_alarm.personalize_4xx : a.alarm_name],
    [for a in aws_cloudwatch_metric_alarm.personalize_latency : a.alarm_name],
    [for a in aws_cloudwatch_metric_alarm.job_errors : a.alarm_name],
  ))
}

output "dashboard_name" {
  description = "CloudWatch dashboard of the API and Personalize metrics."
  value       = aws_cloudwatch_dashboard.this.dashboard_name
}

output "event_rule_name" {
  description = "EventBridge rule forwarding failed import and training calls to the topic."
  value       = aws_cloudwatch_event_rule.personalize_job_failures.name
}
