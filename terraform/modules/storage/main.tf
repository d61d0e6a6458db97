# The data bucket: SSE-KMS with a customer-managed key, versioned, private, TLS-only, access-logged,
# with lifecycle rules and the grants Personalize needs on its prefixes (scoped to our account).

locals {
  log_bucket_name = "${var.bucket_name}-logs"
  bucket_arn      = "arn:${var.partition}:s3:::${var.bucket_name}"
  log_bucket_arn  = "arn:${var.partition}:s3:::${local.log_bucket_name}"
  account_root    = "arn:${var.partition}:iam::${var.account_id}:root"
  read_prefixes   = distinct([var.import_prefix, var.batch_input_prefix])
}

locals {
  # Policies are plain jsonencode() documents so `terraform test` with a mocked provider can assert them.
  key_policy = {
    Version = "2012-10-17"
    Statement = [
      {
        Sid       = "AccountAdministers"
        Effect    = "Allow"
        Principal = { AWS = local.account_root }
        Action    = "kms:*"
        Resource  = "*" # in a key policy "*" means this key
      },
      {
        Sid       = "PersonalizeUsesKeyForOurAccount"
        Effect    = "Allow"
        Principal = { Service = "personalize.amazonaws.com" }
        Action    = ["kms:Decrypt", "kms:GenerateDataKey", "kms:DescribeKey"]
        Resource  = "*"
        Condition = { StringEquals = { "aws:SourceAccount" = var.account_id } }
      },
    ]
  }

  deny_insecure_transport = {
    Sid       = "DenyInsecureTransport"
    Effect    = "Deny"
    Principal = { AWS = "*" }
    Action    = "s3:*"
    Condition = { Bool = { "aws:SecureTransport" = "false" } }
  }

  log_bucket_policy = {
    Version = "2012-10-17"
    Statement = [
      merge(local.deny_insecure_transport, { Resource = [local.log_bucket_arn, "${local.log_bucket_arn}/*"] }),
      {
        Sid       = "S3ServerAccessLogsFromDataBucket"
        Effect    = "Allow"
        Principal = { Service = "logging.s3.amazonaws.com" }
        Action    = "s3:PutObject"
        Resource  = "${local.log_bucket_arn}/access/*"
        Condition = {
          StringEquals = { "aws:SourceAccount" = var.account_id }
          ArnLike      = { "aws:SourceArn" = local.bucket_arn }
        }
      },
    ]
  }

  bucket_policy = {
    Version = "2012-10-17"
    Statement = [
      merge(local.deny_insecure_transport, { Resource = [local.bucket_arn, "${local.bucket_arn}/*"] }),
      {
        Sid       = "PersonalizeListsInputPrefixes"
        Effect    = "Allow"
        Principal = { Service = "personalize.amazonaws.com" }
        Action    = "s3:ListBucket"
        Resource  = local.bucket_arn
        Condition = {
          StringLike   = { "s3:prefix" = [for p in local.read_prefixes : "${p}*"] }
          StringEquals = { "aws:SourceAccount" = var.account_id }
        }
      },
      {
        Sid       = "PersonalizeReadsImportsAndBatchInput"
        Effect    = "Allow"
        Principal = { Service = "personalize.amazonaws.com" }
        Action    = "s3:GetObject"
        Resource  = [for p in local.read_prefixes : "${local.bucket_arn}/${p}*"]
        Condition = { StringEquals = { "aws:SourceAccount" = var.account_id } }
      },
      {
        Sid       = "PersonalizeWritesBatchOutput"
        Effect    = "Allow"
        Principal = { Service = "personalize.amazonaws.com" }
        Action    = "s3:PutObject"
        Resource  = "${local.bucket_arn}/${var.batch_output_prefix}*"
        Condition = { StringEquals = { "aws:SourceAccount" = var.account_id } }
      },
    ]
  }
}

resource "aws_kms_key" "this" {
  description             = "Encrypts the ${var.bucket_name} recommendation data"
  enable_key_rotation     = true
  deletion_window_in_days = var.kms_deletion_window_days
  policy                  = jsonencode(local.key_policy)
  tags                    = var.tags
}

resource "aws_kms_alias" "this" {
  name          = "alias/${var.bucket_name}"
  target_key_id = aws_kms_key.this.key_id
}

