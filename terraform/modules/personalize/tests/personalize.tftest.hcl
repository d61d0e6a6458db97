mock_provider "aws" {}

variables {
  config_file = "tests/fixtures/base.yaml"
  schema_root = "../../.."
}

run "renders_dataset_group_schemas_datasets_and_event_tracker_from_config" {
  command = plan

  assert {
    condition     = jsondecode(output.template_body).Resources.DatasetGroup.Properties.Name == "acme-recs"
    error_message = "the dataset group is named after the config"
  }
  assert {
    condition     = toset([for k, r in jsondecode(output.template_body).Resources : k if r.Type == "AWS::Personalize::Dataset"]) == toset(["DatasetInteractions", "DatasetItems"])
    error_message = "one dataset per configured dataset type, none for unconfigured ones"
  }
  assert {
    condition     = jsondecode(jsondecode(output.template_body).Resources.SchemaItems.Properties.Schema).name == "Items"
    error_message = "schemas carry the Avro schema files from schemas/"
  }
  assert {
    condition     = jsondecode(output.template_body).Resources.EventTracker.Properties.Name == "acme-recs-web-events"
    error_message = "the event tracker is <name>-<event_tracker.name>"
  }
  assert {
    condition     = contains(keys(jsondecode(output.template_body).Outputs), "TrackingId")
    error_message = "the stack outputs the tracking id"
  }
  assert {
    condition     = aws_cloudformation_stack.this.name == "acme-recs-personalize"
    error_message = "the stack defaults to <name>-personalize"
  }
}

run "renders_solution_recipe_event_type_and_hpo_config" {
  command = plan

  assert {
    condition     = jsondecode(output.template_body).Resources.SolutionUserPersonalization.Properties.RecipeArn == "arn:aws:personalize:::recipe/aws-user-personalization"
    error_message = "recipe ARNs are arn:aws:personalize:::recipe/<recipe>"
  }
  assert {
    condition     = jsondecode(output.template_body).Resources.SolutionUserPersonalization.Properties.EventType == "Purchase"
    error_message = "event_type becomes EventType"
  }
  assert {
    condition     = jsondecode(output.template_body).Resources.SolutionUserPersonalization.Properties.SolutionConfig.HpoConfig.HpoResourceConfig.MaxNumberOfTrainingJobs == "4"
    error_message = "HPO resource limits are rendered as strings"
  }
  assert {
    condition     = jsondecode(output.template_body).Resources.SolutionUserPersonalization.Properties.SolutionConfig.HpoConfig.AlgorithmHyperParameterRanges.IntegerHyperParameterRanges[0].Name == "bptt"
    error_message = "integer ranges are rendered"
  }
  assert {
    condition     = !contains(keys(jsondecode(output.template_body).Resources.SolutionPopularity.Properties), "EventType") && !contains(keys(jsondecode(output.template_body).Resources.SolutionPopularity.Properties), "SolutionConfig")
    error_message = "a null event type and empty hyperparameters are omitted, not rendered as null"
  }
  assert {
    condition     = jsondecode(output.template_body).Resources.SolutionPopularity.UpdateReplacePolicy == "Retain"
    error_message = "a replaced solution is retained for the live campaign"
  }
}

run "solution_and_filter_names_carry_a_config_hash" {
  command = plan

  assert {
    condition     = can(regex("^acme-recs-user-personalization-[0-9a-f]{8}$", output.solution_names["user-personalization"]))
    error_message = "solution names are <name>-<solution>-<8 hex>"
  }
  assert {
    condition     = can(regex("^acme-recs-exclude-purchased-[0-9a-f]{8}$", output.filter_names["exclude-purchased"]))
    error_message = "filter names are <name>-<filter>-<8 hex>"
  }
}

run "changed_hyperparameters_give_the_solution_a_new_name" {
  command = plan

  variables {
    config_file = "tests/fixtures/changed.yaml"
  }

  assert {
    condition     = output.solution_names["user-personalization"] != run.solution_and_filter_names_carry_a_config_hash.solution_names["user-personalization"]
    error_message = "a changed solution must get a new name so it is created beside the old one"
  }
  assert {
    condition     = output.solution_names["popularity"] == run.solution_and_filter_names_carry_a_config_hash.solution_names["popularity"]
    error_message = "an unchanged solution keeps its name"
  }
  assert {
    condition     = output.filter_names["exclude-purchased"] != run.solution_and_filter_names_carry_a_config_hash.filter_names["exclude-purchased"]
    error_message = "a changed filter expression gives a new filter name"
  }
}

