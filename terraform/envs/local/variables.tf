variable "endpoint" {
  type        = string
  description = "URL of the local stack (every AWS service on one endpoint); pipeline.infra sets TF_VAR_endpoint from LOCAL_STACK_PORT."
  default     = "http://127.0.0.1:4566"

  validation {
    condition     = can(regex("^https?://[^/]+$", var.endpoint))
    error_message = "endpoint must be a scheme://host:port URL without a path."
  }
}

variable "region" {
  type        = string
  description = "Region the local stack emulates."
  default     = "us-east-1"
}

variable "account_id" {
  type        = string
  description = "Account id the local stack answers with."
  default     = "123456789012"
}

variable "config_file" {
  type        = string
  description = "Project config; defaults to config/project.yaml of this repository."
  default     = null
}

variable "force_destroy" {
  type        = bool
  description = "Let destroy empty the buckets (local buckets hold throw-away data); false to rehearse a destroy that must stop at a bucket holding objects."
  default     = true
}

variable "prevent_destroy" {
  type        = bool
  description = "Put the data bucket and its key under lifecycle prevent_destroy as in AWS (rehearses `make destroy ... UNPROTECT=1`); false: the local stack is thrown away with `make down`."
  default     = false
}
