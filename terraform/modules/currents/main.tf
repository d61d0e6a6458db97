# The Braze Currents -> Personalize bridge on AWS: S3 sends the data bucket's events to EventBridge (the
# storage module turns that on); a rule on the default bus matches new `.avro` objects under the Currents
# prefix and invokes pipeline.currents.handler. Delivery failures are retried by EventBridge, function
# failures twice by Lambda; either way the event then lands in the dead-letter queue.

locals {
  function_name = "${var.name}-currents-bridge"
  bucket_arn    = "arn:${var.partition}:s3:::${var.bucket_name}"
  rule_name     = "${local.function_name}-new-currents-files"
  # Built, not read from the rule, so the queue's key and policy need not wait for the rule.
  rule_arn = "arn:${var.partition}:events:${var.region}:${var.account_id}:rule/${local.rule_name}"
  prefixes = distinct(concat(
    [var.currents.prefix, var.currents.quarantine_prefix, var.currents.state_prefix, var.currents.bulk_prefix],
    var.forget_prefixes,
  ))
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
      {
        Sid       = "AccountAdministers"
        Effect    = "Allow"
        Principal = { AWS = "arn:${var.partition}:iam::${var.account_id}:root" }
        Action    = "kms:*"
        Resource  = "*" # in a key policy "*" means this key
      },
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
        Resource = "${module.log_group.arn}:*"
      },
      # Lambda creates and manages the function's network interfaces with its execution role: the
      # actions of AWSLambdaVPCAccessExecutionRole
      # (https://docs.aws.amazon.com/aws-managed-policy/latest/reference/AWSLambdaVPCAccessExecutionRole.html),
      # scoped as the Lambda guide allows (https://docs.aws.amazon.com/lambda/latest/dg/configuration-vpc.html):
      # interfaces only in our subnets with the function's security group; the Describe actions work only on "*".
      {
        Sid    = "CreateNetworkInterfacesInOurSubnets"
        Effect = "Allow"
        Action = "ec2:CreateNetworkInterface"
        Resource = concat(
          ["${local.ec2_arn_prefix}:network-interface/*"],
          [for id in var.subnet_ids : "${local.ec2_arn_prefix}:subnet/${id}"],
          ["${local.ec2_arn_prefix}:security-group/${aws_security_group.this.id}"],
        )
      },
      {
        Sid      = "ManageNetworkInterfaces"
        Effect   = "Allow"
        Action   = ["ec2:DeleteNetworkInterface", "ec2:AssignPrivateIpAddresses", "ec2:UnassignPrivateIpAddresses"]
        Resource = "${local.ec2_arn_prefix}:network-interface/*"
      },
      {
        Sid      = "DescribeNetwork"
        Effect   = "Allow"
        Action   = ["ec2:DescribeNetworkInterfaces", "ec2:DescribeSubnets"]
        Resource = "*"
      },
    ]
  })
}

# The function's log group is encrypted with a key of its own that CloudWatch Logs may use only for this
# log group, so the data key's policy stays Personalize-only.
module "log_group" {
  source = "../encrypted_log_group"

  name                     = "/aws/lambda/${local.function_name}"
  retention_in_days        = var.log_retention_days
  kms_deletion_window_days = var.kms_deletion_window_days
  account_id               = var.account_id
  region                   = var.region
  partition                = var.partition
}

moved {
  from = aws_kms_key.logs
  to   = module.log_group.aws_kms_key.this
}

moved {
  from = aws_cloudwatch_log_group.this
  to   = module.log_group.aws_cloudwatch_log_group.this
}

# --- the signed package -------------------------------------------------------------------------
# Only code signed by this module's AWS Signer profile may be deployed to the function
# ("Using code signing to verify code integrity with Lambda",
# https://docs.aws.amazon.com/lambda/latest/dg/configuration-codesigning.html): with
# UntrustedArtifactOnDeployment = Enforce, Lambda blocks a deployment of unsigned code and one whose
# signature fails the expiry, mismatch (not an allowed profile) or revocation check; the integrity
# check compares the package's hash with the signed one. The package goes: upload
# (package_prefix/unsigned/, a versioned object) -> signing job -> package_prefix/signed/<job id>.zip
# -> the function (s3_key + version).
# Deploying and signing are separate permissions: whoever may update the function's code but not
# sign with the profile (signer:StartSigningJob) cannot deploy other code (README: the caller's
# permissions).
#
# Re-applying an unchanged package does nothing: the object changes only when source_hash
# (package_sha256) or the key does; only a new object version replaces the signing job (every
# argument of aws_signer_signing_job forces a new job: ForceNew in the provider's schema,
# https://registry.terraform.io/providers/hashicorp/aws/latest/docs/resources/signer_signing_job);
# only a new job's key redeploys the code. Destroying a job only forgets it (jobs cannot be deleted).

locals {
  unsigned_prefix = "${var.package_prefix}unsigned/"
  signed_prefix   = "${var.package_prefix}signed/"
  # Signer profile names allow letters, digits and underscores only (PutSigningProfile's profileName:
  # https://docs.aws.amazon.com/signer/latest/api/API_PutSigningProfile.html); the provider's
  # name_prefix leaves 38 characters for ours.
  signing_profile_prefix = substr("${replace(local.function_name, "/[^a-zA-Z0-9_]/", "_")}_", 0, 38)
}

