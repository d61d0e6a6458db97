output "vpc_id" {
  description = "The private VPC."
  value       = aws_vpc.this.id
}

output "subnet_ids" {
  description = "The private subnets, one per Availability Zone: the function's vpc_config subnet_ids."
  value       = aws_subnet.private[*].id
}

output "function_security_group_id" {
  description = "Security group for the function (HTTPS out to the endpoints and S3 only): its vpc_config security_group_ids."
  value       = aws_security_group.function.id
}

output "endpoints_security_group_id" {
  description = "Security group of the interface endpoints (HTTPS in from the function's group only)."
  value       = aws_security_group.endpoints.id
}

output "interface_endpoint_ids" {
  description = "Interface endpoint ids by service (personalize, personalize-events, xray)."
  value       = { for service, endpoint in aws_vpc_endpoint.interface : service => endpoint.id }
}

output "s3_endpoint_id" {
  description = "The S3 gateway endpoint."
  value       = aws_vpc_endpoint.s3.id
}

output "flow_log_group_name" {
  description = "CloudWatch Logs group holding the VPC's flow logs."
  value       = aws_cloudwatch_log_group.flow_logs.name
}
