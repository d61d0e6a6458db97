# The AWS environment: real account, S3 state with native locking, same platform module as local.
# Instantiated once per stage (staging, production): stages/<stage>.tfvars and stages/<stage>.backend.hcl,
# chosen by `make ... ENV=aws STAGE=<stage>`; the stage also selects config/project.yaml's overrides.

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
  stage         = var.stage
  # A literal true unless `make destroy ... UNPROTECT=1` releases the data on purpose (terraform/README.md).
  prevent_destroy = var.prevent_destroy
  tags            = { stage = var.stage }
}
