mock_provider "aws" {
  mock_data "aws_partition" {
    defaults = {
      partition = "aws"
    }
  }
  mock_data "aws_vpc_endpoint_service" {
    defaults = {
      service_name                  = "com.amazonaws.eu-west-1.mock"
      availability_zones            = ["eu-west-1a", "eu-west-1b", "eu-west-1c"]
      vpc_endpoint_policy_supported = true
    }
  }
}

variables {
  stage                = "staging"
  region               = "eu-west-1"
  state_replica_region = "eu-central-1"
  account_id           = "111122223333"
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

run "the_stage_selects_the_configs_overrides" {
  command = plan

  assert {
    condition     = output.platform.api_limits.reserved_concurrency == 5 && output.platform.api_limits.throttle_rate_limit == 10
    error_message = "staging takes its API limits from overrides.staging"
  }
}

run "production_differs_from_staging" {
  command = plan
  variables {
    stage = "production"
  }

  assert {
    condition     = output.platform.api_limits.reserved_concurrency == 100 && output.platform.campaign_min_provisioned_tps["user-personalization"] == 5
    error_message = "production takes its API limits and campaign TPS from overrides.production"
  }
}

run "rejects_an_unknown_stage" {
  command = plan
  variables {
    stage = "qa"
  }
  expect_failures = [var.stage]
}

run "the_currents_bridge_runs_in_the_private_network" {
  command = plan

  assert {
    condition     = length(module.private_network.subnet_ids) == 2 && module.private_network.flow_log_group_name == "/aws/vpc-flow-logs/braze-recs-private"
    error_message = "the bridge's private network spans two zones and logs its flows"
  }
}