# --- access-log bucket -------------------------------------------------------------------------

resource "aws_s3_bucket" "logs" {
  #checkov:skip=CKV_AWS_18:This is the access-log target; logging it into itself would loop.
  #checkov:skip=CKV_AWS_144:Cross-region replication is a deployment choice, not a default for logs.
  #checkov:skip=CKV2_AWS_62:No consumer for event notifications on access logs.
  #checkov:skip=CKV_AWS_145:S3 server access logging only delivers to SSE-S3 buckets, not SSE-KMS.
  bucket        = local.log_bucket_name
  force_destroy = var.force_destroy
  tags          = var.tags
}

resource "aws_s3_bucket_ownership_controls" "logs" {
  bucket = aws_s3_bucket.logs.id
  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

resource "aws_s3_bucket_public_access_block" "logs" {
  bucket                  = aws_s3_bucket.logs.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_versioning" "logs" {
  bucket = aws_s3_bucket.logs.id
  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "logs" {
  bucket = aws_s3_bucket.logs.id
  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm = "AES256"
    }
  }
}

resource "aws_s3_bucket_lifecycle_configuration" "logs" {
  bucket = aws_s3_bucket.logs.id

  rule {
    id     = "expire-access-logs"
    status = "Enabled"
    filter {
      prefix = "" # explicit: an empty filter block reads back as prefix "" and would never settle
    }
    expiration {
      days = var.log_expiration_days
    }
    noncurrent_version_expiration {
      noncurrent_days = 7
    }
    abort_incomplete_multipart_upload {
      days_after_initiation = 1
    }
  }
}

resource "aws_s3_bucket_policy" "logs" {
  bucket = aws_s3_bucket.logs.id
  policy = jsonencode(local.log_bucket_policy)

  depends_on = [aws_s3_bucket_public_access_block.logs]
}

# --- data bucket -------------------------------------------------------------------------------

resource "aws_s3_bucket" "this" {
  #checkov:skip=CKV_AWS_144:Cross-region replication doubles cost; the data is re-creatable from the sources.
  #checkov:skip=CKV2_AWS_62:Imports and batch jobs are driven by the pipeline, not by S3 events.
  bucket        = var.bucket_name
  force_destroy = var.force_destroy
  tags          = var.tags
}

resource "aws_s3_bucket_ownership_controls" "this" {
  bucket = aws_s3_bucket.this.id
  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

resource "aws_s3_bucket_public_access_block" "this" {
  bucket                  = aws_s3_bucket.this.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_versioning" "this" {
  bucket = aws_s3_bucket.this.id
  versioning_configuration {
    status = "Enabled"
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

resource "aws_s3_bucket_logging" "this" {
  bucket        = aws_s3_bucket.this.id
  target_bucket = aws_s3_bucket.logs.id
  target_prefix = "access/"

  # S3 checks the log bucket's policy grants logging.s3.amazonaws.com before accepting this.
  depends_on = [aws_s3_bucket_policy.logs]
}

resource "aws_s3_bucket_lifecycle_configuration" "this" {
  bucket = aws_s3_bucket.this.id

  rule {
    id     = "expire-batch-output"
    status = "Enabled"
    filter {
      prefix = var.batch_output_prefix
    }
    expiration {
      days = var.batch_output_expiration_days
    }
    noncurrent_version_expiration {
      noncurrent_days = 1
    }
  }

  rule {
    id     = "expire-old-imports"
    status = "Enabled"
    filter {
      prefix = var.import_prefix
    }
    noncurrent_version_expiration {
      noncurrent_days = var.import_noncurrent_expiration_days
    }
  }

  rule {
    id     = "abort-incomplete-uploads"
    status = "Enabled"
    filter {
      prefix = "" # explicit: an empty filter block reads back as prefix "" and would never settle
    }
    abort_incomplete_multipart_upload {
      days_after_initiation = 1
    }
  }

  depends_on = [aws_s3_bucket_versioning.this]
}

resource "aws_s3_bucket_policy" "this" {
  bucket = aws_s3_bucket.this.id
  policy = jsonencode(local.bucket_policy)

  depends_on = [aws_s3_bucket_public_access_block.this]
}
