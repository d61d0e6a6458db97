# A VPC with no route to the internet for the Currents bridge Lambda: private subnets (no internet
# gateway, no NAT), an S3 gateway endpoint on their route table, and interface endpoints with private DNS
# for the other AWS APIs the bridge calls. Flow logs record every accepted and rejected connection.
#
# A function attached to a VPC reaches only what the VPC routes to ("Giving Lambda functions access to
# resources in an Amazon VPC", https://docs.aws.amazon.com/lambda/latest/dg/configuration-vpc.html);
# AWS services without internet access go through VPC endpoints
# (https://docs.aws.amazon.com/lambda/latest/dg/configuration-vpc-internet.html and
# https://docs.aws.amazon.com/vpc/latest/privatelink/privatelink-access-aws-services.html).

locals {
  # The interface endpoints and the calls that travel through them (scripts/pipeline/currents/):
  # - personalize-events: PutEvents (bridge.py), the Personalize Events API;
  # - personalize: Create/Describe/ListDataDeletionJob(s) (pipeline/forget.py, users.UserDeleteRequest);
  # - xray: trace segments sent from the function's execution environment (tracing_config Active).
  # Service names com.amazonaws.<region>.personalize, .personalize-events and .xray: "AWS services that
  # integrate with AWS PrivateLink" (https://docs.aws.amazon.com/vpc/latest/privatelink/aws-services-privatelink-support.html),
  # "Amazon Personalize and interface VPC endpoints" (https://docs.aws.amazon.com/personalize/latest/dg/vpc-interface-endpoints.html),
  # "Using AWS X-Ray with VPC endpoints" (https://docs.aws.amazon.com/xray/latest/devguide/xray-security-vpc-endpoint.html).
  interface_actions = {
    "personalize-events" = ["personalize:PutEvents"]
    "personalize"        = ["personalize:CreateDataDeletionJob", "personalize:DescribeDataDeletionJob", "personalize:ListDataDeletionJobs"]
    "xray"               = ["xray:PutTraceSegments", "xray:PutTelemetryRecords"]
  }
  # The S3 calls of the bridge and of pipeline/forget.py (GetObject, PutObject, DeleteObject with and
  # without a version, ListObjectsV2, ListObjectVersions).
  s3_actions = ["s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:DeleteObjectVersion", "s3:ListBucket", "s3:ListBucketVersions"]

  # Interface endpoints are not offered in every Availability Zone of a region: the subnets go only
  # where all three are ("Interface endpoint Availability Zone considerations" in the PrivateLink guide),
  # the first az_count of them by name. These are regular zones: Local and Wavelength Zones offer no
  # interface endpoints.
  offered_zones = sort(setintersection(
    [for service in data.aws_vpc_endpoint_service.interface : toset(service.availability_zones)]...
  ))
  zones = slice(local.offered_zones, 0, min(var.az_count, length(local.offered_zones)))

  flow_log_group_name = "/aws/vpc-flow-logs/${var.name}-private"
}

# Each service's name (partition-specific: cn.com.amazonaws.* in China), its zones and whether it
# accepts an endpoint policy, as DescribeVpcEndpointServices reports them.
data "aws_vpc_endpoint_service" "interface" {
  for_each     = local.interface_actions
  service      = each.key
  service_type = "Interface"
}

data "aws_vpc_endpoint_service" "s3" {
  service      = "s3"
  service_type = "Gateway"
}

resource "aws_vpc" "this" {
  cidr_block = var.cidr_block
  # Private DNS of interface endpoints needs both attributes
  # (https://docs.aws.amazon.com/vpc/latest/privatelink/privatelink-access-aws-services.html#private-dns).
  enable_dns_support   = true
  enable_dns_hostnames = true

  tags = { Name = "${var.name}-private" }
}

# Adopting the default security group removes all its rules: anything launched without a security group
# of its own gets no traffic in or out
# (https://docs.aws.amazon.com/vpc/latest/userguide/default-security-group.html).
resource "aws_default_security_group" "this" {
  vpc_id = aws_vpc.this.id

  tags = { Name = "${var.name}-private-default-unused" }
}

resource "aws_subnet" "private" {
  count                   = length(local.zones)
  vpc_id                  = aws_vpc.this.id
  availability_zone       = local.zones[count.index]
  cidr_block              = cidrsubnet(var.cidr_block, 4, count.index)
  map_public_ip_on_launch = false

  tags = { Name = "${var.name}-private-${local.zones[count.index]}" }

  lifecycle {
    # Placed once: a zone that later starts offering all three services (and sorts first) must not move
    # the subnets, which would replace them and the function's network interfaces.
    ignore_changes = [availability_zone]

    precondition {
      condition     = length(local.offered_zones) >= var.az_count
      error_message = "Only ${length(local.offered_zones)} Availability Zones of ${var.region} offer all of ${join(", ", keys(local.interface_actions))} endpoints; lower az_count."
    }
  }
}

# No route besides the implicit local one: no internet gateway, no NAT. `route = []` makes Terraform
# remove any route added outside it; the S3 gateway endpoint's prefix-list route is managed by the
# endpoint (the provider skips prefix-list routes to vpce-* targets: terraform-provider-aws
# internal/service/ec2/vpc_route_table.go, "VPC endpoint routes are handled separately").
resource "aws_route_table" "private" {
  vpc_id = aws_vpc.this.id
  route  = []

  tags = { Name = "${var.name}-private" }
}

resource "aws_route_table_association" "private" {
  count          = length(aws_subnet.private)
  subnet_id      = aws_subnet.private[count.index].id
  route_table_id = aws_route_table.private.id
}

# --- The endpoints' security group ----------------------------------------------------------------------

