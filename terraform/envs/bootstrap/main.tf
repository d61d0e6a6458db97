# The S3 bucket that holds one AWS stage's Terraform state (envs/aws, backend "s3" with native S3
# locking: use_lockfile writes <key>.tflock next to the state; no DynamoDB table).
# https://developer.hashicorp.com/terraform/language/backend/s3#state-locking

provider "aws" {
  region              = var.region
  allowed_account_ids = [var.account_id]

  default_tags {
    tags = merge(var.tags, { stage = var.stage, "managed-by" = "terraform" })
  }
}

data "aws_partition" "current" {}

locals {
  bucket_name = "${var.bucket_prefix}braze-personalize-tfstate-${var.stage}-${var.account_id}"
  bucket_arn  = "arn:${data.aws_partition.current.partition}:s3:::${local.bucket_name}"
  state_key   = "braze-personalize/${var.stage}.tfstate"
}

resource "aws_s3_bucket" "this" {
  #checkov:skip=CKV_AWS_144:The state is small and versioned; cross-region replication is a deployment choice.
  #checkov:skip=CKV2_AWS_62:Nothing consumes state-bucket events.
  bucket = local.bucket_name

  lifecycle {
    prevent_destroy = true
  }
}

resource "aws_s3_bucket_public_access_block" "this" {
  bucket                  = aws_s3_bucket.this.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_ownership_controls" "this" {
  bucket = aws_s3_bucket.this.id
  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

resource "aws_s3_bucket_versioning" "this" {
  bucket = aws_s3_bucket.this.id
  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_kms_key" "this" {
  description             = "Encrypts the ${var.stage} Terraform state"
  enable_key_rotation     = true
  deletion_window_in_days = 30
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid       = "AccountAdministers"
      Effect    = "Allow"
      Principal = { AWS = "arn:${data.aws_partition.current.partition}:iam::${var.account_id}:root" }
      Action    = "kms:*"
      Resource  = "*"
    }]
  })

  lifecycle {
    prevent_destroy = true
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "this" {
  bucket = aws_s3_bucket.this.id
  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm     = "aws:kms"
      kms_master_key_id = aws_kms_key.this.arn
    }
    bucket_key_enabled = true
  }
}

resource "aws_s3_bucket_lifecycle_configuration" "this" {
  bucket = aws_s3_bucket.this.id

  rule {
    id     = "expire-superseded-state"
    status = "Enabled"
    filter {
      prefix = ""
    }
    noncurrent_version_expiration {
      noncurrent_days = var.noncurrent_state_days
    }
    abort_incomplete_multipart_upload {
      days_after_initiation = 1
    }
  }

  depends_on = [aws_s3_bucket_versioning.this]
}

resource "aws_s3_bucket_policy" "this" {
  bucket = aws_s3_bucket.this.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid       = "DenyInsecureTransport"
        Effect    = "Deny"
        Principal = { AWS = "*" }
        Action    = "s3:*"
        Resource  = [local.bucket_arn, "${local.bucket_arn}/*"]
        Condition = { Bool = { "aws:SecureTransport" = "false" } }
      },
      {
        Sid       = "DenyTlsBelow12"
        Effect    = "Deny"
        Principal = { AWS = "*" }
        Action    = "s3:*"
        Resource  = [local.bucket_arn, "${local.bucket_arn}/*"]
        Condition = { NumericLessThan = { "s3:TlsVersion" = "1.2" } }
      },
    ]
  })

  depends_on = [aws_s3_bucket_public_access_block.this]
}

# --- access logs ---------------------------------------------------------------------------------
# Requests to the state (reads, writes, lock files, denied calls) are logged by S3 server access logging
# (best-effort delivery) to a log bucket of its own, from the module the data bucket's logs use. The log
# bucket keeps its logs on a destroy (force_destroy = false); a destroy of this configuration is refused
# anyway by the state bucket's and key's prevent_destroy.
# https://docs.aws.amazon.com/AmazonS3/latest/userguide/enable-server-access-logging.html

module "access_logs" {
  source = "../../modules/access_logs"

  bucket_name        = "${local.bucket_name}-logs"
  account_id         = var.account_id
  source_bucket_arns = [local.bucket_arn]
  force_destroy      = false
  partition          = data.aws_partition.current.partition
}

resource "aws_s3_bucket_logging" "this" {
  bucket = aws_s3_bucket.this.id
  # Read through the log bucket's policy: logging is configured only once the grant admits it.
  target_bucket = module.access_logs.target_bucket
  target_prefix = module.access_logs.target_prefix
}
