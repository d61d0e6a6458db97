mock_provider "aws" {
  mock_data "aws_vpc_endpoint_service" {
    defaults = {
      availability_zones            = ["eu-west-1a", "eu-west-1b", "eu-west-1c"]
      vpc_endpoint_policy_supported = true
    }
  }
  mock_resource "aws_cloudwatch_log_group" {
    defaults = { arn = "arn:aws:logs:eu-west-1:123456789012:log-group:/aws/vpc-flow-logs/acme-recs-private" }
  }
  mock_resource "aws_iam_role" {
    defaults = { arn = "arn:aws:iam::123456789012:role/acme-recs-private-flow-logs" }
  }
  mock_resource "aws_kms_key" {
    defaults = { arn = "arn:aws:kms:eu-west-1:123456789012:key/0000" }
  }
  mock_resource "aws_vpc_endpoint" {
    defaults = { prefix_list_id = "pl-6da54004" }
  }
}

# Each endpoint service's name as DescribeVpcEndpointServices reports it in eu-west-1.
override_data {
  target = data.aws_vpc_endpoint_service.interface["personalize-events"]
  values = { service_name = "com.amazonaws.eu-west-1.personalize-events", availability_zones = ["eu-west-1a", "eu-west-1b", "eu-west-1c"], vpc_endpoint_policy_supported = true }
}
override_data {
  target = data.aws_vpc_endpoint_service.interface["personalize"]
  values = { service_name = "com.amazonaws.eu-west-1.personalize", availability_zones = ["eu-west-1a", "eu-west-1b", "eu-west-1c"], vpc_endpoint_policy_supported = true }
}
override_data {
  target = data.aws_vpc_endpoint_service.interface["xray"]
  values = { service_name = "com.amazonaws.eu-west-1.xray", availability_zones = ["eu-west-1a", "eu-west-1b", "eu-west-1c"], vpc_endpoint_policy_supported = true }
}
override_data {
  target = data.aws_vpc_endpoint_service.s3
  values = { service_name = "com.amazonaws.eu-west-1.s3", availability_zones = [], vpc_endpoint_policy_supported = true }
}

variables {
  name       = "acme-recs"
  region     = "eu-west-1"
  account_id = "123456789012"
}

run "the_subnets_have_no_route_to_the_internet" {
  command = apply

  assert {
    condition     = length(aws_route_table.private.route) == 0 && alltrue([for r in aws_route_table.private.route : r.cidr_block != "0.0.0.0/0"])
    error_message = "the private route table has no route besides the implicit local one (no internet gateway, no NAT)"
  }
  assert {
    condition     = length(aws_route_table_association.private) == 2 && alltrue([for a in aws_route_table_association.private : a.route_table_id == aws_route_table.private.id])
    error_message = "every private subnet uses the route table without internet routes"
  }
  assert {
    condition     = alltrue([for s in aws_subnet.private : !s.map_public_ip_on_launch])
    error_message = "nothing in the subnets gets a public address"
  }
  assert {
    condition     = aws_vpc_endpoint.s3.vpc_endpoint_type == "Gateway" && aws_vpc_endpoint.s3.route_table_ids == toset([aws_route_table.private.id])
    error_message = "S3 is reached through a gateway endpoint on the private route table"
  }
}

run "the_subnets_spread_over_az_count_zones" {
  command = plan

  assert {
    condition     = [for s in aws_subnet.private : s.availability_zone] == ["eu-west-1a", "eu-west-1b"]
    error_message = "two subnets by default, in two different zones"
  }
  assert {
    condition     = [for s in aws_subnet.private : s.cidr_block] == ["10.20.0.0/20", "10.20.16.0/20"]
    error_message = "each subnet takes a sixteenth of the VPC range"
  }
}

run "the_subnets_go_only_where_every_endpoint_service_is_offered" {
  command   = plan
  state_key = "new_vpc" # placed subnets stay where they are (ignore_changes): plan a new VPC

  override_data {
    target = data.aws_vpc_endpoint_service.interface["personalize"]
    values = { service_name = "com.amazonaws.eu-west-1.personalize", availability_zones = ["eu-west-1b", "eu-west-1c"], vpc_endpoint_policy_supported = true }
  }

  assert {
    condition     = [for s in aws_subnet.private : s.availability_zone] == ["eu-west-1b", "eu-west-1c"]
    error_message = "a zone without a Personalize endpoint gets no subnet"
  }
}

run "refuses_more_zones_than_offer_the_endpoints" {
  command = plan
  variables {
    az_count = 3
  }

  override_data {
    target = data.aws_vpc_endpoint_service.interface["xray"]
    values = { service_name = "com.amazonaws.eu-west-1.xray", availability_zones = ["eu-west-1a", "eu-west-1b"], vpc_endpoint_policy_supported = true }
  }

  expect_failures = [aws_subnet.private]
}

run "the_bridges_services_have_interface_endpoints_with_private_dns" {
  command = apply

  assert {
    condition = toset([for e in aws_vpc_endpoint.interface : e.service_name]) == toset([
      "com.amazonaws.eu-west-1.personalize-events",
      "com.amazonaws.eu-west-1.personalize",
      "com.amazonaws.eu-west-1.xray",
    ])
    error_message = "PutEvents, the data deletion jobs and X-Ray each have an endpoint"
  }
  assert {
    condition     = alltrue([for e in aws_vpc_endpoint.interface : e.private_dns_enabled && e.vpc_endpoint_type == "Interface"])
    error_message = "the SDK's default hostnames resolve to the endpoints (private DNS)"
  }
  assert {
    condition     = alltrue([for e in aws_vpc_endpoint.interface : e.subnet_ids == toset(aws_subnet.private[*].id) && e.security_group_ids == toset([aws_security_group.endpoints.id])])
    error_message = "each endpoint has an address in every private subnet, behind the endpoints' security group"
  }
  assert {
    condition     = aws_vpc.this.enable_dns_support && aws_vpc.this.enable_dns_hostnames
    error_message = "private DNS needs the VPC's DNS support and hostnames"
  }
}

