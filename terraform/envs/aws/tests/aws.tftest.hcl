mock_provider "aws" {
  mock_data "aws_partition" {
    defaults = {
      partition = "aws"
    }
  }
}

variables {
  region     = "eu-west-1"
  account_id = "111122223333"
}

run "deploys_to_the_given_account_and_region" {
  command = plan

  assert {
    condition     = length(output.platform.campaign_arns) > 0 && alltrue([for name, arn in output.platform.campaign_arns : startswith(arn, "arn:aws:personalize:eu-west-1:111122223333:campaign/") && endswith(arn, "-${name}")])
    error_message = "campaign ARNs use the configured account and region"
  }
  assert {
    condition     = output.endpoint_url == null
    error_message = "no endpoint override in AWS"
  }
}

run "rejects_region_without_personalize" {
  command = plan
  variables {
    region = "af-south-1"
  }
  expect_failures = [var.region]
}
