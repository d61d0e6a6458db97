variable "bucket_name" {
  type        = string
  description = "Name of the access-log bucket (callers use \"<source bucket>-logs\")."

  # S3's naming rules for general purpose buckets
  # (https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html): 3-63 characters,
  # lower-case letters, digits, dots and hyphens, starting and ending with a letter or digit.
  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.bucket_name))
    error_message = "bucket_name must be 3-63 lower-case letters, digits, dots or hyphens, starting and ending with a letter or digit (S3 bucket naming rules)."
  }
}

variable "account_id" {
  type        = string
  description = "AWS account that owns the source buckets; the log-delivery grant admits S3 only for it (aws:SourceAccount)."

  validation {
    condition     = can(regex("^[0-9]{12}$", var.account_id))
    error_message = "account_id must be a 12-digit AWS account id."
  }
}

variable "source_bucket_arns" {
  type        = list(string)
  description = "ARNs of the buckets whose server access logs land here; the log-delivery grant admits S3 only for them (aws:SourceArn)."

  # An empty list would leave a grant nobody can use; anything but a bucket ARN would never match the
  # aws:SourceArn S3 sends with a delivery (the source bucket's ARN).
  validation {
    condition     = length(var.source_bucket_arns) > 0 && alltrue([for arn in var.source_bucket_arns : can(regex("^arn:aws[a-z-]*:s3:::[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", arn))])
    error_message = "source_bucket_arns must list at least one S3 bucket ARN (arn:<partition>:s3:::<bucket>)."
  }
}

variable "target_prefix" {
  type        = string
  description = "Key prefix the source buckets' logs are delivered under (their aws_s3_bucket_logging target_prefix); the grant covers only it."
  default     = "access/"

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9_/-]*/$", var.target_prefix))
    error_message = "target_prefix must be a relative key prefix ending in \"/\"."
  }
}

variable "expiration_days" {
  type        = number
  description = "Days the access logs are kept."
  default     = 365

  # S3 refuses a lifecycle expiration that is not a positive whole number of days.
  validation {
    condition     = var.expiration_days >= 1 && floor(var.expiration_days) == var.expiration_days
    error_message = "expiration_days must be a whole number of days, at least 1."
  }
}

variable "force_destroy" {
  type        = bool
  description = "Allow destroying the bucket while it holds logs (local stack; in AWS, keep the logs unless you mean to drop them)."
  default     = false
}

variable "partition" {
  type        = string
  description = "AWS partition used in the bucket's ARN (aws, aws-cn, aws-us-gov)."
  default     = "aws"
}

variable "tags" {
  type        = map(string)
  description = "Tags added to the bucket."
  default     = {}
}
