variable "config_file" {
  type        = string
  description = "Path of the project config (config/project.yaml)."
}

variable "schema_root" {
  type        = string
  description = "Directory the config's schema paths are relative to (the repository root)."
}

variable "account_id" {
  type        = string
  description = "AWS account id the resources live in."

  validation {
    condition     = can(regex("^[0-9]{12}$", var.account_id))
    error_message = "account_id must be a 12-digit AWS account id."
  }
}

variable "region" {
  type        = string
  description = "AWS region."
}

variable "partition" {
  type        = string
  description = "AWS partition used in ARNs."
  default     = "aws"
}

variable "bucket_prefix" {
  type        = string
  description = "Prefix for the globally unique S3 bucket names (e.g. an organisation short name)."
  default     = ""

  validation {
    condition     = can(regex("^([a-z0-9][a-z0-9-]{0,19}-)?$", var.bucket_prefix))
    error_message = "bucket_prefix must be empty or up to 20 lower-case letters, digits and hyphens ending in \"-\"."
  }
}

variable "stage" {
  type        = string
  description = "The AWS stage (staging, production) whose overrides in the config apply; null for the local stack."
  default     = null
}

variable "prevent_destroy" {
  type        = bool
  description = "Protect the data bucket and its KMS key from destroy (lifecycle prevent_destroy); false only on the local stack or for a deliberate teardown."
  default     = true
}

variable "endpoint" {
  type        = string
  description = "The local stack's URL (the storage module's destroy guard calls S3 there); null in AWS."
  default     = null
}

variable "force_destroy" {
  type        = bool
  description = "Let destroy remove non-empty buckets (local stack and throw-away environments)."
  default     = false
}

variable "force_destroy_logs" {
  type        = bool
  description = "Let destroy remove the access-log bucket while it holds logs (local stack)."
  default     = false
}

variable "kms_deletion_window_days" {
  type        = number
  description = "Waiting period before the data key is deleted after destroy (7-30)."
  default     = 30
}

variable "create_api_role" {
  type        = bool
  description = "Create the API's Lambda role."
  default     = true
}

variable "tags" {
  type        = map(string)
  description = "Tags added to every resource."
  default     = {}
}
