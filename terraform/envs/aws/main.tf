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

# The bridge's network: private subnets with no route to the internet; S3, Personalize and X-Ray through
# VPC endpoints (modules/private_network/README.md: what it costs, why no NAT).
module "private_network" {
  source = "../../modules/private_network"

  name       = yamldecode(file("${path.root}/../../../config/project.yaml")).name
  partition  = data.aws_partition.current.partition
  region     = var.region
  account_id = var.account_id
}

# Braze Currents -> Personalize: a Lambda on new Currents files (build the package: make currents-package).
module "currents" {
  source = "../../modules/currents"

  name                 = yamldecode(file("${path.root}/../../../config/project.yaml")).name
  bucket_name          = module.platform.bucket_name
  kms_key_arn          = module.platform.kms_key_arn
  partition            = data.aws_partition.current.partition
  region               = var.region
  account_id           = var.account_id
  currents             = yamldecode(file("${path.root}/../../../config/project.yaml")).currents
  tracking_id          = module.platform.tracking_id
  event_tracker_arn    = module.platform.event_tracker_arn
  dataset_group_arn    = module.platform.dataset_group_arn
  personalize_role_arn = module.platform.personalize_role_arn
  forget_prefixes = [
    yamldecode(file("${path.root}/../../../config/project.yaml")).storage.import_prefix,
    yamldecode(file("${path.root}/../../../config/project.yaml")).currents.bulk_prefix,
  ]
  package_file   = "${path.root}/../../../build/currents-lambda.zip"
  package_sha256 = try(filebase64sha256("${path.root}/../../../build/currents-lambda.zip"), null)
  # The signed package lives beside these, never under them (the batch output expires, the API reads artifacts).
  reserved_prefixes = [
    for key, prefix in yamldecode(file("${path.root}/../../../config/project.yaml")).storage : prefix if endswith(key, "_prefix")
  ]

  vpc_id                      = module.private_network.vpc_id
  subnet_ids                  = module.private_network.subnet_ids
  endpoints_security_group_id = module.private_network.endpoints_security_group_id
  s3_prefix_list_id           = module.private_network.s3_prefix_list_id
}
