mock_provider "aws" {
  mock_data "aws_partition" {
    defaults = {
      partition = "aws"
    }
  }
  # Known at plan time, so plan-only runs (the buckets and keys refuse to be destroyed) can read outputs.
  mock_resource "aws_kms_key" {
    override_during = plan
    defaults = {
      arn = "arn:aws:kms:eu-west-1:111122223333:key/0000aaaa-0000-0000-0000-000000000001"
    }
  }
}

mock_provider "aws" {
  alias = "replica"
  mock_data "aws_partition" {
    defaults = {
      partition = "aws"
    }
  }
  mock_resource "aws_kms_key" {
    override_during = plan
    defaults = {
      arn = "arn:aws:kms:eu-central-1:111122223333:key/0000bbbb-0000-0000-0000-000000000002"
    }
  }
}

variables {
  stage                = "staging"
  region               = "eu-west-1"
  state_replica_region = "eu-central-1"
  account_id           = "111122223333"
}

run "one_state_bucket_pair_per_stage_and_account" {
  command = plan

  assert {
    condition     = output.bucket_name == "braze-personalize-tfstate-staging-111122223333"
    error_message = "the state bucket is named after the stage and account"
  }
  assert {
    condition     = output.replica_bucket_name == "braze-personalize-tfstate-staging-111122223333-dr"
    error_message = "the replica is named after the state bucket"
  }
}

run "each_state_bucket_is_access_logged_in_its_own_region" {
  command = plan

  assert {
    condition     = one([for s in jsondecode(module.access_logs.policy_json).Statement : s if s.Effect == "Allow"]).Condition.ArnLike["aws:SourceArn"] == ["arn:aws:s3:::braze-personalize-tfstate-staging-111122223333"]
    error_message = "the stage region's log bucket admits the state bucket's logs only"
  }
  assert {
    condition     = one([for s in jsondecode(module.replica_access_logs.policy_json).Statement : s if s.Effect == "Allow"]).Condition.ArnLike["aws:SourceArn"] == ["arn:aws:s3:::braze-personalize-tfstate-staging-111122223333-dr"]
    error_message = "the replica region's log bucket admits the replica's logs only"
  }
  assert {
    condition = alltrue([
      one([for s in jsondecode(module.access_logs.policy_json).Statement : s if s.Effect == "Allow"]).Resource == "arn:aws:s3:::braze-personalize-tfstate-staging-111122223333-logs/access/*",
      one([for s in jsondecode(module.replica_access_logs.policy_json).Statement : s if s.Effect == "Allow"]).Resource == "arn:aws:s3:::braze-personalize-tfstate-staging-111122223333-dr-logs/access/*",
    ])
    error_message = "each state bucket logs to <bucket>-logs"
  }
}

run "backend_config_keys_the_state_by_stage" {
  command = plan

  assert {
    condition     = output.state_key == "braze-personalize/staging.tfstate"
    error_message = "each stage keeps its own state object"
  }
  assert {
    condition     = strcontains(output.backend_config, "region       = \"eu-west-1\"")
    error_message = "the backend reads the stage's region"
  }
}

run "the_failover_backend_reads_the_same_state_from_the_replica_region" {
  command = plan

  assert {
    condition = alltrue([
      strcontains(output.failover_backend_config, "bucket       = \"braze-personalize-tfstate-staging-111122223333-dr\""),
      strcontains(output.failover_backend_config, "key          = \"braze-personalize/staging.tfstate\""),
      strcontains(output.failover_backend_config, "region       = \"eu-central-1\""),
      strcontains(output.failover_backend_config, "kms_key_id   = \"arn:aws:kms:eu-central-1:"),
    ])
    error_message = "failover uses the replica bucket, its region and its key, for the same state key"
  }
}

run "rejects_a_replica_in_the_stages_own_region" {
  command = plan
  variables {
    state_replica_region = "eu-west-1"
  }
  expect_failures = [var.state_replica_region]
}

run "rejects_an_unknown_stage" {
  command = plan
  variables {
    stage = "qa"
  }
  expect_failures = [var.stage]
}