run "endpoint_policies_admit_only_our_account_and_the_bridges_calls" {
  command = apply

  assert {
    condition     = jsondecode(aws_vpc_endpoint.interface["personalize-events"].policy).Statement[0].Action == ["personalize:PutEvents"]
    error_message = "the Personalize Events endpoint carries PutEvents only"
  }
  assert {
    condition     = alltrue([for e in aws_vpc_endpoint.interface : jsondecode(e.policy).Statement[0].Condition.StringEquals["aws:PrincipalAccount"] == "123456789012"])
    error_message = "only our account's principals use the interface endpoints"
  }
  assert {
    condition     = jsondecode(aws_vpc_endpoint.s3.policy).Statement[0].Condition.StringEquals == { "aws:PrincipalAccount" = "123456789012", "aws:ResourceAccount" = "123456789012" }
    error_message = "the S3 endpoint serves our principals and our account's buckets only"
  }
}

run "a_service_without_endpoint_policies_gets_none" {
  command = plan

  override_data {
    target = data.aws_vpc_endpoint_service.interface["xray"]
    values = { service_name = "com.amazonaws.eu-west-1.xray", availability_zones = ["eu-west-1a", "eu-west-1b", "eu-west-1c"], vpc_endpoint_policy_supported = false }
  }

  assert {
    condition     = local.interface_policies["xray"] == null && local.interface_policies["personalize"] == aws_vpc_endpoint.interface["personalize"].policy
    error_message = "AWS rejects a policy on an endpoint whose service does not support one"
  }
}

run "the_endpoints_security_group_admits_nothing_by_itself" {
  command = apply

  assert {
    condition     = length(aws_security_group.endpoints.ingress) == 0 && length(aws_security_group.endpoints.egress) == 0
    error_message = "the endpoints' group has no rules of its own: consumers grant their groups"
  }
  assert {
    condition     = output.s3_prefix_list_id == aws_vpc_endpoint.s3.prefix_list_id && output.endpoints_security_group_id == aws_security_group.endpoints.id
    error_message = "consumers get the S3 prefix list and the endpoints' group for their own rules"
  }
}

run "the_default_security_group_allows_nothing" {
  command = apply

  assert {
    condition     = aws_default_security_group.this.vpc_id == aws_vpc.this.id && length(aws_default_security_group.this.ingress) == 0 && length(aws_default_security_group.this.egress) == 0
    error_message = "the VPC's default security group is adopted with no rules"
  }
}

run "flow_logs_record_all_traffic_in_an_encrypted_log_group_for_a_year" {
  command = apply

  assert {
    condition     = aws_flow_log.this.vpc_id == aws_vpc.this.id && aws_flow_log.this.traffic_type == "ALL" && aws_flow_log.this.log_destination == module.flow_log_group.arn
    error_message = "the VPC's accepted and rejected traffic goes to the flow-log group"
  }
  assert {
    condition     = jsondecode(module.flow_log_group.key_policy_json).Statement[1].Condition.ArnEquals["kms:EncryptionContext:aws:logs:arn"] == "arn:aws:logs:eu-west-1:123456789012:log-group:/aws/vpc-flow-logs/acme-recs-private"
    error_message = "CloudWatch Logs may use the key for the flow-log group only"
  }
  assert {
    condition     = jsondecode(aws_iam_role.flow_logs.assume_role_policy).Statement[0].Condition.StringEquals["aws:SourceAccount"] == "123456789012" && jsondecode(aws_iam_role.flow_logs.assume_role_policy).Statement[0].Principal.Service == "vpc-flow-logs.amazonaws.com"
    error_message = "only our account's flow logs assume the publishing role"
  }
  assert {
    condition     = jsondecode(aws_iam_role_policy.flow_logs.policy).Statement[0].Resource == "arn:aws:logs:eu-west-1:123456789012:log-group:/aws/vpc-flow-logs/acme-recs-private:*"
    error_message = "the role writes the flow-log group only"
  }
}

run "rejects_a_vpc_range_too_small_to_split" {
  command = plan
  variables {
    cidr_block = "10.20.0.0/26"
  }
  expect_failures = [var.cidr_block]
}

run "rejects_zero_zones" {
  command = plan
  variables {
    az_count = 0
  }
  expect_failures = [var.az_count]
}

run "placed_subnets_stay_when_another_zone_starts_offering_the_endpoints" {
  command = plan

  override_data {
    target = data.aws_vpc_endpoint_service.interface["personalize"]
    values = { service_name = "com.amazonaws.eu-west-1.personalize", availability_zones = ["eu-west-1b", "eu-west-1c"], vpc_endpoint_policy_supported = true }
  }

  assert {
    condition     = [for s in aws_subnet.private : s.availability_zone] == ["eu-west-1a", "eu-west-1b"]
    error_message = "existing subnets (and the function's network interfaces in them) are not replaced"
  }
}
