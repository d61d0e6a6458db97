variable "bucket_name" {
  type        = string
  description = "Name of the state bucket (globally unique)."
}

variable "account_id" {
  type        = string
  description = "AWS account of the bucket: its key's administrator and the account replication writes for."
}

variable "region" {
  type        = string
  description = "Region of this bucket (the provider's): kms:ViaService in the replication role's key grants."
}

variable "partition" {
  type        = string
  description = "AWS partition used in ARNs (aws, aws-cn, aws-us-gov)."
  default     = "aws"
}

variable "access_log_bucket" {
  type        = string
  description = "Bucket in the same region that receives this bucket's S3 server access logs (S3 delivers only within a region)."
}

variable "access_log_prefix" {
  type        = string
  description = "Key prefix of this bucket's access logs in access_log_bucket."
  default     = "access/"
}

variable "peer" {
  type = object({
    bucket_arn  = string
    region      = string
    kms_key_arn = string
  })
  description = "The other bucket of the pair, in another region: every object version and delete marker is replicated to it, encrypted with its key."
}

variable "noncurrent_state_days" {
  type        = number
  description = "Days superseded state versions are kept (to roll back a bad apply)."
  default     = 90

  validation {
    condition     = var.noncurrent_state_days >= 1 && floor(var.noncurrent_state_days) == var.noncurrent_state_days
    error_message = "noncurrent_state_days must be a whole number of days, at least 1 (S3 lifecycle expiration)."
  }
}

variable "kms_deletion_window_days" {
  type        = number
  description = "Waiting period before a scheduled deletion of the bucket's key takes effect."
  default     = 30
}

variable "tags" {
  type        = map(string)
  description = "Extra tags for every resource."
  default     = {}
}
