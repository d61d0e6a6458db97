mock_provider "aws" {}

variables {
  name       = "/aws/lambda/acme-recs-currents-bridge"
  account_id = "123456789012"
  region     = "eu-west-1"
}

run "the_log_group_is_encrypted_with_its_own_rotating_key" {
  command = apply

  assert {
    condition     = aws_cloudwatch_log_group.this.kms_key_id == aws_kms_key.this.arn && aws_kms_key.this.enable_key_rotation
    error_message = "the log group is encrypted with the module's rotating key"
  }
  assert {
    condition     = aws_cloudwatch_log_group.this.retention_in_days == 365
    error_message = "logs are kept a year by default"
  }
}

run "cloudwatch_logs_may_use_the_key_for_this_log_group_only" {
  command = plan

  assert {
    condition     = jsondecode(output.key_policy_json).Statement[1].Principal.Service == "logs.eu-west-1.amazonaws.com"
    error_message = "the regional CloudWatch Logs principal uses the key"
  }
  assert {
    condition     = jsondecode(output.key_policy_json).Statement[1].Condition.ArnEquals["kms:EncryptionContext:aws:logs:arn"] == "arn:aws:logs:eu-west-1:123456789012:log-group:/aws/lambda/acme-recs-currents-bridge"
    error_message = "only for this log group (encryption context)"
  }
  assert {
    condition     = jsondecode(output.key_policy_json).Statement[0].Principal.AWS == "arn:aws:iam::123456789012:root"
    error_message = "the account administers the key"
  }
}

run "rejects_a_retention_cloudwatch_does_not_offer" {
  command = plan
  variables {
    retention_in_days = 10
  }
  expect_failures = [var.retention_in_days]
}

run "rejects_a_deletion_window_kms_does_not_offer" {
  command = plan
  variables {
    kms_deletion_window_days = 5
  }
  expect_failures = [var.kms_deletion_window_days]
}
