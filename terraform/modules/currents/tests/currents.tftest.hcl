mock_provider "aws" {
  mock_resource "aws_sqs_queue" {
    defaults = { arn = "arn:aws:sqs:eu-west-1:123456789012:acme-recs-currents-bridge-dlq" }
  }
  mock_resource "aws_iam_role" {
    defaults = { arn = "arn:aws:iam::123456789012:role/acme-recs-currents-bridge" }
  }
  mock_resource "aws_cloudwatch_log_group" {
    defaults = { arn = "arn:aws:logs:eu-west-1:123456789012:log-group:/aws/lambda/acme-recs-currents-bridge" }
  }
  mock_resource "aws_lambda_function" {
    defaults = { arn = "arn:aws:lambda:eu-west-1:123456789012:function:acme-recs-currents-bridge" }
  }
  mock_resource "aws_cloudwatch_event_rule" {
    defaults = { arn = "arn:aws:events:eu-west-1:123456789012:rule/acme-recs-currents-bridge-new-currents-files" }
  }
}

variables {
  name                 = "acme-recs"
  bucket_name          = "acme-recs-data-123456789012"
  kms_key_arn          = "arn:aws:kms:eu-west-1:123456789012:key/0000"
  account_id           = "123456789012"
  region               = "eu-west-1"
  tracking_id          = "tid-1"
  event_tracker_arn    = "arn:aws:personalize:eu-west-1:123456789012:event-tracker/web-events"
  dataset_group_arn    = "arn:aws:personalize:eu-west-1:123456789012:dataset-group/acme-recs"
  personalize_role_arn = "arn:aws:iam::123456789012:role/acme-recs-personalize"
  forget_prefixes      = ["imports/", "currents-bulk/"]
  package_file         = "currents-lambda.zip"
  currents = {
    prefix            = "currents/"
    quarantine_prefix = "currents-quarantine/"
    state_prefix      = "currents-state/"
    bulk_prefix       = "currents-bulk/"
    events            = { "users.behaviors.Purchase" = { event_type = "Purchase", item_id = "product_id" } }
  }
}

run "new_avro_files_under_the_prefix_invoke_the_function_through_an_eventbridge_rule" {
  command = apply

  assert {
    condition = jsondecode(aws_cloudwatch_event_rule.this.event_pattern) == {
      source        = ["aws.s3"]
      "detail-type" = ["Object Created"]
      detail = {
        bucket = { name = ["acme-recs-data-123456789012"] }
        object = { key = [{ wildcard = "currents/*.avro" }] }
      }
    }
    error_message = "only .avro objects created under the Currents prefix of our bucket match the rule"
  }
  assert {
    condition     = aws_cloudwatch_event_rule.this.event_bus_name == "default"
    error_message = "S3 sends its events to the default bus"
  }
  assert {
    condition     = aws_cloudwatch_event_target.this.arn == aws_lambda_function.this.arn && aws_cloudwatch_event_target.this.rule == aws_cloudwatch_event_rule.this.name
    error_message = "the rule targets the bridge function"
  }
}

run "an_asterisk_in_the_prefix_is_matched_literally" {
  command = plan
  variables {
    currents = {
      prefix            = "braze*exports/"
      quarantine_prefix = "q/"
      state_prefix      = "s/"
      bulk_prefix       = "b/"
      events            = {}
    }
  }

  assert {
    condition     = jsondecode(aws_cloudwatch_event_rule.this.event_pattern).detail.object.key[0].wildcard == "braze\\*exports/*.avro"
    error_message = "a '*' in the prefix is escaped so it does not act as a wildcard"
  }
}

run "undelivered_events_are_retried_then_kept_in_the_dead_letter_queue" {
  command = apply

  assert {
    condition     = one(aws_cloudwatch_event_target.this.dead_letter_config).arn == aws_sqs_queue.dead_letter.arn
    error_message = "events EventBridge cannot deliver go to the dead-letter queue"
  }
  assert {
    condition     = one(aws_cloudwatch_event_target.this.retry_policy).maximum_event_age_in_seconds == 86400 && one(aws_cloudwatch_event_target.this.retry_policy).maximum_retry_attempts == 185
    error_message = "EventBridge retries delivery for up to a day"
  }
  assert {
    condition = jsondecode(aws_sqs_queue_policy.dead_letter.policy).Statement == [{
      Sid       = "CurrentsRuleSendsUndeliveredEvents"
      Effect    = "Allow"
      Principal = { Service = "events.amazonaws.com" }
      Action    = "sqs:SendMessage"
      Resource  = "arn:aws:sqs:eu-west-1:123456789012:acme-recs-currents-bridge-dlq"
      Condition = { ArnEquals = { "aws:SourceArn" = "arn:aws:events:eu-west-1:123456789012:rule/acme-recs-currents-bridge-new-currents-files" } }
    }]
    error_message = "only the Currents rule may send to the dead-letter queue as EventBridge"
  }
  assert {
    condition     = aws_sqs_queue.dead_letter.kms_master_key_id == aws_kms_key.dead_letter.arn && aws_kms_key.dead_letter.enable_key_rotation
    error_message = "the dead-letter queue is encrypted with its own rotating key"
  }
  assert {
    condition     = jsondecode(aws_kms_key.dead_letter.policy).Statement[1].Principal.Service == "events.amazonaws.com" && jsondecode(aws_kms_key.dead_letter.policy).Statement[1].Condition.ArnEquals["aws:SourceArn"] == "arn:aws:events:eu-west-1:123456789012:rule/acme-recs-currents-bridge-new-currents-files"
    error_message = "EventBridge may use the queue's key for the Currents rule only"
  }
}

