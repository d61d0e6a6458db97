variable "config_file" {
  type        = string
  description = "Path of the project config (config/project.yaml): the single source of names, recipes, hyperparameters and filters."

  validation {
    condition     = fileexists(var.config_file)
    error_message = "config_file must point to an existing project config file."
  }
}

variable "schema_root" {
  type        = string
  description = "Directory the config's dataset schema paths are relative to (the repository root)."
}

variable "stack_name" {
  type        = string
  description = "Name of the CloudFormation stack; defaults to <config name>-personalize."
  default     = null

  validation {
    condition     = var.stack_name == null || can(regex("^[a-zA-Z][-a-zA-Z0-9]{0,127}$", var.stack_name))
    error_message = "stack_name must start with a letter and hold only letters, digits and hyphens (max 128)."
  }
}

variable "tags" {
  type        = map(string)
  description = "Tags added to the stack (CloudFormation propagates them to the resources)."
  default     = {}
}

variable "metric_attribution_role_arn" {
  type        = string
  default     = null
  description = "Role Personalize assumes to publish the config's metric_attribution (CloudWatch, and S3 when metric_attribution_output_path is set); null leaves the metric attribution out."
}

variable "metric_attribution_output_path" {
  type        = string
  default     = null
  description = "s3://bucket/prefix/ where Personalize writes metric attribution reports of bulk imports; null publishes to CloudWatch only."

  validation {
    condition     = var.metric_attribution_output_path == null || can(regex("^s3://[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](/.*)?$", var.metric_attribution_output_path))
    error_message = "metric_attribution_output_path must be an s3://bucket/prefix path."
  }
}
