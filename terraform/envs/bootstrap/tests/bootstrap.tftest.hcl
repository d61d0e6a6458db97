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

run "state_bucket_events_go_to_eventbridge" {
  command = plan

  assert {
    condition     = aws_s3_bucket_notification.this.eventbridge == true
    error_message = "the state bucket must send its events to EventBridge"
  }
  assert {
    condition     = length(concat(aws_s3_bucket_notification.this.lambda_function, aws_s3_bucket_notification.this.queue, aws_s3_bucket_notification.this.topic)) == 0
    error_message = "no direct target owns the state bucket's one notification configuration"
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
