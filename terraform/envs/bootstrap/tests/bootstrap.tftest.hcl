mock_provider "aws" {
  mock_data "aws_partition" {
    defaults = {
      partition = "aws"
    }
  }
}

variables {
  stage      = "staging"
  region     = "eu-west-1"
  account_id = "111122223333"
}

run "one_state_bucket_per_stage_and_account" {
  command = plan

  assert {
    condition     = aws_s3_bucket.this.bucket == "braze-personalize-tfstate-staging-111122223333"
    error_message = "the state bucket is named after the stage and account"
  }
}

run "state_is_versioned_encrypted_and_tls_only" {
  command = plan

  assert {
    condition     = one(aws_s3_bucket_versioning.this.versioning_configuration).status == "Enabled"
    error_message = "state versions must be kept to roll back"
  }
  assert {
    condition     = one(one(aws_s3_bucket_server_side_encryption_configuration.this.rule).apply_server_side_encryption_by_default).sse_algorithm == "aws:kms"
    error_message = "the state must be encrypted with our key"
  }
  assert {
    condition     = jsondecode(aws_s3_bucket_policy.this.policy).Statement[1].Condition.NumericLessThan["s3:TlsVersion"] == "1.2"
    error_message = "TLS below 1.2 must be denied"
  }
}

run "state_bucket_is_access_logged_to_its_own_log_bucket" {
  command = plan

  assert {
    condition     = aws_s3_bucket_logging.this.target_prefix == "access/"
    error_message = "the state bucket's access logs go under access/"
  }
  assert {
    condition     = one([for s in jsondecode(module.access_logs.policy_json).Statement : s if s.Effect == "Allow"]).Resource == "arn:aws:s3:::braze-personalize-tfstate-staging-111122223333-logs/access/*"
    error_message = "the log bucket is <state bucket>-logs and admits logs under access/"
  }
  assert {
    condition     = one([for s in jsondecode(module.access_logs.policy_json).Statement : s if s.Effect == "Allow"]).Condition.ArnLike["aws:SourceArn"] == ["arn:aws:s3:::braze-personalize-tfstate-staging-111122223333"]
    error_message = "the log bucket admits the state bucket's logs only"
  }
  assert {
    condition     = one([for s in jsondecode(module.access_logs.policy_json).Statement : s if s.Effect == "Allow"]).Condition.StringEquals["aws:SourceAccount"] == "111122223333"
    error_message = "the log bucket admits logs from the stage's account only"
  }
}

# A plan, not an apply: the state bucket's prevent_destroy would refuse the test's clean-up. The buckets'
# ids are what AWS returns for them (the bucket name), known at plan time here.
run "state_bucket_logs_to_its_log_bucket" {
  command = plan

  override_resource {
    target          = aws_s3_bucket.this
    override_during = plan
    values = {
      id = "braze-personalize-tfstate-staging-111122223333"
    }
  }
  override_resource {
    target          = module.access_logs.aws_s3_bucket.this
    override_during = plan
    values = {
      id = "braze-personalize-tfstate-staging-111122223333-logs"
    }
  }

  assert {
    condition     = aws_s3_bucket_logging.this.bucket == "braze-personalize-tfstate-staging-111122223333"
    error_message = "the logging configuration is the state bucket's"
  }
  assert {
    condition     = aws_s3_bucket_logging.this.target_bucket == "braze-personalize-tfstate-staging-111122223333-logs"
    error_message = "the state bucket logs to its log bucket"
  }
  assert {
    condition     = output.log_bucket_name == "braze-personalize-tfstate-staging-111122223333-logs"
    error_message = "log_bucket_name is the log bucket's"
  }
}

run "backend_config_keys_the_state_by_stage" {
  command = plan

  assert {
    condition     = output.state_key == "braze-personalize/staging.tfstate"
    error_message = "each stage keeps its own state object"
  }
}

run "rejects_an_unknown_stage" {
  command = plan
  variables {
    stage = "qa"
  }
  expect_failures = [var.stage]
}
