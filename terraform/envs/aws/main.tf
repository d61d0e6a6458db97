# The AWS environment: real account, S3 state with native locking, same platform module as local.

provider "aws" {
  region              = var.region
  allowed_account_ids = [var.account_id]

  default_tags {
    tags = var.tags
  }
}

data "aws_partition" "current" {}

module "platform" {
  source = "../../modules/platform"

  config_file   = "${path.root}/../../../config/project.yaml"
  schema_root   = "${path.root}/../../.."
  account_id    = var.account_id
  region        = var.region
  partition     = data.aws_partition.current.partition
  bucket_prefix = var.bucket_prefix
}
