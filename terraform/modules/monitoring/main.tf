# Watches the running system: the API's own metrics (EMF, namespace BrazeRecommendationsApi), the
# Personalize campaigns (AWS/Personalize) and failed imports and trainings; every alarm and the
# EventBridge rule publish to one encrypted SNS topic; one dashboard shows the same metrics.

locals {
  period       = var.thresholds.period_seconds
  metric       = var.api_metric_names
  account_root = "arn:${var.partition}:iam::${var.account_id}:root"
  alarm_prefix = "${var.name}-"
  alarm_arns   = "arn:${var.partition}:cloudwatch:${var.region}:${var.account_id}:alarm:${local.alarm_prefix}*"
  # Alarm names may not contain "/": a route's name in an alarm drops its slashes.
  routes = { for r in var.api_routes : trim(replace(r, "/", "-"), "-") => r }
}

# --- topic -------------------------------------------------------------------------------------
# CloudWatch alarms cannot publish to a topic encrypted with the AWS-managed SNS key; a customer key
# whose policy lets CloudWatch and EventBridge use it is required
# (https://docs.aws.amazon.com/sns/latest/dg/sns-key-management.html#compatibility-with-aws-services).
resource "aws_kms_key" "this" {
  description             = "Encrypts the ${var.name} alarm topic"
  enable_key_rotation     = true
  deletion_window_in_days = var.kms_deletion_window_days
  tags                    = var.tags
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid       = "AccountAdministers"
        Effect    = "Allow"
        Principal = { AWS = local.account_root }
        Action    = "kms:*"
        Resource  = "*"
      },
      {
        Sid       = "AlarmSourcesEncryptMessages"
        Effect    = "Allow"
        Principal = { Service = ["cloudwatch.amazonaws.com", "events.amazonaws.com"] }
        Action    = ["kms:Decrypt", "kms:GenerateDataKey*"]
        Resource  = "*"
        Condition = { StringEquals = { "aws:SourceAccount" = var.account_id } }
      },
    ]
  })
}

resource "aws_sns_topic" "this" {
  name              = "${var.name}-alarms"
  kms_master_key_id = aws_kms_key.this.arn
  tags              = var.tags
}

resource "aws_sns_topic_policy" "this" {
  arn = aws_sns_topic.this.arn
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid       = "DenyInsecureTransport"
        Effect    = "Deny"
        Principal = { AWS = "*" }
        Action    = "sns:Publish"
        Resource  = aws_sns_topic.this.arn
        Condition = { Bool = { "aws:SecureTransport" = "false" } }
      },
      {
        Sid       = "OurAlarmsPublish"
        Effect    = "Allow"
        Principal = { Service = "cloudwatch.amazonaws.com" }
        Action    = "sns:Publish"
        Resource  = aws_sns_topic.this.arn
        Condition = {
          StringEquals = { "aws:SourceAccount" = var.account_id }
          ArnLike      = { "aws:SourceArn" = local.alarm_arns }
        }
      },
      {
        Sid       = "OurEventRulesPublish"
        Effect    = "Allow"
        Principal = { Service = "events.amazonaws.com" }
        Action    = "sns:Publish"
        Resource  = aws_sns_topic.this.arn
        Condition = {
          StringEquals = { "aws:SourceAccount" = var.account_id }
          ArnLike      = { "aws:SourceArn" = aws_cloudwatch_event_rule.personalize_job_failures.arn }
        }
      },
    ]
  })
}

resource "aws_sns_topic_subscription" "email" {
  for_each = toset(var.alarm_emails)

  topic_arn = aws_sns_topic.this.arn
  protocol  = "email"
  endpoint  = each.value
}

# --- the API (EMF metrics, one series per Route) -----------------------------------------------

