# The S3 state of one AWS stage (envs/aws, backend "s3" with native S3 locking: use_lockfile writes
# <key>.tflock next to the state; no DynamoDB table): a pair of state buckets in two regions, replicated
# both ways, each access-logged into a log bucket of its region.
# https://developer.hashicorp.com/terraform/language/backend/s3#state-locking

provider "aws" {
  region              = var.region
  allowed_account_ids = [var.account_id]

  default_tags {
    tags = merge(var.tags, { stage = var.stage, "managed-by" = "terraform" })
  }
}

provider "aws" {
  alias               = "replica"
  region              = var.state_replica_region
  allowed_account_ids = [var.account_id]

  default_tags {
    tags = merge(var.tags, { stage = var.stage, "managed-by" = "terraform" })
  }
}

data "aws_partition" "current" {}

locals {
  bucket_name         = "${var.bucket_prefix}braze-personalize-tfstate-${var.stage}-${var.account_id}"
  replica_bucket_name = "${local.bucket_name}-dr"
  state_key           = "braze-personalize/${var.stage}.tfstate"
  partition           = data.aws_partition.current.partition
}

module "access_logs" {
  source = "../../modules/access_logs"

  bucket_name        = "${local.bucket_name}-logs"
  account_id         = var.account_id
  partition          = local.partition
  source_bucket_arns = ["arn:${local.partition}:s3:::${local.bucket_name}"]
}

module "replica_access_logs" {
  source    = "../../modules/access_logs"
  providers = { aws = aws.replica }

  bucket_name        = "${local.replica_bucket_name}-logs"
  account_id         = var.account_id
  partition          = local.partition
  source_bucket_arns = ["arn:${local.partition}:s3:::${local.replica_bucket_name}"]
}

module "state" {
  source = "../../modules/state_bucket"

  bucket_name           = local.bucket_name
  account_id            = var.account_id
  region                = var.region
  partition             = local.partition
  access_log_bucket     = module.access_logs.target_bucket
  access_log_prefix     = module.access_logs.target_prefix
  noncurrent_state_days = var.noncurrent_state_days
  peer = {
    bucket_arn  = module.replica.bucket_arn
    region      = var.state_replica_region
    kms_key_arn = module.replica.kms_key_arn
  }
}

module "replica" {
  source    = "../../modules/state_bucket"
  providers = { aws = aws.replica }

  bucket_name           = local.replica_bucket_name
  account_id            = var.account_id
  region                = var.state_replica_region
  partition             = local.partition
  access_log_bucket     = module.replica_access_logs.target_bucket
  access_log_prefix     = module.replica_access_logs.target_prefix
  noncurrent_state_days = var.noncurrent_state_days
  peer = {
    bucket_arn  = module.state.bucket_arn
    region      = var.region
    kms_key_arn = module.state.kms_key_arn
  }
}

# A state bucket bootstrapped before the pair existed keeps its bucket, key and settings (the bucket and
# key refuse to be destroyed): they move into module.state.
moved {
  from = aws_s3_bucket.this
  to   = module.state.aws_s3_bucket.this
}
moved {
  from = aws_kms_key.this
  to   = module.state.aws_kms_key.this
}
moved {
  from = aws_s3_bucket_public_access_block.this
  to   = module.state.aws_s3_bucket_public_access_block.this
}
moved {
  from = aws_s3_bucket_ownership_controls.this
  to   = module.state.aws_s3_bucket_ownership_controls.this
}
moved {
  from = aws_s3_bucket_versioning.this
  to   = module.state.aws_s3_bucket_versioning.this
}
moved {
  from = aws_s3_bucket_server_side_encryption_configuration.this
  to   = module.state.aws_s3_bucket_server_side_encryption_configuration.this
}
moved {
  from = aws_s3_bucket_lifecycle_configuration.this
  to   = module.state.aws_s3_bucket_lifecycle_configuration.this
}
moved {
  from = aws_s3_bucket_policy.this
  to   = module.state.aws_s3_bucket_policy.this
}
moved {
  from = aws_s3_bucket_logging.this
  to   = module.state.aws_s3_bucket_logging.this
}
moved {
  from = aws_s3_bucket_notification.this
  to   = module.state.aws_s3_bucket_notification.this
}
