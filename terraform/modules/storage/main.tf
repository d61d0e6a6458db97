# The data bucket: SSE-KMS with a customer-managed key, versioned, private, TLS-only, access-logged,
# with lifecycle rules and the grants Personalize needs on its prefixes (scoped to our account).

locals {
  bucket_arn    = "arn:${var.partition}:s3:::${var.bucket_name}"
  account_root  = "arn:${var.partition}:iam::${var.account_id}:root"
  read_prefixes = distinct([var.import_prefix, var.batch_input_prefix])
}

locals {
  personalize_source_arn = "arn:${var.partition}:personalize:${var.region}:${var.account_id}:*"
  # Personalize acts for our account only, and only from our Personalize resources (confused-deputy
  # guard: https://docs.aws.amazon.com/personalize/latest/dg/cross-service-confused-deputy-prevention.html).
  personalize_condition = {
    StringEquals = { "aws:SourceAccount" = var.account_id }
    ArnLike      = { "aws:SourceArn" = local.personalize_source_arn }
  }

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
        Condition = local.personalize_condition
      },
    ]
  }

  bucket_policy = {
    Version = "2012-10-17"
    Statement = concat(module.tls_only.statements, [
      # Every object is SSE-KMS under our key: a PUT that asks for another algorithm or another key is
      # denied; one without the headers gets the bucket default (SSE-KMS, our key), so it is allowed
      # (https://docs.aws.amazon.com/AmazonS3/latest/userguide/specifying-kms-encryption.html).
      {
        Sid       = "DenyUploadsWithoutSseKms"
        Effect    = "Deny"
        Principal = { AWS = "*" }
        Action    = "s3:PutObject"
        Resource  = "${local.bucket_arn}/*"
        Condition = { StringNotEqualsIfExists = { "s3:x-amz-server-side-encryption" = "aws:kms" } }
      },
      {
        Sid       = "DenyUploadsUnderAnotherKey"
        Effect    = "Deny"
        Principal = { AWS = "*" }
        Action    = "s3:PutObject"
        Resource  = "${local.bucket_arn}/*"
        Condition = { StringNotEqualsIfExists = { "s3:x-amz-server-side-encryption-aws-kms-key-id" = local.kms_key_arn } }
      },
      {
        Sid       = "PersonalizeListsInputPrefixes"
        Effect    = "Allow"
        Principal = { Service = "personalize.amazonaws.com" }
        Action    = "s3:ListBucket"
        Resource  = local.bucket_arn
        Condition = merge(local.personalize_condition, {
          StringLike = { "s3:prefix" = [for p in local.read_prefixes : "${p}*"] }
        })
      },
      {
        Sid       = "PersonalizeReadsImportsAndBatchInput"
        Effect    = "Allow"
        Principal = { Service = "personalize.amazonaws.com" }
        Action    = "s3:GetObject"
        Resource  = [for p in local.read_prefixes : "${local.bucket_arn}/${p}*"]
        Condition = local.personalize_condition
      },
      {
        Sid       = "PersonalizeWritesBatchOutput"
        Effect    = "Allow"
        Principal = { Service = "personalize.amazonaws.com" }
        Action    = "s3:PutObject"
        Resource  = "${local.bucket_arn}/${var.batch_output_prefix}*"
        Condition = local.personalize_condition
      },
    ])
  }
}

module "tls_only" {
  source     = "../tls_only"
  bucket_arn = local.bucket_arn
}

# --- the data key and the data bucket: protected or disposable -----------------------------------
# `prevent_destroy` must be a literal, so each exists twice, selected by count: `protected` (AWS) refuses
# any plan that destroys it; `disposable` (the local stack, or an environment released on purpose with
# `make destroy ... UNPROTECT=1`, see terraform/README.md) does not. Everything else uses local.kms_key_*
# and local.bucket_id.

resource "aws_kms_key" "protected" {
  count = var.prevent_destroy ? 1 : 0

  description             = "Encrypts the ${var.bucket_name} recommendation data"
  enable_key_rotation     = true
  deletion_window_in_days = var.kms_deletion_window_days
  policy                  = jsonencode(local.key_policy)
  tags                    = var.tags

  lifecycle {
    prevent_destroy = true
  }
}