resource "aws_cloudwatch_metric_alarm" "fallback_rate" {
  for_each = local.routes

  alarm_name          = "${local.alarm_prefix}api-${each.key}-fallback-rate"
  alarm_description   = "More than ${var.thresholds.fallback_rate_percent}% of ${each.value} answers came from the fallback list (Personalize slow, failing or its breaker open)."
  comparison_operator = "GreaterThanThreshold"
  threshold           = var.thresholds.fallback_rate_percent
  evaluation_periods  = 2
  datapoints_to_alarm = 2
  treat_missing_data  = "notBreaching"
  alarm_actions       = [aws_sns_topic.this.arn]
  ok_actions          = [aws_sns_topic.this.arn]
  tags                = var.tags

  metric_query {
    id          = "rate"
    expression  = "IF(requests > 0, 100 * FILL(fallbacks, 0) / requests, 0)"
    label       = "fallback %"
    return_data = true
  }
  metric_query {
    id = "fallbacks"
    metric {
      namespace   = var.api_namespace
      metric_name = local.metric.fallback
      dimensions  = { Route = each.value }
      period      = local.period
      stat        = "Sum"
    }
  }
  metric_query {
    id = "requests"
    # Every answered request records one Latency sample: its sample count is the request count.
    metric {
      namespace   = var.api_namespace
      metric_name = local.metric.latency
      dimensions  = { Route = each.value }
      period      = local.period
      stat        = "SampleCount"
    }
  }
}

resource "aws_cloudwatch_metric_alarm" "server_errors" {
  for_each = local.routes

  alarm_name          = "${local.alarm_prefix}api-${each.key}-5xx"
  alarm_description   = "${each.value} answered 5xx more than ${var.thresholds.server_errors_per_period} times in ${local.period} s (Braze shows nothing, or aborts the message)."
  namespace           = var.api_namespace
  metric_name         = local.metric.server_error
  dimensions          = { Route = each.value }
  statistic           = "Sum"
  period              = local.period
  evaluation_periods  = 1
  comparison_operator = "GreaterThanThreshold"
  threshold           = var.thresholds.server_errors_per_period
  treat_missing_data  = "notBreaching"
  alarm_actions       = [aws_sns_topic.this.arn]
  ok_actions          = [aws_sns_topic.this.arn]
  tags                = var.tags
}

resource "aws_cloudwatch_metric_alarm" "latency" {
  for_each = local.routes

  alarm_name          = "${local.alarm_prefix}api-${each.key}-latency-p99"
  alarm_description   = "p99 latency of ${each.value} above ${var.thresholds.latency_p99_ms} ms: close to Braze's 2 s Connected Content timeout."
  namespace           = var.api_namespace
  metric_name         = local.metric.latency
  dimensions          = { Route = each.value }
  extended_statistic  = "p99"
  unit                = "Milliseconds"
  period              = local.period
  evaluation_periods  = 2
  datapoints_to_alarm = 2
  comparison_operator = "GreaterThanThreshold"
  threshold           = var.thresholds.latency_p99_ms
  treat_missing_data  = "notBreaching"
  alarm_actions       = [aws_sns_topic.this.arn]
  ok_actions          = [aws_sns_topic.this.arn]
  tags                = var.tags
}

resource "aws_cloudwatch_metric_alarm" "deadline_misses" {
  for_each = local.routes

  alarm_name          = "${local.alarm_prefix}api-${each.key}-deadline-misses"
  alarm_description   = "${each.value} missed its answer deadline more than ${var.thresholds.deadline_misses_per_period} times in ${local.period} s."
  namespace           = var.api_namespace
  metric_name         = local.metric.deadline_miss
  dimensions          = { Route = each.value }
  statistic           = "Sum"
  period              = local.period
  evaluation_periods  = 1
  comparison_operator = "GreaterThanThreshold"
  threshold           = var.thresholds.deadline_misses_per_period
  treat_missing_data  = "notBreaching"
  alarm_actions       = [aws_sns_topic.this.arn]
  ok_actions          = [aws_sns_topic.this.arn]
  tags                = var.tags
}

resource "aws_cloudwatch_metric_alarm" "breaker_open" {
  for_each = toset(var.breaker_dependencies)

  alarm_name          = "${local.alarm_prefix}api-breaker-${each.key}-open"
  alarm_description   = "The API's circuit breaker for ${each.key} opened: it serves fallbacks without calling ${each.key}."
  namespace           = var.api_namespace
  metric_name         = local.metric.breaker_open
  dimensions          = { Dependency = each.key }
  statistic           = "Sum"
  period              = local.period
  evaluation_periods  = 1
  comparison_operator = "GreaterThanThreshold"
  threshold           = 0
  treat_missing_data  = "notBreaching"
  alarm_actions       = [aws_sns_topic.this.arn]
  ok_actions          = [aws_sns_topic.this.arn]
  tags                = var.tags
}

