# The function's network: its security group in the private VPC (modules/private_network). It may open
# HTTPS to the interface endpoints (Personalize, Personalize Events, X-Ray) and to S3 through the gateway
# endpoint's prefix list, nothing else; the endpoints accept HTTPS from it (the rule on their group).
# Security groups of a Lambda function: https://docs.aws.amazon.com/lambda/latest/dg/configuration-vpc.html;
# a gateway endpoint is reached through its prefix list
# (https://docs.aws.amazon.com/vpc/latest/privatelink/vpc-endpoints-s3.html#vpc-endpoints-security).

locals {
  ec2_arn_prefix = "arn:${var.partition}:ec2:${var.region}:${var.account_id}" # the role's network-interface grants
}

resource "aws_security_group" "this" {
  name        = local.function_name
  description = "Currents bridge Lambda: HTTPS out to the VPC endpoints and the S3 gateway endpoint only"
  vpc_id      = var.vpc_id

  tags = { Name = local.function_name }
}

resource "aws_vpc_security_group_egress_rule" "to_endpoints" {
  security_group_id            = aws_security_group.this.id
  description                  = "HTTPS to the interface endpoints (Personalize, Personalize Events, X-Ray)"
  ip_protocol                  = "tcp"
  from_port                    = 443
  to_port                      = 443
  referenced_security_group_id = var.endpoints_security_group_id
}

resource "aws_vpc_security_group_egress_rule" "to_s3" {
  security_group_id = aws_security_group.this.id
  description       = "HTTPS to Amazon S3 through the gateway endpoint (its prefix list)"
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
  prefix_list_id    = var.s3_prefix_list_id
}

resource "aws_vpc_security_group_ingress_rule" "endpoints_from_function" {
  security_group_id            = var.endpoints_security_group_id
  description                  = "HTTPS from the Currents bridge Lambda"
  ip_protocol                  = "tcp"
  from_port                    = 443
  to_port                      = 443
  referenced_security_group_id = aws_security_group.this.id
}
