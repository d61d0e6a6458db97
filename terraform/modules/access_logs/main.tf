# The bucket S3 server access logs are delivered to: SSE-S3, versioned, private, TLS 1.2+ only, logs
# expire. Its policy admits the S3 logging service only for the given source buckets of our account,
# and only under target_prefix.
# https://docs.aws.amazon.com/AmazonS3/latest/userguide/enable-server-access-logging.html

locals {
  arn = "arn:${var.partition}:s3:::${var.bucket_name}"

  # A plain jsonencode() document so `terraform test` with a mocked provider can assert it.
  policy = {
    Version = "2012-10-17"
    Statement = concat(module.tls_only.statements, [
      # Log delivery writes as the logging.s3.amazonaws.com service principal; aws:SourceAccount and
      # aws:SourceArn keep any other account's or bucket's logs out (the documented grant, "Permissions
      # for log delivery" in the page above). With BucketOwnerEnforced, ACL grants are not an option.
      {
        Sid       = "S3ServerAccessLogsFromSourceBuckets"
        Effect    = "Allow"
        Principal = { Service = "logging.s3.amazonaws.com" }
        Action    = "s3:PutObject"
        Resource  = "${local.arn}/${var.target_prefix}*"
        Condition = {
          StringEquals = { "aws:SourceAccount" = var.account_id }
          ArnLike      = { "aws:SourceArn" = var.source_bucket_arns }
        }
      },
    ])
  }
}

module "tls_only" {
  source     = "../tls_only"
  bucket_arn = local.arn
}

resource "aws_s3_bucket" "this" {
  #checkov:skip=CKV_AWS_18:This is the access-log target; logging it into itself would loop.
  #checkov:skip=CKV_AWS_144:Cross-region replication is a deployment choice, not a default for logs.
  #checkov:skip=CKV_AWS_145:S3 server access logging only delivers to SSE-S3 buckets, not SSE-KMS.
  bucket        = var.bucket_name
  force_destroy = var.force_destroy
  tags          = var.tags

  # Lifecycle rules inline, not as aws_s3_bucket_lifecycle_configuration: that resource waits at least
  # 55 s after every write (a 10 s delay, then 10 identical reads 5 s apart: terraform-provider-aws PR
  # #41764), on AWS and on the local stack alike. Inline rules are put once, like every other bucket
  # setting; S3 applies lifecycle rules asynchronously anyway, so nothing here needs the wait.
  lifecycle_rule {
    id                                     = "expire-access-logs"
    enabled                                = true
    prefix                                 = ""
    abort_incomplete_multipart_upload_days = 1
    expiration {
      days = var.expiration_days
    }
    noncurrent_version_expiration {
      days = 7
    }
  }
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

# SSE-S3: server access logging cannot deliver to a bucket whose default encryption is SSE-KMS.
resource "aws_s3_bucket_server_side_encryption_configuration" "this" {
  bucket = aws_s3_bucket.this.id
  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm = "AES256"
    }
  }
}

resource "aws_s3_bucket_policy" "this" {
  bucket = aws_s3_bucket.this.id
  policy = jsonencode(local.policy)

  depends_on = [aws_s3_bucket_public_access_block.this]
}

# Every object-level event of the bucket (a log delivered, deleted or expired) goes to the account's
# default EventBridge bus, where a rule can act on it (for example, flag deleted logs); unlike the other
# notification destinations it needs no target and no permission here, and it does not replace them
# (https://docs.aws.amazon.com/AmazonS3/latest/userguide/EventBridge.html).
resource "aws_s3_bucket_notification" "this" {
  bucket      = aws_s3_bucket.this.id
  eventbridge = true
}
