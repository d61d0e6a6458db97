output "vpc_id" {
  description = "The private VPC."
  value       = aws_vpc.this.id
}

output "subnet_ids" {
  description = "The private subnets, one per Availability Zone: the function's vpc_config subnet_ids."
  value       = aws_subnet.private[*].id
}

output "endpoints_security_group_id" {
  description = "Security group of the interface endpoints, without rules: a consumer adds an HTTPS ingress rule from its own group."
  value       = aws_security_group.endpoints.id
}

output "interface_endpoint_ids" {
  description = "Interface endpoint ids by service (personalize, personalize-events, xray)."
  value       = { for service, endpoint in aws_vpc_endpoint.interface : service => endpoint.id }
}

output "s3_prefix_list_id" {
  description = "Prefix list of S3 in the region: a consumer's security group allows HTTPS egress to it (gateway endpoint)."
  value       = aws_vpc_endpoint.s3.prefix_list_id
}

output "s3_endpoint_id" {
  description = "The S3 gateway endpoint."
  value       = aws_vpc_endpoint.s3.id
}

output "flow_log_group_name" {
  description = "CloudWatch Logs group holding the VPC's flow logs."
  value       = module.flow_log_group.name
}
