mock_provider "aws" {}

variables {
  name                  = "acme-recs"
  account_id            = "123456789012"
  region                = "eu-west-1"
  bucket_arn            = "arn:aws:s3:::acme-recs-data-123456789012"
  kms_key_arn           = "arn:aws:kms:eu-west-1:123456789012:key/11111111-2222-3333-4444-555555555555"
  import_prefix         = "imports/"
  batch_input_prefix    = "batch/input/"
  batch_output_prefix   = "batch/output/"
  artifacts_prefix      = "artifacts/"
  campaign_arns         = ["arn:aws:personalize:eu-west-1:123456789012:campaign/acme-recs-user-personalization"]
  filter_arns           = ["arn:aws:personalize:eu-west-1:123456789012:filter/acme-recs-exclude-purchased-0123abcd"]
  api_key_parameter_arn = "arn:aws:ssm:eu-west-1:123456789012:parameter/acme-recs/api-keys"
  api_function_prefix   = "acme-recs-api"
}

run "roles_are_named_after_the_project" {
  command = plan

  assert {
    condition     = aws_iam_role.personalize.name == "acme-recs-personalize" && aws_iam_role.api[0].name == "acme-recs-api"
    error_message = "roles must be <name>-personalize and <name>-api"
  }
}

run "personalize_trust_is_limited_to_our_account_and_region" {
  command = plan

  assert {
    condition     = jsondecode(aws_iam_role.personalize.assume_role_policy).Statement[0].Principal.Service == "personalize.amazonaws.com"
    error_message = "only Personalize may assume the service role"
  }
  assert {
    condition     = jsondecode(aws_iam_role.personalize.assume_role_policy).Statement[0].Condition.StringEquals["aws:SourceAccount"] == "123456789012"
    error_message = "trust must require aws:SourceAccount"
  }
  assert {
    condition     = jsondecode(aws_iam_role.personalize.assume_role_policy).Statement[0].Condition.ArnLike["aws:SourceArn"] == "arn:aws:personalize:eu-west-1:123456789012:*"
    error_message = "trust must require aws:SourceArn in our account and region"
  }
}

run "personalize_role_reads_imports_and_writes_only_batch_output" {
  command = plan

  assert {
    condition     = [for s in jsondecode(output.personalize_policy_json).Statement : s.Resource if s.Sid == "WriteBatchOutput"][0] == "arn:aws:s3:::acme-recs-data-123456789012/batch/output/*"
    error_message = "the service role may write only the batch-output prefix"
  }
  assert {
    condition     = contains([for s in jsondecode(output.personalize_policy_json).Statement : s.Resource if s.Sid == "ReadImportsAndBatchInput"][0], "arn:aws:s3:::acme-recs-data-123456789012/imports/*")
    error_message = "the service role must read the import prefix"
  }
  assert {
    condition     = [for s in jsondecode(output.personalize_policy_json).Statement : s.Resource if s.Sid == "UseDataKeyThroughS3"][0] == var.kms_key_arn
    error_message = "the service role may use only our key"
  }
}

run "key_use_goes_through_s3_or_ssm_only" {
  command = plan

  assert {
    condition     = one([for s in jsondecode(output.personalize_policy_json).Statement : s if s.Sid == "UseDataKeyThroughS3"]).Condition.StringEquals["kms:ViaService"] == "s3.eu-west-1.amazonaws.com"
    error_message = "Personalize's role may decrypt only through S3 (kms:ViaService)"
  }
  assert {
    condition     = toset(one([for s in jsondecode(output.api_policy_json).Statement : s if s.Sid == "DecryptArtifactsAndApiKeys"]).Condition.StringEquals["kms:ViaService"]) == toset(["s3.eu-west-1.amazonaws.com", "ssm.eu-west-1.amazonaws.com"])
    error_message = "the API may decrypt only through S3 (artifacts) and SSM (API keys)"
  }
  assert {
    condition = alltrue([
      for doc in [output.personalize_policy_json, output.api_policy_json] : alltrue([
        for s in jsondecode(doc).Statement : can(s.Condition.StringEquals["kms:ViaService"]) if contains(flatten([s.Action]), "kms:Decrypt")
      ])
    ])
    error_message = "every kms:Decrypt grant carries kms:ViaService"
  }
}

