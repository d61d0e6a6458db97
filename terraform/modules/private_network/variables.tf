variable "name" {
  type        = string
  description = "Project name: prefix of the VPC, subnet, security group, role, key and log group names."
}

variable "partition" {
  type        = string
  description = "AWS partition used in ARNs (aws, aws-cn, aws-us-gov)."
  default     = "aws"
}

variable "region" {
  type        = string
  description = "AWS region of the VPC: the flow-log group's ARN and the CloudWatch Logs principal in its key's policy."
}

variable "account_id" {
  type        = string
  description = "Our AWS account: the only one whose principals and (for S3) resources the endpoints serve."
}

variable "cidr_block" {
  type        = string
  description = "IPv4 range of the VPC; each private subnet takes one sixteenth of it."
  default     = "10.20.0.0/16"

  validation {
    # A VPC's IPv4 block is /16 to /28 (https://docs.aws.amazon.com/vpc/latest/userguide/vpc-cidr-blocks.html);
    # split 16 ways, a subnet must stay at /28 or larger, so the VPC is /16 to /24.
    condition     = can(cidrhost(var.cidr_block, 0)) && can(regex("^[0-9.]+/(1[6-9]|2[0-4])$", var.cidr_block))
    error_message = "cidr_block must be an IPv4 CIDR block from /16 to /24 (a VPC is /16 to /28, and each of its 16 subnet slots must be at least /28)."
  }
}

variable "az_count" {
  type        = number
  description = "How many Availability Zones get a private subnet (and an ENI of each interface endpoint); Lambda spreads the function over them."
  default     = 2

  validation {
    condition     = var.az_count >= 1 && var.az_count <= 16 && floor(var.az_count) == var.az_count
    error_message = "az_count must be a whole number from 1 to 16 (the VPC range is split into 16 subnet slots)."
  }
}

variable "flow_log_retention_days" {
  type        = number
  description = "CloudWatch Logs retention of the VPC flow logs (one of CloudWatch Logs' values: modules/encrypted_log_group checks it)."
  default     = 365
}

variable "kms_deletion_window_days" {
  type        = number
  description = "Waiting period before the flow-log group's key is deleted after destroy (7-30: modules/encrypted_log_group checks it)."
  default     = 30
}
