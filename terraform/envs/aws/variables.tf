variable "stage" {
  type        = string
  description = "Which instance of the AWS environment this is; selects config/project.yaml's overrides and names the state."

  validation {
    condition     = contains(["staging", "production"], var.stage)
    error_message = "stage must be staging or production."
  }
}

variable "prevent_destroy" {
  type        = bool
  description = "Keep the data bucket and its KMS key under lifecycle prevent_destroy; only `make destroy ... UNPROTECT=1` sets false."
  default     = true
}

variable "region" {
  type        = string
  description = "AWS region to deploy to (must offer Amazon Personalize)."

  validation {
    condition     = contains(["us-east-1", "us-east-2", "us-west-2", "ca-central-1", "eu-west-1", "eu-central-1", "ap-south-1", "ap-northeast-1", "ap-northeast-2", "ap-southeast-1", "ap-southeast-2", "cn-north-1"], var.region)
    error_message = "region must be one where Amazon Personalize is available."
  }
}

variable "state_replica_region" {
  type        = string
  description = "Region of the state's replica bucket. Read by envs/bootstrap, which creates it; declared here because both roots read the same stages/<stage>.tfvars."
}

variable "account_id" {
  type        = string
  description = "AWS account to deploy to; the provider refuses any other account's credentials."
}

variable "bucket_prefix" {
  type        = string
  description = "Prefix for the globally unique bucket names, ending in \"-\" (empty for none)."
  default     = ""
}

variable "tags" {
  type        = map(string)
  description = "Extra tags for every resource."
  default     = {}
}
