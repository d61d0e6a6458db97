# Everything one environment deploys: storage, the API-key parameter, Personalize (via CloudFormation)
# and the IAM roles, wired from the project config so nothing is declared twice.

locals {
  config  = yamldecode(file(var.config_file))
  name    = local.config.name
  storage = local.config.storage
  api     = local.config.api

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
  partition                         = var.partition
  import_prefix                     = local.storage.import_prefix
  batch_input_prefix                = local.storage.batch_input_prefix
  batch_output_prefix               = local.storage.batch_output_prefix
  batch_output_expiration_days      = try(local.storage.batch_output_expiration_days, 30)
  import_noncurrent_expiration_days = try(local.storage.import_noncurrent_expiration_days, 90)
  force_destroy                     = var.force_destroy
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
}

module "iam" {
  source = "../iam"

  name                  = local.name
  account_id            = var.account_id
  region                = var.region
  partition             = var.partition
  bucket_arn            = "arn:${var.partition}:s3:::${local.bucket_name}" # known at plan time
  kms_key_arn           = module.storage.kms_key_arn
  import_prefix         = local.storage.import_prefix
  batch_input_prefix    = local.storage.batch_input_prefix
  batch_output_prefix   = local.storage.batch_output_prefix
  artifacts_prefix      = local.storage.artifacts_prefix
  campaign_arns         = local.campaign_arns
  filter_arns           = [for arn in values(module.personalize.filter_arns) : arn if arn != null]
  api_key_parameter_arn = aws_ssm_parameter.api_keys.arn
  api_function_prefix   = "${local.name}-api"
  create_api_role       = var.create_api_role
  tags                  = local.tags
}
