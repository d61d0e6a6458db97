mock_provider "aws" {}

# Runs that apply must be destroyable at the end of the test: protection off, buckets emptied by
# Terraform (so the destroy guard has nothing to check). The protected defaults have their own plan runs.
variables {
  bucket_name        = "acme-recs-data-123456789012"
  account_id         = "123456789012"
  region             = "eu-west-1"
  prevent_destroy    = false
  force_destroy      = true
  force_destroy_logs = true
}

run "data_bucket_is_encrypted_with_a_rotating_customer_key" {
  command = apply

  assert {
    condition     = aws_kms_key.disposable[0].enable_key_rotation
    error_message = "the data key must rotate"
  }
  assert {
    condition     = one(one(aws_s3_bucket_server_side_encryption_configuration.this.rule).apply_server_side_encryption_by_default).sse_algorithm == "aws:kms"
    error_message = "the data bucket must use SSE-KMS"
  }
  assert {
    condition     = one(one(aws_s3_bucket_server_side_encryption_configuration.this.rule).apply_server_side_encryption_by_default).kms_master_key_id == aws_kms_key.disposable[0].arn
    error_message = "SSE-KMS must use our customer-managed key"
  }
}

run "buckets_are_versioned_private_and_logged" {
  command = plan

  assert {
    condition     = one(aws_s3_bucket_versioning.this.versioning_configuration).status == "Enabled"
    error_message = "the data bucket must be versioned"
  }
  assert {
    condition = alltrue([
      aws_s3_bucket_public_access_block.this.block_public_acls,
      aws_s3_bucket_public_access_block.this.block_public_policy,
      aws_s3_bucket_public_access_block.this.ignore_public_acls,
      aws_s3_bucket_public_access_block.this.restrict_public_buckets,
    ])
    error_message = "all public access must be blocked"
  }
  assert {
    condition     = aws_s3_bucket_logging.this.target_prefix == "access/"
    error_message = "access logs go under access/ in the log bucket"
  }
}

# The log bucket itself is modules/access_logs (tested there); storage owns what it asks of it.
run "log_bucket_is_named_after_the_data_bucket_and_admits_only_its_logs" {
  command = plan

  assert {
    condition     = one([for s in jsondecode(module.access_logs.policy_json).Statement : s if s.Effect == "Allow"]).Resource == "arn:aws:s3:::acme-recs-data-123456789012-logs/access/*"
    error_message = "the log bucket is <data bucket>-logs and admits logs under access/, where the data bucket writes them"
  }
  assert {
    condition     = one([for s in jsondecode(module.access_logs.policy_json).Statement : s if s.Effect == "Allow"]).Condition.ArnLike["aws:SourceArn"] == ["arn:aws:s3:::acme-recs-data-123456789012"]
    error_message = "the log bucket admits the data bucket's logs only"
  }
  assert {
    condition     = one([for s in jsondecode(module.access_logs.policy_json).Statement : s if s.Effect == "Allow"]).Condition.StringEquals["aws:SourceAccount"] == "123456789012"
    error_message = "the log bucket admits logs from our account only"
  }
}

run "data_bucket_logs_to_the_log_bucket" {
  command = apply

  assert {
    condition     = aws_s3_bucket_logging.this.target_bucket == module.access_logs.target_bucket && aws_s3_bucket_logging.this.target_bucket == module.access_logs.id
    error_message = "the data bucket's access logs go to the log bucket, set after its grant"
  }
  assert {
    condition     = output.log_bucket_name == module.access_logs.id
    error_message = "log_bucket_name is the log bucket's"
  }
}