# No rules here: each consumer adds an ingress rule from its own security group (modules/currents does,
# from the function's), so the endpoints accept HTTPS only from groups granted explicitly. Egress is not
# needed: security groups are stateful, replies flow back.
resource "aws_security_group" "endpoints" {
  name        = "${var.name}-private-endpoints"
  description = "Interface endpoints: HTTPS in only from consumers' security groups (their own ingress rules)"
  vpc_id      = aws_vpc.this.id

  tags = { Name = "${var.name}-private-endpoints" }
}

# --- Endpoints ------------------------------------------------------------------------------------------

# Endpoint policies ("Control access to VPC endpoints using endpoint policies",
# https://docs.aws.amazon.com/vpc/latest/privatelink/vpc-endpoints-access.html): only our account's
# principals, and only the calls the bridge makes. A service that does not support endpoint policies
# (vpc_endpoint_policy_supported false) gets none: AWS rejects one there.
locals {
  interface_policies = {
    for service, actions in local.interface_actions : service => (
      data.aws_vpc_endpoint_service.interface[service].vpc_endpoint_policy_supported ? jsonencode({
        Version = "2012-10-17"
        Statement = [{
          Sid       = "OurAccountsBridgeCallsOnly"
          Effect    = "Allow"
          Principal = "*"
          Action    = actions
          Resource  = "*"
          Condition = { StringEquals = { "aws:PrincipalAccount" = var.account_id } }
        }]
      }) : null
    )
  }
}

resource "aws_vpc_endpoint" "interface" {
  for_each            = local.interface_actions
  vpc_id              = aws_vpc.this.id
  service_name        = data.aws_vpc_endpoint_service.interface[each.key].service_name
  vpc_endpoint_type   = "Interface"
  subnet_ids          = aws_subnet.private[*].id
  security_group_ids  = [aws_security_group.endpoints.id]
  private_dns_enabled = true # the SDK's default hostname resolves to the endpoint's private addresses

  policy = local.interface_policies[each.key]

  tags = { Name = "${var.name}-private-${each.key}" }
}

# Gateway endpoints are free and add a route to S3's prefix list on the route table
# ("Gateway endpoints for Amazon S3", https://docs.aws.amazon.com/vpc/latest/privatelink/vpc-endpoints-s3.html).
# Our principals, our account's buckets (aws:ResourceAccount), the bridge's calls only.
resource "aws_vpc_endpoint" "s3" {
  vpc_id            = aws_vpc.this.id
  service_name      = data.aws_vpc_endpoint_service.s3.service_name
  vpc_endpoint_type = "Gateway"
  route_table_ids   = [aws_route_table.private.id]

  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid       = "OurAccountsBucketsBridgeCallsOnly"
      Effect    = "Allow"
      Principal = "*"
      Action    = local.s3_actions
      Resource  = "*"
      Condition = {
        StringEquals = { "aws:PrincipalAccount" = var.account_id, "aws:ResourceAccount" = var.account_id }
      }
    }]
  })

  tags = { Name = "${var.name}-private-s3" }
}

# --- Flow logs ------------------------------------------------------------------------------------------

# Flow logs of every accepted and rejected connection in the VPC to CloudWatch Logs
# ("Publish flow logs to CloudWatch Logs", https://docs.aws.amazon.com/vpc/latest/userguide/flow-logs-cwl.html).
resource "aws_flow_log" "this" {
  vpc_id               = aws_vpc.this.id
  traffic_type         = "ALL"
  log_destination_type = "cloud-watch-logs"
  log_destination      = module.flow_log_group.arn
  iam_role_arn         = aws_iam_role.flow_logs.arn

  tags = { Name = "${var.name}-private" }
}

module "flow_log_group" {
  source = "../encrypted_log_group"

  name                     = local.flow_log_group_name
  retention_in_days        = var.flow_log_retention_days
  kms_deletion_window_days = var.kms_deletion_window_days
  account_id               = var.account_id
  region                   = var.region
  partition                = var.partition
}

moved {
  from = aws_kms_key.flow_logs
  to   = module.flow_log_group.aws_kms_key.this
}

moved {
  from = aws_cloudwatch_log_group.flow_logs
  to   = module.flow_log_group.aws_cloudwatch_log_group.this
}

# The role the flow-logs service assumes to write ("IAM role for publishing flow logs to CloudWatch
# Logs", https://docs.aws.amazon.com/vpc/latest/userguide/flow-logs-iam-role.html), with the documented
# confused-deputy guard: only flow logs of our account may assume it.
resource "aws_iam_role" "flow_logs" {
  name = "${var.name}-private-flow-logs"
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Action    = "sts:AssumeRole"
      Principal = { Service = "vpc-flow-logs.amazonaws.com" }
      Condition = {
        StringEquals = { "aws:SourceAccount" = var.account_id }
        ArnLike      = { "aws:SourceArn" = "arn:${var.partition}:ec2:${var.region}:${var.account_id}:vpc-flow-log/*" }
      }
    }]
  })
}

# The documented actions, on our log group only (it exists: no logs:CreateLogGroup).
resource "aws_iam_role_policy" "flow_logs" {
  name = "publish-flow-logs"
  role = aws_iam_role.flow_logs.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid      = "WriteTheFlowLogGroup"
        Effect   = "Allow"
        Action   = ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"]
        Resource = "${module.flow_log_group.arn}:*"
      },
      {
        Sid      = "FindTheFlowLogGroup"
        Effect   = "Allow"
        Action   = "logs:DescribeLogGroups"
        Resource = "arn:${var.partition}:logs:${var.region}:${var.account_id}:log-group:*"
      },
    ]
  })
}
