mock_provider "aws" {}

variables {
  bucket_name        = "acme-recs-data-123456789012-logs"
  account_id         = "123456789012"
  source_bucket_arns = ["arn:aws:s3:::acme-recs-data-123456789012"]
}

run "log_bucket_is_sse_s3_versioned_private_and_owner_enforced" {
  command = plan

  assert {
    condition     = aws_s3_bucket.this.bucket == "acme-recs-data-123456789012-logs"
    error_message = "the log bucket takes the given name"
  }
  assert {
    condition     = one(one(aws_s3_bucket_server_side_encryption_configuration.this.rule).apply_server_side_encryption_by_default).sse_algorithm == "AES256"
    error_message = "the log bucket must be SSE-S3: server access logging cannot deliver to SSE-KMS"
  }
  assert {
    condition     = one(aws_s3_bucket_versioning.this.versioning_configuration).status == "Enabled"
    error_message = "the log bucket must be versioned"
  }
  assert {
    condition = alltrue([
      aws_s3_bucket_public_access_block.this.block_public_acls,
      aws_s3_bucket_public_access_block.this.block_public_policy,
      aws_s3_bucket_public_access_block.this.ignore_public_acls,
      aws_s3_bucket_public_access_block.this.restrict_public_buckets,
    ])
    error_message = "all public access to the logs must be blocked"
  }
  assert {
    condition     = one(aws_s3_bucket_ownership_controls.this.rule).object_ownership == "BucketOwnerEnforced"
    error_message = "the bucket owner must own every log object (ACLs off)"
  }
  assert {
    condition     = aws_s3_bucket.this.force_destroy == false
    error_message = "logs must not be dropped by a destroy unless asked"
  }
}

run "logs_expire_after_expiration_days" {
  command = plan

  variables {
    expiration_days = 30
  }

  assert {
    condition     = one([for r in aws_s3_bucket.this.lifecycle_rule : one(r.expiration).days if r.id == "expire-access-logs"]) == 30
    error_message = "access logs must expire after expiration_days"
  }
  assert {
    condition     = one([for r in aws_s3_bucket.this.lifecycle_rule : one(r.noncurrent_version_expiration).days if r.id == "expire-access-logs"]) == 7
    error_message = "superseded log versions must expire after a week"
  }
  assert {
    condition     = one([for r in aws_s3_bucket.this.lifecycle_rule : r.abort_incomplete_multipart_upload_days if r.id == "expire-access-logs"]) == 1
    error_message = "incomplete uploads must be aborted after a day"
  }
}

run "policy_is_tls_1_2_only" {
  command = plan

  assert {
    condition     = one([for s in jsondecode(output.policy_json).Statement : s if s.Sid == "DenyInsecureTransport"]).Condition.Bool["aws:SecureTransport"] == "false"
    error_message = "non-TLS requests must be denied"
  }
  assert {
    condition     = one([for s in jsondecode(output.policy_json).Statement : s if s.Sid == "DenyTlsBelow12"]).Condition.NumericLessThan["s3:TlsVersion"] == "1.2"
    error_message = "TLS below 1.2 must be denied"
  }
  assert {
    condition     = alltrue([for s in jsondecode(output.policy_json).Statement : s.Effect == "Deny" && s.Resource == ["arn:aws:s3:::acme-recs-data-123456789012-logs", "arn:aws:s3:::acme-recs-data-123456789012-logs/*"] if startswith(s.Sid, "Deny")])
    error_message = "the deny statements cover the bucket and every object"
  }
  assert {
    condition     = aws_s3_bucket_policy.this.policy == output.policy_json
    error_message = "the bucket carries the policy the output shows"
  }
}

