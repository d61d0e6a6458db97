variable "bucket_name" {
  type        = string
  description = "Name of the data bucket (imports, batch input/output, API artifacts)."

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9.-]{1,57}[a-z0-9]$", var.bucket_name))
    error_message = "bucket_name must be 3-59 lower-case letters, digits, dots or hyphens (the log bucket adds \"-logs\")."
  }
}

variable "account_id" {
  type        = string
  description = "AWS account that owns the buckets; scopes the Personalize and log-delivery grants (aws:SourceAccount)."

  validation {
    condition     = can(regex("^[0-9]{12}$", var.account_id))
    error_message = "account_id must be a 12-digit AWS account id."
  }
}

variable "region" {
  type        = string
  description = "AWS region of the bucket; scopes the Personalize grants (aws:SourceArn) and the destroy guard's S3 calls."
}

variable "endpoint" {
  type        = string
  description = "Endpoint the destroy guard calls S3 at (the local stack's URL); null in AWS."
  default     = null
}

variable "prevent_destroy" {
  type        = bool
  description = "Protect the data bucket and its KMS key with lifecycle prevent_destroy (true for every real environment; false on the local stack or for a deliberate teardown)."
  default     = true
}

variable "partition" {
  type        = string
  description = "AWS partition used in ARNs (aws, aws-cn, aws-us-gov)."
  default     = "aws"
}

variable "import_prefix" {
  type        = string
  description = "Key prefix Personalize reads dataset import files from."
  default     = "imports/"

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9_/-]*/$", var.import_prefix))
    error_message = "import_prefix must be a relative key prefix ending in \"/\"."
  }
}

variable "batch_input_prefix" {
  type        = string
  description = "Key prefix Personalize reads batch inference input from."
  default     = "batch/input/"

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9_/-]*/$", var.batch_input_prefix))
    error_message = "batch_input_prefix must be a relative key prefix ending in \"/\"."
  }
}

variable "batch_output_prefix" {
  type        = string
  description = "Key prefix Personalize writes batch inference output to."
  default     = "batch/output/"

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9_/-]*/$", var.batch_output_prefix))
    error_message = "batch_output_prefix must be a relative key prefix ending in \"/\"."
  }
}

variable "batch_output_expiration_days" {
  type        = number
  description = "Days after which batch output objects expire."
  default     = 30

  validation {
    condition     = var.batch_output_expiration_days >= 1 && floor(var.batch_output_expiration_days) == var.batch_output_expiration_days
    error_message = "batch_output_expiration_days must be a whole number of days, at least 1."
  }
}

variable "import_noncurrent_expiration_days" {
  type        = number
  description = "Days after which superseded (noncurrent) import files are deleted."
  default     = 90

  validation {
    condition     = var.import_noncurrent_expiration_days >= 1 && floor(var.import_noncurrent_expiration_days) == var.import_noncurrent_expiration_days
    error_message = "import_noncurrent_expiration_days must be a whole number of days, at least 1."
  }
}

variable "log_expiration_days" {
  type        = number
  description = "Days the access logs are kept."
  default     = 365
}

variable "force_destroy" {
  type        = bool
  description = "Allow destroying the buckets while they still hold objects (local stack and throw-away environments only)."
  default     = false
}

variable "force_destroy_logs" {
  type        = bool
  description = "Allow destroying the access-log bucket while it holds logs (local stack; in AWS, keep the logs unless you mean to drop them)."
  default     = false
}

variable "kms_deletion_window_days" {
  type        = number
  description = "Waiting period before the data key is deleted after destroy."
  default     = 30

  validation {
    condition     = var.kms_deletion_window_days >= 7 && var.kms_deletion_window_days <= 30
    error_message = "kms_deletion_window_days must be between 7 and 30 (the KMS limits)."
  }
}

variable "tags" {
  type        = map(string)
  description = "Tags added to every resource."
  default     = {}
}
