mock_provider "aws" {
  mock_resource "aws_sns_topic" {
    defaults = {
      arn = "arn:aws:sns:eu-west-1:123456789012:acme-recs-alarms"
    }
  }
  mock_resource "aws_kms_key" {
    defaults = {
      arn = "arn:aws:kms:eu-west-1:123456789012:key/00000000-0000-0000-0000-000000000000"
    }
  }
  mock_resource "aws_cloudwatch_event_rule" {
    defaults = {
      arn = "arn:aws:events:eu-west-1:123456789012:rule/acme-recs-personalize-job-failures"
    }
  }
}

variables {
  name       = "acme-recs"
  account_id = "123456789012"
  region     = "eu-west-1"
  campaigns = {
    user-personalization = { arn = "arn:aws:personalize:eu-west-1:123456789012:campaign/acme-recs-user-personalization", operation = "GetRecommendations" }
    ranking              = { arn = "arn:aws:personalize:eu-west-1:123456789012:campaign/acme-recs-ranking", operation = "GetPersonalizedRanking" }
  }
}

run "api_alarms_watch_every_route_on_the_api_metric_names" {
  command = plan

  assert {
    condition     = length(aws_cloudwatch_metric_alarm.server_errors) == 4 && alltrue([for a in aws_cloudwatch_metric_alarm.server_errors : a.namespace == "BrazeRecommendationsApi" && a.metric_name == "ServerError"])
    error_message = "one 5xx alarm per route on BrazeRecommendationsApi/ServerError"
  }
  assert {
    condition     = aws_cloudwatch_metric_alarm.server_errors["recommendations"].dimensions.Route == "/recommendations"
    error_message = "the Route dimension carries the route as the API names it"
  }
  assert {
    condition     = alltrue([for a in aws_cloudwatch_metric_alarm.deadline_misses : a.metric_name == "DeadlineMiss"])
    error_message = "deadline misses are read from DeadlineMiss"
  }
  assert {
    condition     = alltrue([for a in aws_cloudwatch_metric_alarm.latency : a.extended_statistic == "p99" && a.threshold < 2000 && a.unit == "Milliseconds"])
    error_message = "latency alarms watch p99 below Braze's 2 s budget"
  }
  assert {
    condition     = toset([for a in aws_cloudwatch_metric_alarm.breaker_open : a.dimensions.Dependency]) == toset(["campaign", "artifacts"])
    error_message = "one breaker alarm per dependency"
  }
}

run "fallback_rate_is_fallbacks_over_requests" {
  command = plan

  assert {
    condition = alltrue([
      for a in aws_cloudwatch_metric_alarm.fallback_rate :
      one([for q in a.metric_query : q.metric[0].metric_name if q.id == "fallbacks"]) == "Fallback" &&
      one([for q in a.metric_query : q.metric[0].stat if q.id == "requests"]) == "SampleCount"
    ])
    error_message = "the rate divides Fallback by the request count (Latency samples)"
  }
}

run "personalize_alarms_use_each_campaigns_operation" {
  command = plan

  assert {
    condition     = aws_cloudwatch_metric_alarm.personalize_4xx["ranking"].metric_name == "GetPersonalizedRanking4xxErrors"
    error_message = "a ranking campaign is watched on GetPersonalizedRanking metrics"
  }
  assert {
    condition     = aws_cloudwatch_metric_alarm.personalize_latency["user-personalization"].metric_name == "GetRecommendationsLatency"
    error_message = "a recommendation campaign is watched on GetRecommendationsLatency"
  }
  assert {
    condition     = aws_cloudwatch_metric_alarm.personalize_latency["ranking"].dimensions.CampaignArn == "arn:aws:personalize:eu-west-1:123456789012:campaign/acme-recs-ranking"
    error_message = "Personalize metrics are per CampaignArn"
  }
}

run "failed_imports_and_trainings_alarm_and_reach_the_topic" {
  command = apply

  assert {
    condition     = length(aws_cloudwatch_metric_alarm.job_errors) == 2
    error_message = "failed imports and failed solution versions each have an alarm"
  }
  assert {
    condition     = jsondecode(aws_cloudwatch_event_rule.personalize_job_failures.event_pattern).detail.eventName == ["CreateDatasetImportJob", "CreateSolutionVersion"]
    error_message = "the rule watches import and training calls"
  }
  assert {
    condition     = aws_cloudwatch_event_target.personalize_job_failures.arn == aws_sns_topic.this.arn
    error_message = "the rule publishes to the alarm topic"
  }
  assert {
    condition     = alltrue([for a in aws_cloudwatch_metric_alarm.server_errors : a.alarm_actions == toset([aws_sns_topic.this.arn])])
    error_message = "alarms publish to the topic"
  }
}

run "topic_is_encrypted_and_only_our_alarms_and_rule_publish" {
  command = apply

  assert {
    condition     = aws_sns_topic.this.kms_master_key_id == aws_kms_key.this.arn
    error_message = "the topic is encrypted with a customer key CloudWatch may use"
  }
  assert {
    condition     = one([for s in jsondecode(aws_sns_topic_policy.this.policy).Statement : s if s.Sid == "OurAlarmsPublish"]).Condition.ArnLike["aws:SourceArn"] == "arn:aws:cloudwatch:eu-west-1:123456789012:alarm:acme-recs-*"
    error_message = "only this project's alarms may publish"
  }
}

run "recipients_subscribe_by_email" {
  command = plan

  variables {
    alarm_emails = ["oncall@example.com", "team@example.com"]
  }

  assert {
    condition     = length(aws_sns_topic_subscription.email) == 2 && aws_sns_topic_subscription.email["oncall@example.com"].protocol == "email"
    error_message = "every recipient gets an e-mail subscription"
  }
}

run "dashboard_shows_the_braze_timeout" {
  command = plan

  assert {
    condition     = contains([for h in jsondecode(aws_cloudwatch_dashboard.this.dashboard_body).widgets[0].properties.annotations.horizontal : h.value], 2000)
    error_message = "the latency widget marks Braze's 2 s timeout"
  }
}

run "rejects_a_latency_threshold_at_brazes_timeout" {
  command = plan
  variables {
    thresholds = {
      fallback_rate_percent      = 5
      latency_p99_ms             = 2000
      server_errors_per_period   = 5
      deadline_misses_per_period = 5
      personalize_latency_ms     = 500
      personalize_4xx_per_period = 5
      period_seconds             = 300
    }
  }
  expect_failures = [var.thresholds]
}

run "rejects_an_unknown_campaign_operation" {
  command = plan
  variables {
    campaigns = { x = { arn = "arn:aws:personalize:eu-west-1:123456789012:campaign/x", operation = "GetActionRecommendations" } }
  }
  expect_failures = [var.campaigns]
}
