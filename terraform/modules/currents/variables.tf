variable "name" {
  type        = string
  description = "Project name: prefix of the function, role, queue and log group names."
}

variable "bucket_name" {
  type        = string
  description = "The data bucket Braze Currents writes to (and where the bridge keeps its state)."
}

variable "kms_key_arn" {
  type        = string
  description = "KMS key of the data bucket (SSE-KMS): the function reads and writes objects with it."
}

variable "partition" {
  type        = string
  description = "AWS partition used in ARNs (aws, aws-cn, aws-us-gov)."
  default     = "aws"
}

variable "region" {
  type        = string
  description = "AWS region of the function: the ARNs of its log group and EventBridge rule, and the CloudWatch Logs principal (logs.<region>.amazonaws.com) in its key's policy."
}

variable "account_id" {
  type        = string
  description = "AWS account of the bucket and the function: the ARNs of the EventBridge rule, the log group and the key policies."
}

variable "currents" {
  type = object({
    prefix             = string
    quarantine_prefix  = string
    state_prefix       = string
    bulk_prefix        = string
    session_suffix     = optional(string, "-braze")
    put_events_workers = optional(number, 8)
    events             = any
  })
  description = "The config's `currents` section (config/project.yaml): prefixes and the event mapping."

  validation {
    condition     = can(regex("^[a-zA-Z0-9!_.*'()-][a-zA-Z0-9!_.*'()/-]*/$", var.currents.prefix))
    error_message = "currents.prefix must be a non-empty relative key prefix ending in \"/\": the EventBridge rule matches new .avro objects under it, and an empty prefix would match every .avro in the bucket, including the files the bridge moves into quarantine."
  }
}

variable "tracking_id" {
  type        = string
  description = "The event tracker's tracking ID (PutEvents)."
}

variable "event_tracker_arn" {
  type        = string
  description = "The event tracker's ARN (scopes personalize:PutEvents)."
}

variable "dataset_group_arn" {
  type        = string
  description = "Dataset group users.UserDeleteRequest events delete users from (CreateDataDeletionJob)."
}

variable "personalize_role_arn" {
  type        = string
  description = "Role Personalize assumes to read the deletion CSV; the function passes it (iam:PassRole)."
}

variable "forget_prefixes" {
  type        = list(string)
  description = "S3 prefixes of our copies of the data (imports, bulk): a forgotten user's rows are removed there."
}

variable "package_file" {
  type        = string
  description = "Zip of the function: the pipeline package plus fastavro for the Lambda runtime (`make currents-package`)."
}

variable "package_sha256" {
  type        = string
  description = "base64 SHA-256 of package_file (filebase64sha256), so a new package redeploys; null when unknown."
  default     = null
}

variable "runtime" {
  type        = string
  description = "Lambda Python runtime; the package's fastavro wheel must match it."
  default     = "python3.12"
}

variable "timeout_seconds" {
  type        = number
  description = "Function timeout: one Currents file holds up to 100,000 events."
  default     = 900
}

variable "memory_mb" {
  type        = number
  description = "Function memory (also buys CPU for Avro decoding)."
  default     = 1024
}

variable "log_retention_days" {
  type        = number
  description = "CloudWatch Logs retention of the function's log group (one of CloudWatch Logs' values: modules/encrypted_log_group checks it)."
  default     = 365
}

variable "kms_deletion_window_days" {
  type        = number
  description = "Waiting period before the log group's and the dead-letter queue's keys are deleted after destroy."
  default     = 30

  validation {
    condition     = var.kms_deletion_window_days >= 7 && var.kms_deletion_window_days <= 30
    error_message = "kms_deletion_window_days must be between 7 and 30 (the KMS limits)."
  }
}

variable "package_prefix" {
  type        = string
  description = "Key prefix in the data bucket for the function's package: <prefix>unsigned/ as uploaded, <prefix>signed/ as AWS Signer writes it. Outside the bridge's prefixes (checked) and the data lifecycle rules' prefixes."
  default     = "code/currents-bridge/"

  validation {
    condition     = can(regex("^[a-zA-Z0-9!_.*'()-][a-zA-Z0-9!_.*'()/-]*/$", var.package_prefix))
    error_message = "package_prefix must be a non-empty relative key prefix ending in \"/\"."
  }
}

variable "signature_validity_months" {
  type        = number
  description = "How long a package signature stays valid (135: AWS Signer's default). Lambda refuses to deploy a package whose signature has expired; code already deployed keeps running."
  default     = 135
}

variable "reserved_prefixes" {
  type        = list(string)
  description = "The data bucket's prefixes that belong to others (Personalize's import and batch prefixes, whose lifecycle rules expire objects; the API's artifacts): package_prefix must stay out of them."
  default     = []
}

variable "subnet_ids" {
  type        = list(string)
  description = "Private subnets the function runs in (modules/private_network's subnet_ids): its only network."

  validation {
    # An empty list would detach the function from the VPC; Lambda takes at most 16 subnets
    # (VpcConfig, https://docs.aws.amazon.com/lambda/latest/api/API_VpcConfig.html).
    condition     = length(var.subnet_ids) >= 1 && length(var.subnet_ids) <= 16
    error_message = "subnet_ids must name 1 to 16 subnets (an empty list would take the function out of the VPC)."
  }
}

variable "vpc_id" {
  type        = string
  description = "The private VPC of subnet_ids (modules/private_network's vpc_id): the function's security group lives there."
}

variable "endpoints_security_group_id" {
  type        = string
  description = "Security group of the VPC's interface endpoints (modules/private_network): the function may reach it on 443, and it admits the function."
}

variable "s3_prefix_list_id" {
  type        = string
  description = "Prefix list of S3 in the region (modules/private_network's s3_prefix_list_id): the function reaches S3 through the gateway endpoint."
}

variable "delivery_max_age_seconds" {
  type        = number
  description = "How long EventBridge keeps retrying to hand a new-file event to the function before it goes to the dead-letter queue."
  default     = 86400

  validation {
    condition     = var.delivery_max_age_seconds >= 60 && var.delivery_max_age_seconds <= 86400
    error_message = "delivery_max_age_seconds must be between 60 and 86400 (EventBridge's retry policy limits)."
  }
}

variable "delivery_max_retries" {
  type        = number
  description = "How many times EventBridge retries handing a new-file event to the function."
  default     = 185

  validation {
    condition     = var.delivery_max_retries >= 0 && var.delivery_max_retries <= 185
    error_message = "delivery_max_retries must be between 0 and 185 (EventBridge's retry policy limits)."
  }
}
