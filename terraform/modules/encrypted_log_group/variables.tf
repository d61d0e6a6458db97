variable "name" {
  type        = string
  description = "Name of the log group (e.g. /aws/lambda/<function>)."
}

variable "retention_in_days" {
  type        = number
  description = "Days the log events are kept."
  default     = 365

  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.retention_in_days)
    error_message = "retention_in_days must be one of the values CloudWatch Logs accepts (1, 3, 5, 7, 14, 30, 60, 90, ...)."
  }
}

variable "kms_deletion_window_days" {
  type        = number
  description = "Waiting period before a scheduled deletion of the key takes effect."
  default     = 30

  validation {
    condition     = var.kms_deletion_window_days >= 7 && var.kms_deletion_window_days <= 30
    error_message = "kms_deletion_window_days must be between 7 and 30 (the KMS limits)."
  }
}

variable "account_id" {
  type        = string
  description = "AWS account of the log group: it administers the key."
}

variable "region" {
  type        = string
  description = "Region of the log group: its ARN and the CloudWatch Logs principal (logs.<region>.amazonaws.com) in the key's policy."
}

variable "partition" {
  type        = string
  description = "AWS partition used in ARNs (aws, aws-cn, aws-us-gov)."
  default     = "aws"
}

variable "tags" {
  type        = map(string)
  description = "Extra tags for the key and the log group."
  default     = {}
}
