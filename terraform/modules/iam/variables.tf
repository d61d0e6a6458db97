variable "name" {
  type        = string
  description = "Prefix of the role names (the project config's name)."

  validation {
    condition     = can(regex("^[a-zA-Z0-9][a-zA-Z0-9_+=,.@-]{0,39}$", var.name))
    error_message = "name must be 1-40 characters valid in IAM role names."
  }
}

variable "account_id" {
  type        = string
  description = "AWS account id; the Personalize trust policy only accepts calls from this account."

  validation {
    condition     = can(regex("^[0-9]{12}$", var.account_id))
    error_message = "account_id must be a 12-digit AWS account id."
  }
}

variable "region" {
  type        = string
  description = "AWS region of the Personalize resources (used in aws:SourceArn and log ARNs)."
}

variable "partition" {
  type        = string
  description = "AWS partition used in ARNs."
  default     = "aws"
}

variable "bucket_arn" {
  type        = string
  description = "ARN of the data bucket."

  validation {
    condition     = can(regex("^arn:[a-z-]+:s3:::[a-z0-9.-]+$", var.bucket_arn))
    error_message = "bucket_arn must be an S3 bucket ARN (arn:<partition>:s3:::<bucket>)."
  }
}

variable "kms_key_arn" {
  type        = string
  description = "ARN of the key that encrypts the bucket and the API-key parameter."
}

variable "import_prefix" {
  type        = string
  description = "Key prefix Personalize imports from."
}

variable "batch_input_prefix" {
  type        = string
  description = "Key prefix of batch inference input."
}

variable "batch_output_prefix" {
  type        = string
  description = "Key prefix Personalize writes batch output to."
}

variable "artifacts_prefix" {
  type        = string
  description = "Key prefix of the catalog and fallback artifacts the API reads."
}

variable "campaign_arns" {
  type        = list(string)
  description = "Campaigns the API may query (created by the scripts, so their ARNs are derived from names)."

  validation {
    condition     = alltrue([for a in var.campaign_arns : can(regex("^arn:[a-z-]+:personalize:[a-z0-9-]+:[0-9]{12}:campaign/[a-zA-Z0-9_-]+$", a))])
    error_message = "campaign_arns must be Personalize campaign ARNs; wildcards are not allowed."
  }
}

variable "filter_arns" {
  type        = list(string)
  description = "Filters the API may pass to GetRecommendations."

  validation {
    condition     = alltrue([for a in var.filter_arns : can(regex("^arn:[a-z-]+:personalize:[a-z0-9-]+:[0-9]{12}:filter/[a-zA-Z0-9_-]+$", a))])
    error_message = "filter_arns must be Personalize filter ARNs; wildcards are not allowed."
  }
}

variable "api_key_parameter_arn" {
  type        = string
  description = "ARN of the SSM SecureString parameter holding the API keys."
}

variable "api_function_prefix" {
  type        = string
  description = "Name prefix of the API's Lambda functions; their log groups are /aws/lambda/<prefix>*."
}

variable "create_api_role" {
  type        = bool
  description = "Create the API's Lambda role (off when the API runs elsewhere)."
  default     = true
}

variable "tags" {
  type        = map(string)
  description = "Tags added to every resource."
  default     = {}
}

variable "metric_attribution_prefix" {
  type        = string
  default     = null
  description = "Key prefix in the bucket where the metric attribution writes its reports; null when the config has no metric_attribution (no CloudWatch or S3 grant for it)."
}