# A profile for the Lambda platform (AWSLambda-SHA384-ECDSA, "Lambda code signing with AWS Signer":
# https://docs.aws.amazon.com/lambda/latest/dg/governance-code-signing.html). A profile is never
# deleted, only canceled (its name stays taken), so a replacement gets a new generated name.
resource "aws_signer_signing_profile" "this" {
  name_prefix = local.signing_profile_prefix
  platform_id = "AWSLambda-SHA384-ECDSA"

  signature_validity_period {
    value = var.signature_validity_months
    type  = "MONTHS"
  }
}

# Lambda validates each new deployment against this config ("Creating code signing configurations
# for Lambda": https://docs.aws.amazon.com/lambda/latest/dg/configuration-codesigning-create.html):
# the allowed publisher is our profile's version (a replaced profile is a new version, allowed with it).
resource "aws_lambda_code_signing_config" "this" {
  description = "Only ${local.function_name} packages signed by ${aws_signer_signing_profile.this.name}"

  allowed_publishers {
    signing_profile_version_arns = [aws_signer_signing_profile.this.version_arn]
  }

  policies {
    untrusted_artifact_on_deployment = "Enforce"
  }
}

# The package as uploaded. Signer reads a source only from a versioned bucket and by version
# (StartSigningJob: https://docs.aws.amazon.com/signer/latest/api/API_StartSigningJob.html); the data
# bucket is versioned. The upload names the data key: the bucket policy denies a PUT naming another.
resource "aws_s3_object" "package" {
  bucket                 = var.bucket_name
  key                    = "${local.unsigned_prefix}currents-lambda.zip"
  source                 = var.package_file
  source_hash            = var.package_sha256 # etag is no content hash under SSE-KMS
  content_type           = "application/zip"
  server_side_encryption = "aws:kms"
  kms_key_id             = var.kms_key_arn

  lifecycle {
    # The bridge's role may write its prefixes: a package under one of them could be replaced by the
    # function itself (it would still fail signing's checks, but it is not the bridge's to touch).
    precondition {
      condition = alltrue([
        for p in local.prefixes : !startswith(var.package_prefix, p) && !startswith(p, var.package_prefix)
      ])
      error_message = "package_prefix must not overlap the Currents, quarantine, state, bulk or forget prefixes: the bridge's role reads and writes those."
    }
    # Others' prefixes: lifecycle rules there could expire the packages, other roles could read them.
    precondition {
      condition = alltrue([
        for p in var.reserved_prefixes : p == "" || (!startswith(var.package_prefix, p) && !startswith(p, var.package_prefix))
      ])
      error_message = "package_prefix must not overlap reserved_prefixes (the bucket's other owners and lifecycle rules)."
    }
  }
}

# Signer writes the signed package to the destination as <prefix><job id>.zip ("Lambda code signing
# with AWS Signer", above) with the caller's permissions (s3:GetObjectVersion on the source,
# s3:PutObject on the destination: https://docs.aws.amazon.com/signer/latest/developerguide/gs-iam.html).
# The resource waits for the job; a failed job fails the apply (ignore_signing_job_failure = false).
resource "aws_signer_signing_job" "this" {
  profile_name = aws_signer_signing_profile.this.name

  source {
    s3 {
      bucket  = aws_s3_object.package.bucket
      key     = aws_s3_object.package.key
      version = aws_s3_object.package.version_id
    }
  }

  destination {
    s3 {
      bucket = var.bucket_name
      prefix = local.signed_prefix
    }
  }

  ignore_signing_job_failure = false
}

# The signed object's version, so the function names exactly what was signed (FunctionCode's
# S3ObjectVersion: https://docs.aws.amazon.com/lambda/latest/dg/API_FunctionCode.html).
data "aws_s3_object" "signed_package" {
  bucket = one(one(aws_signer_signing_job.this.signed_object).s3).bucket
  key    = one(one(aws_signer_signing_job.this.signed_object).s3).key
}

resource "aws_lambda_function" "this" {
  function_name = local.function_name
  role          = aws_iam_role.this.arn
  # The signed package, pinned to its version; the code signing config makes Lambda refuse any other.
  s3_bucket               = one(one(aws_signer_signing_job.this.signed_object).s3).bucket
  s3_key                  = one(one(aws_signer_signing_job.this.signed_object).s3).key
  s3_object_version       = data.aws_s3_object.signed_package.version_id
  code_signing_config_arn = aws_lambda_code_signing_config.this.arn
  handler                 = "pipeline.currents.handler.handler"
  runtime                 = var.runtime
  timeout                 = var.timeout_seconds
  memory_size             = var.memory_mb
  # One at a time: the checkpoint, seen ids and id pairs are read-modify-write objects in S3.
  reserved_concurrent_executions = 1
  kms_key_arn                    = var.kms_key_arn # environment variables encrypted with the data key

  tracing_config {
    mode = "Active"
  }

  # In private subnets without internet routes (modules/private_network): S3, Personalize and X-Ray are
  # reached through VPC endpoints only ("Giving Lambda functions access to resources in an Amazon VPC",
  # https://docs.aws.amazon.com/lambda/latest/dg/configuration-vpc.html).
  vpc_config {
    subnet_ids         = var.subnet_ids
    security_group_ids = [aws_security_group.this.id]
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

  depends_on = [module.log_group, aws_iam_role_policy.this]
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
