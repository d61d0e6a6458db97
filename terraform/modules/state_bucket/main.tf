# One bucket of a stage's Terraform state pair: versioned, SSE-KMS under a key of its own, private, TLS 1.2+
# only, access-logged, its events on EventBridge, and replicated both ways with its peer in another region
# (the state is the one thing a stage cannot re-create; a regional outage must not lock it away).

locals {
  bucket_arn   = "arn:${var.partition}:s3:::${var.bucket_name}"
  account_root = "arn:${var.partition}:iam::${var.account_id}:root"
  peer_bucket  = split(":::", var.peer.bucket_arn)[1]
}

resource "aws_kms_key" "this" {
  description             = "Encrypts the Terraform state in ${var.bucket_name}"
  enable_key_rotation     = true
  deletion_window_in_days = var.kms_deletion_window_days
  # The account administers the key; who may use it is decided by IAM policies (the replication role's below).
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid       = "AccountAdministers"
      Effect    = "Allow"
      Principal = { AWS = local.account_root }
      Action    = "kms:*"
      Resource  = "*" # in a key policy "*" means this key
    }]
  })
  tags = var.tags

  lifecycle {
    prevent_destroy = true
  }
}

resource "aws_kms_alias" "this" {
  name          = "alias/${var.bucket_name}"
  target_key_id = aws_kms_key.this.key_id
}

resource "aws_s3_bucket" "this" {
  bucket = var.bucket_name
  tags   = var.tags

  lifecycle {
    prevent_destroy = true
    precondition {
      condition     = length(var.bucket_name) >= 3 && length(var.bucket_name) <= 63
      error_message = "The state bucket name \"${var.bucket_name}\" has ${length(var.bucket_name)} characters; S3 allows 3 to 63: shorten bucket_prefix."
    }
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

resource "aws_s3_bucket_logging" "this" {
  bucket        = aws_s3_bucket.this.id
  target_bucket = var.access_log_bucket
  target_prefix = var.access_log_prefix
}

# Object-level events go to the account's default EventBridge bus (e.g. a rule that alerts on a state
# object deleted outside Terraform); unlike a bucket's single notification target, any number of rules
# can consume them (https://docs.aws.amazon.com/AmazonS3/latest/userguide/EventBridge.html).
resource "aws_s3_bucket_notification" "this" {
  bucket      = aws_s3_bucket.this.id
  eventbridge = true
}

module "tls_only" {
  source     = "../tls_only"
  bucket_arn = local.bucket_arn
}

resource "aws_s3_bucket_policy" "this" {
  bucket = aws_s3_bucket.this.id
  policy = jsonencode({ Version = "2012-10-17", Statement = module.tls_only.statements })

  depends_on = [aws_s3_bucket_public_access_block.this]
}

# --- replication to the peer ----------------------------------------------------------------------
# Role and key grants as in "Replicating encrypted objects" (https://docs.aws.amazon.com/AmazonS3/latest/
# userguide/replication-config-for-kms-objects.html): decrypt the source under this region's S3, encrypt
# replicas under the peer region's S3, each scoped by the S3 encryption context (the bucket ARN, since
# both buckets use S3 Bucket Keys).

resource "aws_iam_role" "replication" {
  # Bucket names run to 63 characters, role names to 64: a generated suffix keeps the pair's roles apart.
  name_prefix = "tfstate-replicate-"
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Action    = "sts:AssumeRole"
      Principal = { Service = "s3.amazonaws.com" }
      Condition = {
        StringEquals = { "aws:SourceAccount" = var.account_id }
        ArnLike      = { "aws:SourceArn" = local.bucket_arn }
      }
    }]
  })
  tags = var.tags
}

resource "aws_iam_role_policy" "replication" {
  name = "replicate-state"
  role = aws_iam_role.replication.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid      = "ReadReplicationSource"
        Effect   = "Allow"
        Action   = ["s3:GetReplicationConfiguration", "s3:ListBucket"]
        Resource = local.bucket_arn
      },
      {
        Sid      = "ReadSourceVersions"
        Effect   = "Allow"
        Action   = ["s3:GetObjectVersionForReplication", "s3:GetObjectVersionAcl", "s3:GetObjectVersionTagging"]
        Resource = "${local.bucket_arn}/*"
      },
      {
        Sid      = "WriteReplicas"
        Effect   = "Allow"
        Action   = ["s3:ReplicateObject", "s3:ReplicateDelete", "s3:ReplicateTags"]
        Resource = "${var.peer.bucket_arn}/*"
      },
      {
        Sid      = "DecryptSource"
        Effect   = "Allow"
        Action   = "kms:Decrypt"
        Resource = aws_kms_key.this.arn
        Condition = {
          StringEquals = { "kms:ViaService" = "s3.${var.region}.amazonaws.com" }
          StringLike   = { "kms:EncryptionContext:aws:s3:arn" = [local.bucket_arn, "${local.bucket_arn}/*"] }
        }
      },
      {
        Sid      = "EncryptReplicas"
        Effect   = "Allow"
        Action   = ["kms:Encrypt", "kms:GenerateDataKey"]
        Resource = var.peer.kms_key_arn
        Condition = {
          StringEquals = { "kms:ViaService" = "s3.${var.peer.region}.amazonaws.com" }
          StringLike   = { "kms:EncryptionContext:aws:s3:arn" = [var.peer.bucket_arn, "${var.peer.bucket_arn}/*"] }
        }
      },
    ]
  })
}

# Two-way: each bucket of the pair replicates to the other, and replica modification sync carries metadata
# changes back, so after a failover the stage can work on the peer and the pair converges
# (https://docs.aws.amazon.com/AmazonS3/latest/userguide/replication-for-metadata-changes.html). Delete
# markers replicate too: a lock file (<key>.tflock) released here is released there.
resource "aws_s3_bucket_replication_configuration" "this" {
  bucket = aws_s3_bucket.this.id
  role   = aws_iam_role.replication.arn

  rule {
    id     = "state-to-${local.peer_bucket}"
    status = "Enabled"
    filter {}

    delete_marker_replication {
      status = "Enabled"
    }

    source_selection_criteria {
      replica_modifications {
        status = "Enabled"
      }
      sse_kms_encrypted_objects {
        status = "Enabled"
      }
    }

    destination {
      bucket        = var.peer.bucket_arn
      storage_class = "STANDARD"
      encryption_configuration {
        replica_kms_key_id = var.peer.kms_key_arn
      }
    }
  }

  depends_on = [aws_s3_bucket_versioning.this, aws_iam_role_policy.replication]
}
