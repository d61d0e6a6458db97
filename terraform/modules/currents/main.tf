# The Braze Currents -> Personalize bridge on AWS: S3 sends the data bucket's events to EventBridge (the
# storage module turns that on); a rule on the default bus matches new `.avro` objects under the Currents
# prefix and invokes pipeline.currents.handler. Delivery failures are retried by EventBridge, function
# failures twice by Lambda; either way the event then lands in the dead-letter queue.

locals {
  function_name  = "${var.name}-currents-bridge"
  log_group_name = "/aws/lambda/${local.function_name}"
  log_group_arn  = "arn:${var.partition}:logs:${var.region}:${var.account_id}:log-group:${local.log_group_name}"
  bucket_arn     = "arn:${var.partition}:s3:::${var.bucket_name}"
  rule_name      = "${local.function_name}-new-currents-files"
  # Built, not read from the rule, so the queue's key and policy need not wait for the rule.
  rule_arn = "arn:${var.partition}:events:${var.region}:${var.account_id}:rule/${local.rule_name}"
  prefixes = distinct(concat(
    [var.currents.prefix, var.currents.quarantine_prefix, var.currents.state_prefix, var.currents.bulk_prefix],
    var.forget_prefixes,
  ))
}

locals {
  # The first statement of both keys' policies: the account administers the key (IAM policies apply).
  account_administers_key = {
    Sid       = "AccountAdministers"
    Effect    = "Allow"
    Principal = { AWS = "arn:${var.partition}:iam::${var.account_id}:root" }
    Action    = "kms:*"
    Resource  = "*" # in a key policy "*" means this key
  }
  logs_key_policy = {
    Version = "2012-10-17"
    Statement = [
      local.account_administers_key,
      {
        Sid       = "CloudWatchLogsEncryptsThisLogGroupOnly"
        Effect    = "Allow"
        Principal = { Service = "logs.${var.region}.amazonaws.com" }
        Action    = ["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"]
        Resource  = "*"
        Condition = { ArnEquals = { "kms:EncryptionContext:aws:logs:arn" = local.log_group_arn } }
      },
    ]
  }
}

# The dead-letter queue's key: EventBridge writes to the queue as events.amazonaws.com, so the key policy
# must let that principal use it, for this rule only ("Using dead-letter queues to process undelivered
# events", https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-rule-dlq.html: an SSE-KMS queue
# needs kms:Decrypt and kms:GenerateDataKey for EventBridge in its customer managed key's policy). A key of
# its own keeps the data key Personalize-only; the function (its role) writes with it through IAM.
locals {
  dead_letter_key_policy = {
    Version = "2012-10-17"
    Statement = [
      local.account_administers_key,
      {
        Sid       = "EventBridgeEncryptsForTheCurrentsRuleOnly"
        Effect    = "Allow"
        Principal = { Service = "events.amazonaws.com" }
        Action    = ["kms:Decrypt", "kms:GenerateDataKey"]
        Resource  = "*"
        Condition = { ArnEquals = { "aws:SourceArn" = local.rule_arn } }
      },
    ]
  }
}

resource "aws_kms_key" "dead_letter" {
  description             = "Encrypts the ${local.function_name} dead-letter queue"
  enable_key_rotation     = true
  deletion_window_in_days = var.kms_deletion_window_days
  policy                  = jsonencode(local.dead_letter_key_policy)
}

resource "aws_sqs_queue" "dead_letter" {
  name                      = "${local.function_name}-dlq"
  message_retention_seconds = 1209600 # 14 days, SQS's maximum: time to replay a failed file
  kms_master_key_id         = aws_kms_key.dead_letter.arn
}

# Only the Currents rule may send to the queue as EventBridge (confused-deputy guard: aws:SourceArn, as the
# dead-letter page above documents); the function writes through its role.
resource "aws_sqs_queue_policy" "dead_letter" {
  queue_url = aws_sqs_queue.dead_letter.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid       = "CurrentsRuleSendsUndeliveredEvents"
      Effect    = "Allow"
      Principal = { Service = "events.amazonaws.com" }
      Action    = "sqs:SendMessage"
      Resource  = aws_sqs_queue.dead_letter.arn
      Condition = { ArnEquals = { "aws:SourceArn" = local.rule_arn } }
    }]
  })
}