# --- Personalize campaigns (AWS/Personalize, one series per CampaignArn) -------------------------
# https://docs.aws.amazon.com/personalize/latest/dg/cloudwatch-metrics.html: <Operation>4xxErrors counts
# throttled calls (ThrottlingException is a 400), <Operation>Latency excludes errors; Average/Max only.

resource "aws_cloudwatch_metric_alarm" "personalize_4xx" {
  for_each = var.campaigns

  alarm_name          = "${local.alarm_prefix}personalize-${each.key}-throttled-or-4xx"
  alarm_description   = "${each.value.operation} on campaign ${each.key} answered 4xx (throttling above the provisioned TPS, or bad requests) more than ${var.thresholds.personalize_4xx_per_period} times in ${local.period} s."
  namespace           = "AWS/Personalize"
  metric_name         = "${each.value.operation}4xxErrors"
  dimensions          = { CampaignArn = each.value.arn }
  statistic           = "Sum"
  period              = local.period
  evaluation_periods  = 1
  comparison_operator = "GreaterThanThreshold"
  threshold           = var.thresholds.personalize_4xx_per_period
  treat_missing_data  = "notBreaching"
  alarm_actions       = [aws_sns_topic.this.arn]
  ok_actions          = [aws_sns_topic.this.arn]
  tags                = var.tags
}

resource "aws_cloudwatch_metric_alarm" "personalize_latency" {
  for_each = var.campaigns

  alarm_name          = "${local.alarm_prefix}personalize-${each.key}-latency"
  alarm_description   = "Average ${each.value.operation} latency of campaign ${each.key} above ${var.thresholds.personalize_latency_ms} ms."
  namespace           = "AWS/Personalize"
  metric_name         = "${each.value.operation}Latency"
  dimensions          = { CampaignArn = each.value.arn }
  statistic           = "Average"
  period              = local.period
  evaluation_periods  = 2
  datapoints_to_alarm = 2
  comparison_operator = "GreaterThanThreshold"
  threshold           = var.thresholds.personalize_latency_ms
  treat_missing_data  = "notBreaching"
  alarm_actions       = [aws_sns_topic.this.arn]
  ok_actions          = [aws_sns_topic.this.arn]
  tags                = var.tags
}

# --- failed imports and trainings ---------------------------------------------------------------
# DatasetImportJobError and SolutionTrainingJobError carry the job's ARN as a dimension, unknown in
# advance: a Metrics Insights query sums them over every job
# (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/Create_Metrics_Insights_Alarm.html).

resource "aws_cloudwatch_metric_alarm" "job_errors" {
  for_each = {
    dataset-import-failed   = { metric = "DatasetImportJobError", schema = "DatasetGroupArn, DatasetArn, DatasetImportJobArn", what = "A dataset import job failed" }
    solution-version-failed = { metric = "SolutionTrainingJobError", schema = "SolutionArn, SolutionVersionArn", what = "A solution version (training) failed" }
  }

  alarm_name          = "${local.alarm_prefix}personalize-${each.key}"
  alarm_description   = "${each.value.what}: see `make evaluate` / DescribeDatasetImportJob or DescribeSolutionVersion for its failureReason."
  comparison_operator = "GreaterThanThreshold"
  threshold           = 0
  evaluation_periods  = 1
  treat_missing_data  = "notBreaching"
  alarm_actions       = [aws_sns_topic.this.arn]
  tags                = var.tags

  metric_query {
    id          = "errors"
    expression  = "SELECT SUM(${each.value.metric}) FROM SCHEMA(\"AWS/Personalize\", ${each.value.schema})"
    period      = local.period
    return_data = true
  }
}

# The same failures as they are refused by the API, at once and with the error message: CloudTrail
# delivers Personalize's management calls to EventBridge as "AWS API Call via CloudTrail"
# (https://docs.aws.amazon.com/eventbridge/latest/ref/events-structure.html#events-for-services-not-listed).
resource "aws_cloudwatch_event_rule" "personalize_job_failures" {
  name        = "${var.name}-personalize-job-failures"
  description = "CreateDatasetImportJob or CreateSolutionVersion calls that failed."
  tags        = var.tags
  event_pattern = jsonencode({
    source        = ["aws.personalize"]
    "detail-type" = ["AWS API Call via CloudTrail"]
    detail = {
      eventSource = ["personalize.amazonaws.com"]
      eventName   = ["CreateDatasetImportJob", "CreateSolutionVersion"]
      errorCode   = [{ exists = true }]
    }
  })
}

