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
  config_file = "../personalize/tests/fixtures/base.yaml"
  schema_root = "../../.."
  account_id  = "123456789012"
  region      = "eu-west-1"
  # Runs that apply are destroyed when the test ends: the disposable bucket and key, emptied by Terraform.
  prevent_destroy    = false
  force_destroy      = true
  force_destroy_logs = true
}

run "names_come_from_the_project_config" {
  command = plan

  assert {
    condition     = module.storage.bucket_name == "acme-recs-data-123456789012"
    error_message = "the data bucket is <name>-data-<account>"
  }
  assert {
    condition     = aws_ssm_parameter.api_keys.name == "/acme-recs/api-keys"
    error_message = "the API-key parameter defaults to /<name>/api-keys"
  }
}

run "bucket_prefix_is_prepended_to_bucket_names" {
  command = plan
  variables {
    bucket_prefix = "acme-"
  }
  assert {
    condition     = module.storage.bucket_name == "acme-acme-recs-data-123456789012"
    error_message = "bucket_prefix must prefix the bucket name"
  }
}

run "api_keys_are_a_secure_string_under_our_key_never_in_terraform" {
  command = apply

  assert {
    condition     = aws_ssm_parameter.api_keys.type == "SecureString" && aws_ssm_parameter.api_keys.key_id == module.storage.kms_key_arn
    error_message = "API keys are a SecureString encrypted with the customer-managed key"
  }
  assert {
    condition     = nonsensitive(aws_ssm_parameter.api_keys.value) == "UNSET"
    error_message = "Terraform only writes a placeholder; real keys are put outside Terraform"
  }
}

run "campaign_arns_follow_the_campaign_naming_rule" {
  command = plan

  assert {
    condition     = output.campaign_arns["user-personalization"] == "arn:aws:personalize:eu-west-1:123456789012:campaign/acme-recs-user-personalization"
    error_message = "campaign ARNs are derived from <name>-<campaign name>"
  }
}

run "rejects_account_id_with_dashes" {
  command = plan
  variables {
    account_id = "1234-5678-9012"
  }
  expect_failures = [var.account_id]
}

run "rejects_bucket_prefix_without_trailing_hyphen" {
  command = plan
  variables {
    bucket_prefix = "acme"
  }
  expect_failures = [var.bucket_prefix]
}