resource "aws_iam_role" "this" {
  name = local.function_name
  assume_role_policy = jsonencode({
    Version   = "2012-10-17"
    Statement = [{ Effect = "Allow", Action = "sts:AssumeRole", Principal = { Service = "lambda.amazonaws.com" } }]
  })
}

resource "aws_iam_role_policy" "this" {
  name = "currents-bridge"
  role = aws_iam_role.this.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid      = "ReadWriteOwnPrefixes"
        Effect   = "Allow"
        Action   = ["s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:DeleteObjectVersion"]
        Resource = [for p in local.prefixes : "${local.bucket_arn}/${p}*"]
      },
      {
        Sid       = "ListOwnPrefixes"
        Effect    = "Allow"
        Action    = ["s3:ListBucket", "s3:ListBucketVersions"]
        Resource  = local.bucket_arn
        Condition = { StringLike = { "s3:prefix" = [for p in local.prefixes : "${p}*"] } }
      },
      { Sid = "DataKey", Effect = "Allow", Action = ["kms:Decrypt", "kms:GenerateDataKey"], Resource = var.kms_key_arn },
      { Sid = "PutEvents", Effect = "Allow", Action = "personalize:PutEvents", Resource = var.event_tracker_arn },
      {
        # The job names the dataset group; its own ARN is data-deletion-job/<name> in this account.
        Sid    = "ForgetUsers"
        Effect = "Allow"
        Action = ["personalize:CreateDataDeletionJob", "personalize:DescribeDataDeletionJob", "personalize:ListDataDeletionJobs"]
        Resource = [
          var.dataset_group_arn,
          "arn:${var.partition}:personalize:*:${var.account_id}:data-deletion-job/*",
        ]
      },
      {
        Sid       = "PassPersonalizeRole"
        Effect    = "Allow"
        Action    = "iam:PassRole"
        Resource  = var.personalize_role_arn
        Condition = { StringEquals = { "iam:PassedToService" = "personalize.amazonaws.com" } }
      },
      { Sid = "DeadLetter", Effect = "Allow", Action = "sqs:SendMessage", Resource = aws_sqs_queue.dead_letter.arn },
      { Sid = "DeadLetterKey", Effect = "Allow", Action = ["kms:Decrypt", "kms:GenerateDataKey"], Resource = aws_kms_key.dead_letter.arn },
      { Sid = "Tracing", Effect = "Allow", Action = ["xray:PutTraceSegments", "xray:PutTelemetryRecords"], Resource = "*" },
      {
        Sid      = "Logs"
        Effect   = "Allow"
        Action   = ["logs:CreateLogStream", "logs:PutLogEvents"]
        Resource = "${aws_cloudwatch_log_group.this.arn}:*"
      },
    ]
  })
}

# The function's log group is encrypted with a key of its own: CloudWatch Logs may use it only for this
# log group (the encryption context names it), so the data key's policy stays Personalize-only. Key
# policy as documented in "Encrypt log data in CloudWatch Logs using AWS KMS"
# (https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/encrypt-log-data-kms.html): the regional
# logs service principal, conditioned on kms:EncryptionContext:aws:logs:arn.
resource "aws_kms_key" "logs" {
  description             = "Encrypts the ${local.function_name} log group"
  enable_key_rotation     = true
  deletion_window_in_days = var.kms_deletion_window_days
  policy                  = jsonencode(local.logs_key_policy)
}

resource "aws_cloudwatch_log_group" "this" {
  name              = local.log_group_name
  retention_in_days = var.log_retention_days
  kms_key_id        = aws_kms_key.logs.arn
}

