# The local environment: the same platform module as in AWS, with every provider endpoint pointed at
# the local stack (`make local-up`). No credentials or account lookups leave this machine.

provider "aws" {
  region = var.region

  skip_credentials_validation = true
  skip_metadata_api_check     = true
  skip_requesting_account_id  = true
  skip_region_validation      = true
  s3_use_path_style           = true

  endpoints {
    cloudformation = var.endpoint
    cloudwatch     = var.endpoint
    events         = var.endpoint
    iam            = var.endpoint
    kms            = var.endpoint
    logs           = var.endpoint
    s3             = var.endpoint
    sns            = var.endpoint
    ssm            = var.endpoint
    sts            = var.endpoint
  }
}

module "platform" {
  source = "../../modules/platform"

  config_file              = coalesce(var.config_file, "${path.root}/../../../config/project.yaml")
  schema_root              = "${path.root}/../../.."
  account_id               = var.account_id
  region                   = var.region
  endpoint                 = var.endpoint
  prevent_destroy          = var.prevent_destroy # false unless rehearsing an AWS stage's teardown
  force_destroy            = var.force_destroy
  force_destroy_logs       = true # access logs of a throw-away stack
  kms_deletion_window_days = 7
}
