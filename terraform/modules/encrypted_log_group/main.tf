# A CloudWatch Logs log group encrypted with a key of its own that CloudWatch Logs may use for this log
# group only: the regional logs service principal, conditioned on the encryption context naming the log
# group ("Encrypt log data in CloudWatch Logs using AWS KMS",
# https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/encrypt-log-data-kms.html). The log group's
# ARN is built, not read, so the key (which the log group needs first) can name it.

locals {
  log_group_arn = "arn:${var.partition}:logs:${var.region}:${var.account_id}:log-group:${var.name}"
  # A plain jsonencode() document so `terraform test` with a mocked provider can assert it.
  key_policy = {
    Version = "2012-10-17"
    Statement = [
      {
        Sid       = "AccountAdministers"
        Effect    = "Allow"
        Principal = { AWS = "arn:${var.partition}:iam::${var.account_id}:root" }
        Action    = "kms:*"
        Resource  = "*" # in a key policy "*" means this key
      },
      {
        Sid       = "CloudWatchLogsEncryptsThisLogGroupOnly"
        Effect    = "Allow"
        Principal = { Service = "logs.${var.region}.amazonaws.com" }
        Action    = ["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"]
        Resource  = "*"
        Condition = { ArnEquals = { "kms:EncryptionContext:aws:logs:arn" = local.log_group_arn } }
      },
    ]
  }
}

resource "aws_kms_key" "this" {
  description             = "Encrypts the ${var.name} log group"
  enable_key_rotation     = true
  deletion_window_in_days = var.kms_deletion_window_days
  policy                  = jsonencode(local.key_policy)
  tags                    = var.tags
}

resource "aws_cloudwatch_log_group" "this" {
  name              = var.name
  retention_in_days = var.retention_in_days
  kms_key_id        = aws_kms_key.this.arn
  tags              = var.tags
}
