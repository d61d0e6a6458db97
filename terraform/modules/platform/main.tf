# Everything one environment deploys: storage, the API-key parameter, Personalize (via CloudFormation)
# and the IAM roles, wired from the project config so nothing is declared twice.

locals {
  # The project config with the stage's overrides merged in, as pipeline/config.py merges them:
  # api_limits and monitoring key by key, campaigns by campaign name.
  base_config = yamldecode(file(var.config_file))
  override    = try(local.base_config.overrides[var.stage], {}) # none when stage is null
  config = merge(local.base_config, {
    api_limits = merge(try(local.base_config.api_limits, {}), try(local.override.api_limits, {}))
    monitoring = merge(try(local.base_config.monitoring, {}), try(local.override.monitoring, {}))
    campaigns  = [for c in local.base_config.campaigns : merge(c, try(local.override.campaigns[c.name], {}))]
  })
  name    = local.config.name
  storage = local.config.storage
  # Where Personalize's metric attribution writes reports of bulk imports (config metric_attribution).
  metric_attribution_prefix = try(local.config.metric_attribution.output_prefix, "metric-attribution/")
  api                       = local.config.api

  # Campaigns are created by the pipeline scripts (they need a trained solution version), under the
  # fixed name "<config name>-<campaign name>", so their ARNs are known before they exist.
  campaign_arns = [
    for c in local.config.campaigns :
    "arn:${var.partition}:personalize:${var.region}:${var.account_id}:campaign/${local.name}-${c.name}"
  ]
  bucket_name            = "${var.bucket_prefix}${lower(local.name)}-data-${var.account_id}"
  api_key_parameter_name = "/${local.name}/${try(local.api.api_key_parameter, "api-keys")}"
  tags                   = merge({ project = local.name, "managed-by" = "terraform" }, var.tags)
}

module "storage" {
  source = "../storage"

  bucket_name                       = local.bucket_name
  account_id                        = var.account_id
  region                            = var.region
  partition                         = var.partition
  endpoint                          = var.endpoint
  prevent_destroy                   = var.prevent_destroy
  import_prefix                     = local.storage.import_prefix
  batch_input_prefix                = local.storage.batch_input_prefix
  batch_output_prefix               = local.storage.batch_output_prefix
  batch_output_expiration_days      = try(local.storage.batch_output_expiration_days, 30)
  import_noncurrent_expiration_days = try(local.storage.import_noncurrent_expiration_days, 90)
  force_destroy                     = var.force_destroy
  force_destroy_logs                = var.force_destroy_logs
  kms_deletion_window_days          = var.kms_deletion_window_days
  tags                              = local.tags
}

# The API keys live in a SecureString encrypted with our key. Only hashicorp/aws is available offline
# (no random provider) and a generated key would sit in the Terraform state anyway, so Terraform creates
# the parameter with a placeholder and ignores its value: operators (or `make demo` locally) put the
# real keys with `aws ssm put-parameter --overwrite`. The API must reject the placeholder.
resource "aws_ssm_parameter" "api_keys" {
  name        = local.api_key_parameter_name
  description = "API keys accepted by the recommendations API (comma-separated); set outside Terraform"
  type        = "SecureString"
  key_id      = module.storage.kms_key_arn
  value       = "UNSET"
  tags        = local.tags

  lifecycle {
    ignore_changes = [value]
  }
}

module "personalize" {
  source = "../personalize"

  config_file = var.config_file
  schema_root = var.schema_root
  tags        = local.tags

  metric_attribution_role_arn    = try(local.config.metric_attribution, null) == null ? null : module.iam.personalize_role_arn
  metric_attribution_output_path = try(local.config.metric_attribution, null) == null ? null : "s3://${local.bucket_name}/${local.metric_attribution_prefix}"
}

module "iam" {
  source = "../iam"

  name                      = local.name
  account_id                = var.account_id
  region                    = var.region
  partition                 = var.partition
  bucket_arn                = "arn:${var.partition}:s3:::${local.bucket_name}" # known at plan time
  kms_key_arn               = module.storage.kms_key_arn
  import_prefix             = local.storage.import_prefix
  batch_input_prefix        = local.storage.batch_input_prefix
  batch_output_prefix       = local.storage.batch_output_prefix
  artifacts_prefix          = local.storage.artifacts_prefix
  campaign_arns             = local.campaign_arns
  filter_arns               = [for arn in values(module.personalize.filter_arns) : arn if arn != null]
  api_key_parameter_arn     = aws_ssm_parameter.api_keys.arn
  api_function_prefix       = "${local.name}-api"
  metric_attribution_prefix = try(local.config.metric_attribution, null) == null ? null : local.metric_attribution_prefix
  create_api_role           = var.create_api_role
  tags                      = local.tags
}

# Which runtime operation (and so which AWS/Personalize metrics) each campaign serves, from its recipe.
locals {
  recipe_of_solution = { for s in local.config.solutions : s.name => s.recipe }
  monitored_campaigns = {
    for i, c in local.config.campaigns : c.name => {
      arn       = local.campaign_arns[i]
      operation = startswith(local.recipe_of_solution[c.solution], "aws-personalized-ranking") ? "GetPersonalizedRanking" : "GetRecommendations"
    }
  }
  monitoring = local.config.monitoring
}

module "monitoring" {
  source = "../monitoring"

  name         = local.name
  account_id   = var.account_id
  region       = var.region
  partition    = var.partition
  alarm_emails = try(local.monitoring.alarm_emails, [])
  campaigns    = local.monitored_campaigns
  thresholds = {
    fallback_rate_percent      = try(local.monitoring.fallback_rate_percent, 5)
    latency_p99_ms             = try(local.monitoring.latency_p99_ms, 1500)
    server_errors_per_period   = try(local.monitoring.server_errors_per_period, 5)
    deadline_misses_per_period = try(local.monitoring.deadline_misses_per_period, 5)
    personalize_latency_ms     = try(local.monitoring.personalize_latency_ms, 500)
    personalize_4xx_per_period = try(local.monitoring.personalize_4xx_per_period, 5)
    period_seconds             = try(local.monitoring.period_seconds, 300)
  }
  kms_deletion_window_days = var.kms_deletion_window_days
  tags                     = local.tags
}