run "log_delivery_is_granted_only_to_our_source_buckets_under_the_prefix" {
  command = plan

  variables {
    source_bucket_arns = ["arn:aws:s3:::acme-recs-data-123456789012", "arn:aws:s3:::acme-tfstate-123456789012"]
    target_prefix      = "s3/"
  }

  assert {
    condition     = one([for s in jsondecode(output.policy_json).Statement : s if s.Effect == "Allow"]).Principal == { Service = "logging.s3.amazonaws.com" }
    error_message = "only the S3 logging service is granted anything"
  }
  assert {
    condition     = one([for s in jsondecode(output.policy_json).Statement : s if s.Effect == "Allow"]).Action == "s3:PutObject"
    error_message = "log delivery may only put objects"
  }
  assert {
    condition     = one([for s in jsondecode(output.policy_json).Statement : s if s.Effect == "Allow"]).Resource == "arn:aws:s3:::acme-recs-data-123456789012-logs/s3/*"
    error_message = "log delivery may write only under target_prefix"
  }
  assert {
    condition     = one([for s in jsondecode(output.policy_json).Statement : s if s.Effect == "Allow"]).Condition.StringEquals["aws:SourceAccount"] == "123456789012"
    error_message = "log delivery is admitted for our account only (aws:SourceAccount)"
  }
  assert {
    condition     = one([for s in jsondecode(output.policy_json).Statement : s if s.Effect == "Allow"]).Condition.ArnLike["aws:SourceArn"] == ["arn:aws:s3:::acme-recs-data-123456789012", "arn:aws:s3:::acme-tfstate-123456789012"]
    error_message = "log delivery is admitted for the given source buckets only (aws:SourceArn)"
  }
  assert {
    condition     = output.target_prefix == "s3/"
    error_message = "callers log under the prefix the grant covers"
  }
}

run "log_bucket_events_go_to_eventbridge" {
  command = apply

  assert {
    condition     = aws_s3_bucket_notification.this.eventbridge
    error_message = "the log bucket's events must be delivered to EventBridge"
  }
  assert {
    condition     = aws_s3_bucket_notification.this.bucket == aws_s3_bucket.this.id
    error_message = "the notification configuration belongs to the log bucket"
  }
}

run "logging_target_is_read_through_the_grant" {
  command = apply

  assert {
    condition     = output.target_bucket == aws_s3_bucket.this.id && output.target_bucket == aws_s3_bucket_policy.this.bucket
    error_message = "target_bucket names the log bucket, through its policy (so logging waits for the grant)"
  }
  assert {
    condition     = output.id == aws_s3_bucket.this.id && output.arn == aws_s3_bucket.this.arn
    error_message = "id and arn are the log bucket's"
  }
}

run "force_destroy_is_passed_through" {
  command = plan

  variables {
    force_destroy = true
  }

  assert {
    condition     = aws_s3_bucket.this.force_destroy
    error_message = "force_destroy = true lets a destroy drop the logs"
  }
}

run "rejects_a_bucket_name_s3_would_refuse" {
  command = plan
  variables {
    bucket_name = "Acme_Logs"
  }
  expect_failures = [var.bucket_name]
}

run "rejects_a_bucket_name_longer_than_63_characters" {
  command = plan
  variables {
    bucket_name = "a-very-long-prefix-braze-personalize-tfstate-production-123456789012-logs"
  }
  expect_failures = [var.bucket_name]
}

run "rejects_short_account_id" {
  command = plan
  variables {
    account_id = "12345"
  }
  expect_failures = [var.account_id]
}

run "rejects_no_source_bucket" {
  command = plan
  variables {
    source_bucket_arns = []
  }
  expect_failures = [var.source_bucket_arns]
}

run "rejects_a_source_that_is_not_a_bucket_arn" {
  command = plan
  variables {
    source_bucket_arns = ["arn:aws:s3:::acme-recs-data-123456789012/access/*"]
  }
  expect_failures = [var.source_bucket_arns]
}

run "rejects_target_prefix_without_trailing_slash" {
  command = plan
  variables {
    target_prefix = "access"
  }
  expect_failures = [var.target_prefix]
}

run "rejects_fractional_expiration" {
  command = plan
  variables {
    expiration_days = 0.5
  }
  expect_failures = [var.expiration_days]
}