run "bucket_policy_is_tls_only_and_scopes_personalize_to_our_account" {
  command = plan

  assert {
    condition     = jsondecode(output.bucket_policy_json).Statement[0].Effect == "Deny" && jsondecode(output.bucket_policy_json).Statement[0].Condition.Bool["aws:SecureTransport"] == "false"
    error_message = "the first statement must deny non-TLS requests"
  }
  assert {
    condition = alltrue([
      for s in jsondecode(output.bucket_policy_json).Statement :
      s.Condition.StringEquals["aws:SourceAccount"] == "123456789012" if s.Effect == "Allow"
    ])
    error_message = "every Personalize grant must be scoped with aws:SourceAccount"
  }
  assert {
    condition = alltrue([
      for s in jsondecode(output.bucket_policy_json).Statement :
      s.Condition.ArnLike["aws:SourceArn"] == "arn:aws:personalize:eu-west-1:123456789012:*" if s.Effect == "Allow"
    ])
    error_message = "every Personalize grant must be scoped with aws:SourceArn to our Personalize resources"
  }
  assert {
    condition     = [for s in jsondecode(output.bucket_policy_json).Statement : s.Resource if s.Sid == "PersonalizeWritesBatchOutput"][0] == "arn:aws:s3:::acme-recs-data-123456789012/batch/output/*"
    error_message = "Personalize may write only the batch-output prefix"
  }
  assert {
    condition     = contains([for s in jsondecode(output.bucket_policy_json).Statement : s.Resource if s.Sid == "PersonalizeReadsImportsAndBatchInput"][0], "arn:aws:s3:::acme-recs-data-123456789012/imports/*")
    error_message = "Personalize must read the import prefix"
  }
}

run "lifecycle_expires_batch_output_and_old_imports" {
  command = plan

  variables {
    batch_output_expiration_days      = 14
    import_noncurrent_expiration_days = 60
  }

  assert {
    condition     = one([for r in aws_s3_bucket.disposable[0].lifecycle_rule : one(r.expiration).days if r.id == "expire-batch-output"]) == 14
    error_message = "batch output must expire after batch_output_expiration_days"
  }
  assert {
    condition     = one([for r in aws_s3_bucket.disposable[0].lifecycle_rule : one(r.noncurrent_version_expiration).days if r.id == "expire-old-imports"]) == 60
    error_message = "superseded imports must expire after import_noncurrent_expiration_days"
  }
  assert {
    condition     = one([for r in aws_s3_bucket.disposable[0].lifecycle_rule : r.abort_incomplete_multipart_upload_days if r.id == "abort-incomplete-uploads"]) == 1
    error_message = "incomplete multipart uploads must be aborted after a day"
  }
}

run "bucket_policy_denies_tls_below_1_2" {
  command = plan

  assert {
    condition = one([
      for s in jsondecode(output.bucket_policy_json).Statement :
      s if s.Sid == "DenyTlsBelow12"
    ]).Condition.NumericLessThan["s3:TlsVersion"] == "1.2"
    error_message = "requests with TLS below 1.2 must be denied"
  }
  assert {
    condition = one([
      for s in jsondecode(output.bucket_policy_json).Statement :
      s if s.Sid == "DenyTlsBelow12"
    ]).Effect == "Deny"
    error_message = "the TLS-version statement must deny"
  }
}

run "bucket_policy_denies_uploads_that_are_not_sse_kms_under_our_key" {
  command = apply

  assert {
    condition = one([
      for s in jsondecode(output.bucket_policy_json).Statement : s if s.Sid == "DenyUploadsWithoutSseKms"
    ]).Condition.StringNotEqualsIfExists["s3:x-amz-server-side-encryption"] == "aws:kms"
    error_message = "uploads asking for an encryption other than SSE-KMS must be denied"
  }
  assert {
    condition = one([
      for s in jsondecode(output.bucket_policy_json).Statement : s if s.Sid == "DenyUploadsUnderAnotherKey"
    ]).Condition.StringNotEqualsIfExists["s3:x-amz-server-side-encryption-aws-kms-key-id"] == aws_kms_key.disposable[0].arn
    error_message = "uploads naming another KMS key must be denied"
  }
}

run "key_policy_scopes_personalize_to_our_account_and_resources" {
  command = plan

  assert {
    condition     = one([for s in jsondecode(aws_kms_key.disposable[0].policy).Statement : s if s.Sid == "PersonalizeUsesKeyForOurAccount"]).Condition.ArnLike["aws:SourceArn"] == "arn:aws:personalize:eu-west-1:123456789012:*"
    error_message = "Personalize may use the key only from our Personalize resources (aws:SourceArn)"
  }
  assert {
    condition     = one([for s in jsondecode(aws_kms_key.disposable[0].policy).Statement : s if s.Sid == "PersonalizeUsesKeyForOurAccount"]).Condition.StringEquals["aws:SourceAccount"] == "123456789012"
    error_message = "Personalize may use the key only for our account (aws:SourceAccount)"
  }
}