resource "aws_kms_key" "disposable" {
  count = var.prevent_destroy ? 0 : 1

  description             = "Encrypts the ${var.bucket_name} recommendation data"
  enable_key_rotation     = true
  deletion_window_in_days = var.kms_deletion_window_days
  policy                  = jsonencode(local.key_policy)
  tags                    = var.tags
}

locals {
  kms_key_arn = try(aws_kms_key.protected[0].arn, aws_kms_key.disposable[0].arn)
  kms_key_id  = try(aws_kms_key.protected[0].key_id, aws_kms_key.disposable[0].key_id)
}

resource "aws_kms_alias" "this" {
  name          = "alias/${var.bucket_name}"
  target_key_id = local.kms_key_id
}

# --- access-log bucket -------------------------------------------------------------------------
# modules/access_logs, shared with the state bucket (envs/bootstrap). The moved blocks carry states made
# before the module existed over to its addresses, so the log bucket and its settings are kept, not
# recreated.

module "access_logs" {
  source = "../access_logs"

  bucket_name        = "${var.bucket_name}-logs"
  account_id         = var.account_id
  source_bucket_arns = [local.bucket_arn]
  expiration_days    = var.log_expiration_days
  force_destroy      = var.force_destroy_logs
  partition          = var.partition
  tags               = var.tags
}

moved {
  from = aws_s3_bucket.logs
  to   = module.access_logs.aws_s3_bucket.this
}

moved {
  from = aws_s3_bucket_ownership_controls.logs
  to   = module.access_logs.aws_s3_bucket_ownership_controls.this
}

moved {
  from = aws_s3_bucket_public_access_block.logs
  to   = module.access_logs.aws_s3_bucket_public_access_block.this
}

moved {
  from = aws_s3_bucket_versioning.logs
  to   = module.access_logs.aws_s3_bucket_versioning.this
}

moved {
  from = aws_s3_bucket_server_side_encryption_configuration.logs
  to   = module.access_logs.aws_s3_bucket_server_side_encryption_configuration.this
}

moved {
  from = aws_s3_bucket_policy.logs
  to   = module.access_logs.aws_s3_bucket_policy.this
}

# --- data bucket -------------------------------------------------------------------------------

resource "aws_s3_bucket" "protected" {
  #checkov:skip=CKV_AWS_144:Cross-region replication doubles cost; the data is re-creatable from the sources.
  count = var.prevent_destroy ? 1 : 0

  bucket        = var.bucket_name
  force_destroy = var.force_destroy
  tags          = var.tags

  dynamic "lifecycle_rule" {
    for_each = local.data_lifecycle_rules
    content {
      id                                     = lifecycle_rule.value.id
      enabled                                = true
      prefix                                 = lifecycle_rule.value.prefix
      abort_incomplete_multipart_upload_days = lifecycle_rule.value.abort_days
      dynamic "expiration" {
        for_each = lifecycle_rule.value.expiration_days == null ? [] : [lifecycle_rule.value.expiration_days]
        content {
          days = expiration.value
        }
      }
      dynamic "noncurrent_version_expiration" {
        for_each = lifecycle_rule.value.noncurrent_days == null ? [] : [lifecycle_rule.value.noncurrent_days]
        content {
          days = noncurrent_version_expiration.value
        }
      }
    }
  }

  lifecycle {
    prevent_destroy = true
  }

  # The key outlives the bucket: destroy only schedules its deletion once the bucket is gone.
  depends_on = [aws_kms_key.protected, aws_kms_key.disposable]
}

resource "aws_s3_bucket" "disposable" {
  #checkov:skip=CKV_AWS_144:Cross-region replication doubles cost; the data is re-creatable from the sources.
  count = var.prevent_destroy ? 0 : 1

  bucket        = var.bucket_name
  force_destroy = var.force_destroy
  tags          = var.tags

  dynamic "lifecycle_rule" {
    for_each = local.data_lifecycle_rules
    content {
      id                                     = lifecycle_rule.value.id
      enabled                                = true
      prefix                                 = lifecycle_rule.value.prefix
      abort_incomplete_multipart_upload_days = lifecycle_rule.value.abort_days
      dynamic "expiration" {
        for_each = lifecycle_rule.value.expiration_days == null ? [] : [lifecycle_rule.value.expiration_days]
        content {
          days = expiration.value
        }
      }
      dynamic "noncurrent_version_expiration" {
        for_each = lifecycle_rule.value.noncurrent_days == null ? [] : [lifecycle_rule.value.noncurrent_days]
        content {
          days = noncurrent_version_expiration.value
        }
      }
    }
  }

  depends_on = [aws_kms_key.protected, aws_kms_key.disposable]
}