run "only_the_currents_rule_may_invoke_the_function" {
  command = apply

  assert {
    condition     = aws_lambda_permission.events.principal == "events.amazonaws.com" && aws_lambda_permission.events.action == "lambda:InvokeFunction"
    error_message = "EventBridge invokes the function"
  }
  assert {
    condition     = aws_lambda_permission.events.source_arn == aws_cloudwatch_event_rule.this.arn
    error_message = "the permission is scoped to the Currents rule"
  }
}

run "the_role_reaches_only_the_bridges_prefixes_and_tracker" {
  command = apply

  assert {
    condition = toset(jsondecode(aws_iam_role_policy.this.policy).Statement[0].Resource) == toset([
      for p in ["currents/", "currents-quarantine/", "currents-state/", "currents-bulk/", "imports/"] :
      "arn:aws:s3:::acme-recs-data-123456789012/${p}*"
    ])
    error_message = "object access is limited to the Currents, quarantine, state, bulk and import prefixes"
  }
  assert {
    condition     = jsondecode(aws_iam_role_policy.this.policy).Statement[3].Resource == "arn:aws:personalize:eu-west-1:123456789012:event-tracker/web-events"
    error_message = "PutEvents only on our event tracker"
  }
}

run "failures_go_to_a_dead_letter_queue_and_one_file_runs_at_a_time" {
  command = plan

  assert {
    condition     = aws_lambda_function.this.reserved_concurrent_executions == 1
    error_message = "the bridge's state is read-modify-write: one invocation at a time"
  }
  assert {
    condition     = aws_lambda_function_event_invoke_config.this.maximum_retry_attempts == 2
    error_message = "two retries before the dead-letter queue"
  }
  assert {
    condition     = aws_lambda_function.this.handler == "pipeline.currents.handler.handler"
    error_message = "the function runs the same handler as make currents-sync"
  }
  assert {
    condition     = jsondecode(aws_lambda_function.this.environment[0].variables.CURRENTS_CONFIG).prefix == "currents/"
    error_message = "the function reads the config's currents section"
  }
}

run "the_log_group_is_encrypted_with_a_key_only_cloudwatch_logs_may_use_for_it" {
  command = apply

  assert {
    condition     = aws_cloudwatch_log_group.this.kms_key_id == aws_kms_key.logs.arn && aws_kms_key.logs.enable_key_rotation
    error_message = "the log group is encrypted with its own rotating key"
  }
  assert {
    condition     = jsondecode(aws_kms_key.logs.policy).Statement[1].Principal.Service == "logs.eu-west-1.amazonaws.com"
    error_message = "the regional CloudWatch Logs principal uses the key"
  }
  assert {
    condition     = jsondecode(aws_kms_key.logs.policy).Statement[1].Condition.ArnEquals["kms:EncryptionContext:aws:logs:arn"] == "arn:aws:logs:eu-west-1:123456789012:log-group:/aws/lambda/acme-recs-currents-bridge"
    error_message = "CloudWatch Logs may use the key for the function's log group only"
  }
  assert {
    condition     = jsondecode(aws_kms_key.logs.policy).Statement[0].Principal.AWS == "arn:aws:iam::123456789012:root"
    error_message = "only our account administers the key"
  }
}

run "rejects_an_empty_currents_prefix" {
  command = plan
  variables {
    currents = {
      prefix            = ""
      quarantine_prefix = "q/"
      state_prefix      = "s/"
      bulk_prefix       = "b/"
      events            = {}
    }
  }
  expect_failures = [var.currents]
}

run "rejects_a_log_retention_cloudwatch_does_not_offer" {
  command = plan
  variables {
    log_retention_days = 10
  }
  expect_failures = [var.log_retention_days]
}

run "rejects_a_delivery_retry_window_eventbridge_does_not_offer" {
  command = plan
  variables {
    delivery_max_age_seconds = 30
  }
  expect_failures = [var.delivery_max_age_seconds]
}

run "rejects_more_delivery_retries_than_eventbridge_allows" {
  command = plan
  variables {
    delivery_max_retries = 186
  }
  expect_failures = [var.delivery_max_retries]
}