resource "aws_cloudwatch_event_target" "personalize_job_failures" {
  rule      = aws_cloudwatch_event_rule.personalize_job_failures.name
  target_id = "alarm-topic"
  arn       = aws_sns_topic.this.arn

  input_transformer {
    input_paths = {
      call    = "$.detail.eventName"
      code    = "$.detail.errorCode"
      message = "$.detail.errorMessage"
      time    = "$.time"
    }
    input_template = "\"${var.name}: Personalize <call> failed at <time>: <code> <message>\""
  }
}

# --- dashboard ----------------------------------------------------------------------------------

locals {
  dashboard = {
    widgets = concat(
      [
        {
          type = "metric", x = 0, y = 0, width = 12, height = 6
          properties = {
            title   = "API latency p99 (Braze gives up at 2 s)"
            region  = var.region
            stat    = "p99"
            period  = 60
            metrics = [for r in var.api_routes : [var.api_namespace, local.metric.latency, "Route", r]]
            annotations = {
              horizontal = [
                { label = "alarm", value = var.thresholds.latency_p99_ms },
                { label = "Braze timeout", value = 2000, color = "#d62728" },
              ]
            }
          }
        },
        {
          type = "metric", x = 12, y = 0, width = 12, height = 6
          properties = {
            title   = "API fallbacks, 5xx and deadline misses"
            region  = var.region
            stat    = "Sum"
            period  = 60
            metrics = flatten([for r in var.api_routes : [for m in [local.metric.fallback, local.metric.server_error, local.metric.deadline_miss] : [[var.api_namespace, m, "Route", r]]]])
          }
        },
        {
          type = "metric", x = 0, y = 6, width = 12, height = 6
          properties = {
            title   = "Circuit breakers opened"
            region  = var.region
            stat    = "Sum"
            period  = 60
            metrics = [for d in var.breaker_dependencies : [var.api_namespace, local.metric.breaker_open, "Dependency", d]]
          }
        },
        {
          type = "alarm", x = 12, y = 6, width = 12, height = 6
          properties = {
            title  = "Alarms"
            alarms = local.alarm_arn_list
          }
        },
      ],
      # A tuple of unlike objects cannot meet [] in a conditional: filter it instead.
      [for w in [
        {
          type = "metric", x = 0, y = 12, width = 12, height = 6
          properties = {
            title   = "Personalize latency (average)"
            region  = var.region
            stat    = "Average"
            period  = 60
            metrics = [for name, c in var.campaigns : ["AWS/Personalize", "${c.operation}Latency", "CampaignArn", c.arn, { label = name }]]
          }
        },
        {
          type = "metric", x = 12, y = 12, width = 12, height = 6
          properties = {
            title   = "Personalize 4xx (throttling) and 5xx"
            region  = var.region
            stat    = "Sum"
            period  = 60
            metrics = flatten([for name, c in var.campaigns : [for kind in ["4xxErrors", "5xxErrors"] : [["AWS/Personalize", "${c.operation}${kind}", "CampaignArn", c.arn, { label = "${name} ${kind}" }]]]])
          }
        },
      ] : w if length(var.campaigns) > 0],
    )
  }
  alarm_arn_list = concat(
    [for a in aws_cloudwatch_metric_alarm.fallback_rate : a.arn],
    [for a in aws_cloudwatch_metric_alarm.server_errors : a.arn],
    [for a in aws_cloudwatch_metric_alarm.latency : a.arn],
    [for a in aws_cloudwatch_metric_alarm.deadline_misses : a.arn],
    [for a in aws_cloudwatch_metric_alarm.breaker_open : a.arn],
    [for a in aws_cloudwatch_metric_alarm.personalize_4xx : a.arn],
    [for a in aws_cloudwatch_metric_alarm.personalize_latency : a.arn],
    [for a in aws_cloudwatch_metric_alarm.job_errors : a.arn],
  )
}

resource "aws_cloudwatch_dashboard" "this" {
  dashboard_name = var.name
  dashboard_body = jsonencode(local.dashboard)
}