locals {
  # One definition for both variants of the data bucket (inline: see the log bucket's in modules/access_logs).
  data_lifecycle_rules = [
    { id = "expire-batch-output", prefix = var.batch_output_prefix, expiration_days = var.batch_output_expiration_days, noncurrent_days = 1, abort_days = null },
    { id = "expire-old-imports", prefix = var.import_prefix, expiration_days = null, noncurrent_days = var.import_noncurrent_expiration_days, abort_days = null },
    { id = "abort-incomplete-uploads", prefix = "", expiration_days = null, noncurrent_days = null, abort_days = 1 },
  ]
  # Exactly one variant exists; try() reads whichever it is (and lets checkov see both connections).
  bucket_id = try(aws_s3_bucket.protected[0].id, aws_s3_bucket.disposable[0].id)
}

resource "aws_s3_bucket_ownership_controls" "this" {
  bucket = local.bucket_id
  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

resource "aws_s3_bucket_public_access_block" "this" {
  bucket                  = local.bucket_id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_versioning" "this" {
  bucket = local.bucket_id
  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "this" {
  bucket = local.bucket_id
  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm     = "aws:kms"
      kms_master_key_id = local.kms_key_arn
    }
    bucket_key_enabled = true
  }
}

resource "aws_s3_bucket_logging" "this" {
  bucket = local.bucket_id
  # Read through the log bucket's policy: logging is configured only once the grant admits it.
  target_bucket = module.access_logs.target_bucket
  target_prefix = module.access_logs.target_prefix
}

resource "aws_s3_bucket_policy" "this" {
  bucket = local.bucket_id
  policy = jsonencode(local.bucket_policy)

  depends_on = [aws_s3_bucket_public_access_block.this]
}

# Every event of the bucket goes to Amazon EventBridge (default bus). A bucket has one notification
# configuration, so it is owned here, once: consumers (the Currents bridge in AWS) add EventBridge rules
# of their own instead of competing for it
# (https://docs.aws.amazon.com/AmazonS3/latest/userguide/EventBridge.html).
resource "aws_s3_bucket_notification" "this" {
  bucket      = local.bucket_id
  eventbridge = true
}

# --- destroy guard -----------------------------------------------------------------------------
# Terraform destroys dependents first: left alone, a destroy would remove the bucket's policy, public-access
# block, encryption, logging and EventBridge notification, then fail on a bucket that still holds objects.
# This guard depends on all of them, so a destroy reaches it first; its destroy-time check fails while the
# data bucket, which this configuration may not empty (force_destroy = false), still holds objects or
# versions, and then nothing else is touched. (The log bucket is not checked: S3 keeps delivering access logs to it until the data
# bucket is gone, so it could never be empty beforehand; force_destroy_logs decides its fate.)
resource "terraform_data" "destroy_guard" {
  input = {
    buckets       = [var.bucket_name]
    force_destroy = var.force_destroy
    region        = var.region
    endpoint      = var.endpoint == null ? "" : var.endpoint
    script        = "${path.module}/scripts/check_buckets_empty.py"
  }

  provisioner "local-exec" {
    when = destroy
    # BP_PYTHON: the interpreter `python -m pipeline.infra` runs with (it has boto3); otherwise python3.
    # A check that cannot run fails too: the destroy stops rather than guessing.
    command = "\"$${BP_PYTHON:-python3}\" \"${self.input.script}\""
    environment = {
      GUARD_BUCKETS       = join(",", self.input.buckets)
      GUARD_FORCE_DESTROY = tostring(self.input.force_destroy)
      GUARD_REGION        = self.input.region
      GUARD_ENDPOINT      = self.input.endpoint
    }
  }

  depends_on = [
    aws_kms_alias.this,
    aws_s3_bucket_ownership_controls.this,
    aws_s3_bucket_public_access_block.this,
    aws_s3_bucket_versioning.this,
    aws_s3_bucket_server_side_encryption_configuration.this,
    aws_s3_bucket_logging.this,
    aws_s3_bucket_policy.this,
    aws_s3_bucket_notification.this,
    module.access_logs,
  ]
}