run "data_bucket_and_key_are_protected_by_default" {
  command = plan

  variables {
    prevent_destroy = true
  }

  assert {
    condition     = length(aws_s3_bucket.protected) == 1 && length(aws_s3_bucket.disposable) == 0
    error_message = "the data bucket must be the prevent_destroy one by default"
  }
  assert {
    condition     = length(aws_kms_key.protected) == 1 && length(aws_kms_key.disposable) == 0
    error_message = "the data key must be the prevent_destroy one by default"
  }
}

run "disposable_bucket_and_key_when_protection_is_off" {
  command = plan

  variables {
    prevent_destroy = false
  }

  assert {
    condition     = length(aws_s3_bucket.protected) == 0 && length(aws_s3_bucket.disposable) == 1
    error_message = "prevent_destroy = false must select the disposable bucket"
  }
  assert {
    condition     = length(aws_kms_key.protected) == 0 && length(aws_kms_key.disposable) == 1
    error_message = "prevent_destroy = false must select the disposable key"
  }
  assert {
    condition     = one([for r in aws_s3_bucket.disposable[0].lifecycle_rule : one(r.expiration).days if r.id == "expire-batch-output"]) == 30
    error_message = "the disposable bucket carries the same lifecycle rules"
  }
}

run "data_bucket_events_go_to_eventbridge_for_every_consumer" {
  command = apply

  assert {
    condition     = aws_s3_bucket_notification.this.eventbridge == true
    error_message = "the data bucket must send its events to EventBridge"
  }
  assert {
    condition     = aws_s3_bucket_notification.this.bucket == aws_s3_bucket.disposable[0].id
    error_message = "the notification configuration belongs to the data bucket"
  }
  assert {
    condition     = length(concat(aws_s3_bucket_notification.this.lambda_function, aws_s3_bucket_notification.this.queue, aws_s3_bucket_notification.this.topic)) == 0
    error_message = "no direct target owns the bucket's one notification configuration: consumers add EventBridge rules"
  }
}

run "the_protected_data_bucket_sends_its_events_to_eventbridge_too" {
  command = plan

  variables {
    prevent_destroy = true
  }

  assert {
    condition     = aws_s3_bucket_notification.this.eventbridge == true
    error_message = "the protected data bucket must send its events to EventBridge"
  }
}

run "destroy_guard_checks_the_data_bucket_unless_terraform_may_empty_it" {
  command = plan

  variables {
    force_destroy = false
  }

  assert {
    condition     = terraform_data.destroy_guard.input.buckets == ["acme-recs-data-123456789012"]
    error_message = "the destroy guard must check the data bucket"
  }
  assert {
    condition     = terraform_data.destroy_guard.input.force_destroy == false
    error_message = "the guard must know that Terraform may not empty the buckets"
  }
}

run "rejects_invalid_bucket_name" {
  command = plan
  variables {
    bucket_name = "Not_A_Bucket"
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

run "rejects_import_prefix_without_trailing_slash" {
  command = plan
  variables {
    import_prefix = "imports"
  }
  expect_failures = [var.import_prefix]
}

run "rejects_batch_input_prefix_starting_with_slash" {
  command = plan
  variables {
    batch_input_prefix = "/batch/input/"
  }
  expect_failures = [var.batch_input_prefix]
}

run "rejects_batch_output_prefix_without_trailing_slash" {
  command = plan
  variables {
    batch_output_prefix = "batch/output"
  }
  expect_failures = [var.batch_output_prefix]
}

run "rejects_zero_day_batch_output_expiration" {
  command = plan
  variables {
    batch_output_expiration_days = 0
  }
  expect_failures = [var.batch_output_expiration_days]
}

run "rejects_fractional_import_expiration" {
  command = plan
  variables {
    import_noncurrent_expiration_days = 1.5
  }
  expect_failures = [var.import_noncurrent_expiration_days]
}

run "rejects_kms_deletion_window_outside_kms_limits" {
  command = plan
  variables {
    kms_deletion_window_days = 3
  }
  expect_failures = [var.kms_deletion_window_days]
}
