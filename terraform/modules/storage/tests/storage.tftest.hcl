mock_provider "aws" {}

variables {
  bucket_name = "acme-recs-data-123456789012"
  account_id  = "123456789012"
}

run "data_bucket_is_encrypted_with_a_rotating_customer_key" {
  command = apply

  assert {
    condition     = aws_kms_key.this.enable_key_rotation
    error_message = "the data key must rotate"
  }
  assert {
    condition     = one(one(aws_s3_bucket_server_side_encryption_configuration.this.rule).apply_server_side_encryption_by_default).sse_algorithm == "aws:kms"
    error_message = "the data bucket must use SSE-KMS"
  }
  assert {
    condition     = one(one(aws_s3_bucket_server_side_encryption_configuration.this.rule).apply_server_side_encryption_by_default).kms_master_key_id == aws_kms_key.this.arn
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
    condition     = aws_s3_bucket.logs.bucket == "acme-recs-data-123456789012-logs"
    error_message = "the log bucket is named after the data bucket"
  }
  assert {
    condition     = aws_s3_bucket_logging.this.target_prefix == "access/"
    error_message = "access logs go under access/ in the log bucket"
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
    condition     = one([for r in aws_s3_bucket_lifecycle_configuration.this.rule : one(r.expiration).days if r.id == "expire-batch-output"]) == 14
    error_message = "batch output must expire after batch_output_expiration_days"
  }
  assert {
    condition     = one([for r in aws_s3_bucket_lifecycle_configuration.this.rule : one(r.noncurrent_version_expiration).noncurrent_days if r.id == "expire-old-imports"]) == 60
    error_message = "superseded imports must expire after import_noncurrent_expiration_days"
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