resource "aws_lambda_function" "this" {
  #checkov:skip=CKV_AWS_117:It reaches only S3 and Personalize; a VPC needs endpoints or NAT, a deployment choice.
  #checkov:skip=CKV_AWS_272:Code signing needs a signing profile, a deployment choice; the package is built by make currents-package.
  function_name    = local.function_name
  role             = aws_iam_role.this.arn
  filename         = var.package_file
  source_code_hash = var.package_sha256
  handler          = "pipeline.currents.handler.handler"
  runtime          = var.runtime
  timeout          = var.timeout_seconds
  memory_size      = var.memory_mb
  # One at a time: the checkpoint, seen ids and id pairs are read-modify-write objects in S3.
  reserved_concurrent_executions = 1
  kms_key_arn                    = var.kms_key_arn # environment variables encrypted with the data key

  tracing_config {
    mode = "Active"
  }

  dead_letter_config {
    target_arn = aws_sqs_queue.dead_letter.arn
  }

  environment {
    variables = {
      CURRENTS_CONFIG      = jsonencode(var.currents)
      TRACKING_ID          = var.tracking_id
      DATASET_GROUP_ARN    = var.dataset_group_arn
      PERSONALIZE_ROLE_ARN = var.personalize_role_arn
      PROJECT_NAME         = var.name
      FORGET_PREFIXES      = join(",", var.forget_prefixes)
    }
  }

  depends_on = [aws_cloudwatch_log_group.this, aws_iam_role_policy.this]
}

resource "aws_lambda_function_event_invoke_config" "this" {
  function_name          = aws_lambda_function.this.function_name
  maximum_retry_attempts = 2
}

# --- trigger: an EventBridge rule on the bucket's "Object Created" events --------------------------
# A bucket has one notification configuration; with EventBridge on (storage module) every consumer gets a
# rule of its own instead of sharing it
# (https://docs.aws.amazon.com/AmazonS3/latest/userguide/EventBridge.html; event shape:
# https://docs.aws.amazon.com/AmazonS3/latest/userguide/ev-events.html). A prefix and a suffix filter on
# the same field cannot be ANDed in one pattern (values in an array are ORed), so the key is matched with
# one wildcard, `<prefix>*.avro`, where `*` matches any characters and a literal `*` in the prefix is
# escaped as `\*` ("Wildcard matching",
# https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-create-pattern-operators.html).
locals {
  key_wildcard = "${replace(var.currents.prefix, "*", "\\*")}*.avro"
  event_pattern = {
    source        = ["aws.s3"]
    "detail-type" = ["Object Created"]
    detail = {
      bucket = { name = [var.bucket_name] }
      object = { key = [{ wildcard = local.key_wildcard }] }
    }
  }
}

resource "aws_cloudwatch_event_rule" "this" {
  name           = local.rule_name
  event_bus_name = "default" # S3 delivers its events to the default bus only (EventBridge.html above)
  description    = "New Braze Currents files (.avro under ${var.currents.prefix}) in ${var.bucket_name}."
  event_pattern  = jsonencode(local.event_pattern)
}

# EventBridge hands the event to Lambda's asynchronous queue; if that fails (throttled, unreachable) it
# retries (by default for up to a day, 185 times), then sends the event to the dead-letter queue
# (https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-rule-retry-policy.html).
resource "aws_cloudwatch_event_target" "this" {
  rule      = aws_cloudwatch_event_rule.this.name
  target_id = "currents-bridge"
  arn       = aws_lambda_function.this.arn

  retry_policy {
    maximum_event_age_in_seconds = var.delivery_max_age_seconds
    maximum_retry_attempts       = var.delivery_max_retries
  }

  dead_letter_config {
    arn = aws_sqs_queue.dead_letter.arn
  }

  depends_on = [aws_lambda_permission.events, aws_sqs_queue_policy.dead_letter]
}

# Only this rule may invoke the function (https://docs.aws.amazon.com/eventbridge/latest/userguide/
# eb-use-resource-based.html#eb-lambda-permissions).
resource "aws_lambda_permission" "events" {
  statement_id  = "AllowCurrentsRuleInvoke"
  action        = "lambda:InvokeFunction"
  function_name = aws_lambda_function.this.function_name
  principal     = "events.amazonaws.com"
  source_arn    = aws_cloudwatch_event_rule.this.arn
}