run "api_role_calls_only_recommendation_apis_on_our_arns" {
  command = plan

  assert {
    condition     = toset([for s in jsondecode(output.api_policy_json).Statement : s.Action if s.Sid == "RecommendFromOurCampaigns"][0]) == toset(["personalize:GetRecommendations", "personalize:GetPersonalizedRanking"])
    error_message = "the API may only call GetRecommendations and GetPersonalizedRanking"
  }
  assert {
    condition     = toset([for s in jsondecode(output.api_policy_json).Statement : s.Resource if s.Sid == "RecommendFromOurCampaigns"][0]) == toset(concat(var.campaign_arns, var.filter_arns))
    error_message = "recommendation calls must be limited to our campaign and filter ARNs"
  }
  assert {
    condition     = [for s in jsondecode(output.api_policy_json).Statement : s.Resource if s.Sid == "ReadApiKeys"][0] == var.api_key_parameter_arn
    error_message = "the API reads only its key parameter"
  }
}

run "no_statement_allows_every_action_on_every_resource" {
  command = plan

  assert {
    condition = alltrue([
      for s in concat(jsondecode(output.api_policy_json).Statement, jsondecode(output.personalize_policy_json).Statement) :
      !(contains(flatten([s.Action]), "*") && contains(flatten([s.Resource]), "*"))
    ])
    error_message = "no policy may grant * on *"
  }
  assert {
    condition = alltrue([
      for s in concat(jsondecode(output.api_policy_json).Statement, jsondecode(output.personalize_policy_json).Statement) :
      !contains(flatten([s.Resource]), "*")
    ])
    error_message = "no statement may use a bare * resource"
  }
}

run "api_role_is_optional" {
  command = plan

  variables {
    create_api_role = false
  }

  assert {
    condition     = length(aws_iam_role.api) == 0 && length(aws_iam_role_policy.api) == 0
    error_message = "create_api_role = false must not create the API role"
  }
  assert {
    condition     = output.api_role_arn == null
    error_message = "api_role_arn is null without the role"
  }
}

run "without_campaigns_the_api_gets_no_personalize_permission" {
  command = plan

  variables {
    campaign_arns = []
  }

  assert {
    condition     = length([for s in jsondecode(output.api_policy_json).Statement : s if s.Sid == "RecommendFromOurCampaigns"]) == 0
    error_message = "no campaign, no recommendation permission"
  }
}

run "rejects_role_name_prefix_with_spaces" {
  command = plan
  variables {
    name = "acme recs"
  }
  expect_failures = [var.name]
}

run "rejects_non_numeric_account_id" {
  command = plan
  variables {
    account_id = "12345678901x"
  }
  expect_failures = [var.account_id]
}

run "rejects_bucket_arn_with_object_path" {
  command = plan
  variables {
    bucket_arn = "arn:aws:s3:::acme-recs-data-123456789012/*"
  }
  expect_failures = [var.bucket_arn]
}

run "rejects_wildcard_campaign_arn" {
  command = plan
  variables {
    campaign_arns = ["arn:aws:personalize:eu-west-1:123456789012:campaign/*"]
  }
  expect_failures = [var.campaign_arns]
}

run "rejects_wildcard_filter_arn" {
  command = plan
  variables {
    filter_arns = ["*"]
  }
  expect_failures = [var.filter_arns]
}

run "personalize_may_publish_a_metric_attribution_only_when_one_is_configured" {
  command = plan

  assert {
    condition     = length([for s in jsondecode(output.personalize_policy_json).Statement : s if s.Sid == "PublishMetricAttribution"]) == 0
    error_message = "no metric attribution: no CloudWatch grant"
  }
}

run "personalize_publishes_metric_attribution_reports_under_their_prefix_only" {
  command = plan

  variables {
    metric_attribution_prefix = "metric-attribution/"
  }

  assert {
    condition     = one([for s in jsondecode(output.personalize_policy_json).Statement : s.Resource if s.Sid == "WriteMetricAttributionReports"]) == "arn:aws:s3:::acme-recs-data-123456789012/metric-attribution/*"
    error_message = "reports are written under the configured prefix only"
  }
  assert {
    condition     = one([for s in jsondecode(output.personalize_policy_json).Statement : s.Action if s.Sid == "PublishMetricAttribution"]) == "cloudwatch:PutMetricData"
    error_message = "the metric attribution publishes to CloudWatch"
  }
}
