mock_provider "aws" {}

run "builds_the_platform_from_the_repository_config" {
  command = plan

  assert {
    condition     = output.endpoint_url == "http://127.0.0.1:4566"
    error_message = "the local env targets the local stack by default"
  }
  assert {
    condition     = length(output.platform.campaign_arns) > 0 && alltrue([for name, arn in output.platform.campaign_arns : startswith(arn, "arn:aws:personalize:us-east-1:123456789012:campaign/") && endswith(arn, "-${name}")])
    error_message = "campaign ARNs use the local stack's account and the config name"
  }
}

run "rejects_endpoint_with_a_path" {
  command = plan
  variables {
    endpoint = "http://127.0.0.1:4566/s3"
  }
  expect_failures = [var.endpoint]
}

run "no_stage_overrides_on_the_local_stack" {
  command = plan

  assert {
    condition     = output.platform.api_limits.reserved_concurrency == 20
    error_message = "the local stack runs on the config's base settings"
  }
  assert {
    condition     = length(output.platform.alarm_names) > 0
    error_message = "the monitoring module is applied on the local stack too"
  }
}
