# Personalize through CloudFormation: the hashicorp/aws provider has no Personalize resources, so this
# module renders a CloudFormation template (jsonencode) from the project config and the Avro schema
# files and manages it as one aws_cloudformation_stack. Terraform owns the static resources (dataset
# group, schemas, datasets, solutions, filters, event tracker); the pipeline scripts own the ML
# lifecycle (imports, solution versions, campaigns, batch jobs).

locals {
  config = yamldecode(file(var.config_file))
  name   = local.config.name

  # CloudFormation logical ids must be alphanumeric: "user-personalization" -> "UserPersonalization".
  dataset_type_names = { interactions = "Interactions", users = "Users", items = "Items" }
  datasets = {
    for type, rel in local.config.datasets : type => {
      logical = local.dataset_type_names[type]
      schema  = jsonencode(jsondecode(file("${var.schema_root}/${rel}")))
    }
  }

  # Every solution property CloudFormation cannot update in place (all of them) goes into the hash, so
  # a changed solution gets a new name and is created beside the old one; the old one is retained
  # (UpdateReplacePolicy) because a live campaign may still use it. See README "Changing a solution".
  solutions = {
    for s in local.config.solutions : s.name => {
      logical = replace(title(replace(s.name, "/[-_]+/", " ")), " ", "")
      # merge(concat(...)...) adds optional keys without null values (CloudFormation rejects nulls).
      properties = merge(concat(
        [{
          RecipeArn  = "arn:aws:personalize:::recipe/${s.recipe}"
          PerformHPO = try(s.perform_hpo, false)
        }],
        [for e in [try(s.event_type, null)] : { EventType = e } if e != null],
        [for c in [local.solution_configs[s.name]] : { SolutionConfig = c } if length(keys(c)) > 0],
      )...)
    }
  }

  solution_configs = {
    for s in local.config.solutions : s.name => merge(concat(
      [{}],
      [for h in [try(s.hyperparameters, {})] : { AlgorithmHyperParameters = h } if length(keys(h)) > 0],
      [for t in [try(s.event_value_threshold, null)] : { EventValueThreshold = t } if t != null],
      [for h in [try(s.hpo, null)] : {
        HpoConfig = merge(concat(
          [{
            HpoObjective = {
              Type       = try(h.objective_type, "Maximize")
              MetricName = try(h.objective_metric, "precision_at_25")
            }
            HpoResourceConfig = {
              MaxNumberOfTrainingJobs = tostring(try(h.max_number_of_training_jobs, 8))
              MaxParallelTrainingJobs = tostring(try(h.max_parallel_training_jobs, 2))
            }
          }],
          [for r in [{
            IntegerHyperParameterRanges     = [for x in try(h.integer_ranges, []) : { Name = x.name, MinValue = x.min, MaxValue = x.max }]
            ContinuousHyperParameterRanges  = [for x in try(h.continuous_ranges, []) : { Name = x.name, MinValue = x.min, MaxValue = x.max }]
            CategoricalHyperParameterRanges = [for x in try(h.categorical_ranges, []) : { Name = x.name, Values = x.values }]
          }] : { AlgorithmHyperParameterRanges = { for k, v in r : k => v if length(v) > 0 } } if length(flatten(values(r))) > 0],
        )...)
      } if h != null && try(s.perform_hpo, false)],
    )...)
  }

  solution_names = {
    for name, s in local.solutions : name => format("%s-%s",
      substr("${local.name}-${name}", 0, 54),
      substr(sha1(jsonencode(s.properties)), 0, 8),
    )
  }

  filters = {
    for f in local.config.filters : f.name => {
      logical = replace(title(replace(f.name, "/[-_]+/", " ")), " ", "")
      # The expression cannot change in place either: a new expression means a new filter name.
      name       = format("%s-%s", substr("${local.name}-${f.name}", 0, 54), substr(sha1(f.expression), 0, 8))
      expression = f.expression
    }
  }

  # Personalize's metric attribution (config `metric_attribution`), when the caller gives it a role to
  # publish with. Metrics cannot change in place (CloudFormation: replacement), and a dataset group holds
  # one attribution, so a change of metrics means removing the section, applying, then adding it back.
  metric_attribution = try(local.config.metric_attribution, null) != null && var.metric_attribution_role_arn != null ? {
    Attribution = {
      Type      = "AWS::Personalize::MetricAttribution"
      DependsOn = local.all_datasets
      Properties = {
        Name            = "${local.name}-metrics"
        DatasetGroupArn = local.dataset_group_arn
        Metrics = [for m in local.config.metric_attribution.metrics : {
          EventType  = m.event_type
          Expression = m.expression
          MetricName = m.name
        }]
        MetricsOutputConfig = merge(
          { RoleArn = var.metric_attribution_role_arn },
          var.metric_attribution_output_path == null ? {} : { S3DataDestination = { Path = var.metric_attribution_output_path } },
        )
      }
    }
  } : {}

  dataset_group_arn = { "Fn::GetAtt" = ["DatasetGroup", "DatasetGroupArn"] }
  all_datasets      = [for d in values(local.datasets) : "Dataset${d.logical}"]

  resources = merge(
    {
      DatasetGroup = {
        Type       = "AWS::Personalize::DatasetGroup"
        Properties = { Name = local.name }
      }
      EventTracker = {
        Type      = "AWS::Personalize::EventTracker"
        DependsOn = local.all_datasets
        Properties = {
          Name            = "${local.name}-${local.config.event_tracker.name}"
          DatasetGroupArn = local.dataset_group_arn
        }
      }
    },
    { for type, d in local.datasets : "Schema${d.logical}" => {
      Type       = "AWS::Personalize::Schema"
      Properties = { Name = "${local.name}-${type}", Schema = d.schema }
    } },
    { for type, d in local.datasets : "Dataset${d.logical}" => {
      Type = "AWS::Personalize::Dataset"
      Properties = {
        Name            = "${local.name}-${type}"
        DatasetType     = d.logical
        DatasetGroupArn = local.dataset_group_arn
        SchemaArn       = { "Fn::GetAtt" = ["Schema${d.logical}", "SchemaArn"] }
      }
    } },
    { for name, s in local.solutions : "Solution${s.logical}" => {
      Type                = "AWS::Personalize::Solution"
      DependsOn           = local.all_datasets
      UpdateReplacePolicy = "Retain" # replaced: keep the old one for the live campaign
      DeletionPolicy      = "Delete" # removed from config or stack destroyed: delete
      Properties = merge(s.properties, {
        Name            = local.solution_names[name]
        DatasetGroupArn = local.dataset_group_arn
      })
    } },
    local.metric_attribution,
    { for name, f in local.filters : "Filter${f.logical}" => {
      Type      = "AWS::Personalize::Filter"
      DependsOn = local.all_datasets
      Properties = {
        Name             = f.name
        DatasetGroupArn  = local.dataset_group_arn
        FilterExpression = f.expression
      }
    } },
  )

  outputs = merge(
    {
      DatasetGroupArn = { Value = local.dataset_group_arn }
      EventTrackerArn = { Value = { "Fn::GetAtt" = ["EventTracker", "EventTrackerArn"] } }
      TrackingId      = { Value = { "Fn::GetAtt" = ["EventTracker", "TrackingId"] } }
    },
    { for type, d in local.datasets : "Schema${d.logical}Arn" => { Value = { "Fn::GetAtt" = ["Schema${d.logical}", "SchemaArn"] } } },
    { for type, d in local.datasets : "Dataset${d.logical}Arn" => { Value = { "Fn::GetAtt" = ["Dataset${d.logical}", "DatasetArn"] } } },
    { for name, s in local.solutions : "Solution${s.logical}Arn" => { Value = { "Fn::GetAtt" = ["Solution${s.logical}", "SolutionArn"] } } },
    { for name, f in local.filters : "Filter${f.logical}Arn" => { Value = { "Fn::GetAtt" = ["Filter${f.logical}", "FilterArn"] } } },
    { for k, _ in local.metric_attribution : "MetricAttributionArn" => { Value = { Ref = k } } },
  )

  template = {
    AWSTemplateFormatVersion = "2010-09-09"
    Description              = "Amazon Personalize resources of ${local.name} (rendered by Terraform from config/project.yaml)"
    Resources                = local.resources
    Outputs                  = local.outputs
  }
  template_body = jsonencode(local.template)
  stack_outputs = aws_cloudformation_stack.this.outputs
}

resource "aws_cloudformation_stack" "this" {
  #checkov:skip=CKV_AWS_124:Stack events go to the Terraform run that drives the stack; no SNS topic needed.
  name          = coalesce(var.stack_name, "${local.name}-personalize")
  template_body = local.template_body
  on_failure    = "DELETE"
  tags          = var.tags

  timeouts {
    create = "30m"
    update = "30m"
    delete = "30m"
  }
}
