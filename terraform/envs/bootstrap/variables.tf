# The same variables as envs/aws, so `make bootstrap ENV=aws STAGE=<stage>` reads stages/<stage>.tfvars.

variable "stage" {
  type        = string
  description = "The stage whose state this bucket holds (staging, production)."

  validation {
    condition     = contains(["staging", "production"], var.stage)
    error_message = "stage must be staging or production."
  }
}

variable "region" {
  type        = string
  description = "Region of the state bucket (the stage's region)."
}

variable "state_replica_region" {
  type        = string
  description = "Second region of the state: the state bucket is replicated both ways with a bucket there (failover: terraform/README.md)."

  validation {
    condition     = can(regex("^[a-z]{2}(-[a-z]+)+-[0-9]$", var.state_replica_region)) && var.state_replica_region != var.region
    error_message = "state_replica_region must be an AWS region name other than region: the replica protects the state from an outage of the stage's region."
  }
}

variable "account_id" {
  type        = string
  description = "AWS account of the stage; the provider refuses any other account's credentials."

  validation {
    condition     = can(regex("^[0-9]{12}$", var.account_id))
    error_message = "account_id must be a 12-digit AWS account id."
  }
}

variable "bucket_prefix" {
  type        = string
  description = "Prefix for the globally unique bucket name, ending in \"-\" (empty for none)."
  default     = ""

  validation {
    condition     = can(regex("^([a-z0-9][a-z0-9-]{0,19}-)?$", var.bucket_prefix))
    error_message = "bucket_prefix must be empty or up to 20 lower-case letters, digits and hyphens ending in \"-\"."
  }
}

variable "tags" {
  type        = map(string)
  description = "Extra tags for every resource."
  default     = {}
}

variable "noncurrent_state_days" {
  type        = number
  description = "Days superseded state versions are kept (to roll back a bad apply)."
  default     = 90
}