run "outputs_map_stack_outputs_to_config_names" {
  command = apply

  override_resource {
    target = aws_cloudformation_stack.this
    values = {
      outputs = {
        DatasetGroupArn                = "arn:aws:personalize:us-east-1:123456789012:dataset-group/acme-recs"
        SolutionUserPersonalizationArn = "arn:aws:personalize:us-east-1:123456789012:solution/acme-recs-user-personalization-x"
        FilterExcludePurchasedArn      = "arn:aws:personalize:us-east-1:123456789012:filter/acme-recs-exclude-purchased-x"
        TrackingId                     = "tracking-id"
      }
    }
  }

  assert {
    condition     = output.solution_arns["user-personalization"] == "arn:aws:personalize:us-east-1:123456789012:solution/acme-recs-user-personalization-x"
    error_message = "solution_arns maps config names to stack outputs"
  }
  assert {
    condition     = output.filter_arns["exclude-purchased"] == "arn:aws:personalize:us-east-1:123456789012:filter/acme-recs-exclude-purchased-x"
    error_message = "filter_arns maps config names to stack outputs"
  }
  assert {
    condition     = output.tracking_id == "tracking-id" && output.dataset_group_arn == "arn:aws:personalize:us-east-1:123456789012:dataset-group/acme-recs"
    error_message = "dataset group ARN and tracking id come from the stack outputs"
  }
}

run "rejects_missing_config_file" {
  command = plan
  variables {
    config_file = "tests/fixtures/does-not-exist.yaml"
  }
  expect_failures = [var.config_file]
}

run "rejects_stack_name_with_underscores" {
  command = plan
  variables {
    stack_name = "acme_recs"
  }
  expect_failures = [var.stack_name]
}

run "leaves_the_metric_attribution_out_without_a_role" {
  command = plan

  variables {
    config_file = "tests/fixtures/metric_attribution.yaml"
  }

  assert {
    condition     = length([for k, r in jsondecode(output.template_body).Resources : k if r.Type == "AWS::Personalize::MetricAttribution"]) == 0
    error_message = "no role to publish with: no metric attribution"
  }
}

run "renders_the_metric_attribution_with_its_metrics_role_and_s3_path" {
  command = plan

  variables {
    config_file                    = "tests/fixtures/metric_attribution.yaml"
    metric_attribution_role_arn    = "arn:aws:iam::123456789012:role/acme-recs-personalize"
    metric_attribution_output_path = "s3://acme-recs-data/metric-attribution/"
  }

  assert {
    condition     = jsondecode(output.template_body).Resources.Attribution.Type == "AWS::Personalize::MetricAttribution"
    error_message = "the config's metric_attribution becomes an AWS::Personalize::MetricAttribution"
  }
  assert {
    condition     = jsondecode(output.template_body).Resources.Attribution.Properties.Metrics[1] == { EventType = "Purchase", Expression = "SUM(Interactions.EVENT_VALUE)", MetricName = "revenue" }
    error_message = "metrics keep their event type, expression and name"
  }
  assert {
    condition     = jsondecode(output.template_body).Resources.Attribution.Properties.MetricsOutputConfig == { RoleArn = "arn:aws:iam::123456789012:role/acme-recs-personalize", S3DataDestination = { Path = "s3://acme-recs-data/metric-attribution/" } }
    error_message = "the output config carries the role and the S3 path"
  }
  assert {
    condition     = contains(keys(jsondecode(output.template_body).Outputs), "MetricAttributionArn")
    error_message = "the stack outputs the metric attribution's ARN"
  }
}

run "refuses_an_output_path_that_is_not_s3" {
  command = plan

  variables {
    metric_attribution_output_path = "https://example.com/metrics"
  }

  expect_failures = [var.metric_attribution_output_path]
}
