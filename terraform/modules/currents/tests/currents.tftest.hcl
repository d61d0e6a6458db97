mock_provider "aws" {
  mock_resource "aws_sqs_queue" {
    defaults = { arn = "arn:aws:sqs:eu-west-1:123456789012:acme-recs-currents-bridge-dlq" }
  }
  mock_resource "aws_iam_role" {
    defaults = { arn = "arn:aws:iam::123456789012:role/acme-recs-currents-bridge" }
  }
  mock_resource "aws_cloudwatch_log_group" {
    defaults = { arn = "arn:aws:logs:eu-west-1:123456789012:log-group:/aws/lambda/acme-recs-currents-bridge" }
  }
  mock_resource "aws_security_group" {
    defaults = { id = "sg-0f" }
  }
  mock_resource "aws_lambda_function" {
    defaults = { arn = "arn:aws:lambda:eu-west-1:123456789012:function:acme-recs-currents-bridge" }
  }
}

variables {
  name                        = "acme-recs"
  bucket_name                 = "acme-recs-data-123456789012"
  kms_key_arn                 = "arn:aws:kms:eu-west-1:123456789012:key/0000"
  account_id                  = "123456789012"
  region                      = "eu-west-1"
  tracking_id                 = "tid-1"
  event_tracker_arn           = "arn:aws:personalize:eu-west-1:123456789012:event-tracker/web-events"
  dataset_group_arn           = "arn:aws:personalize:eu-west-1:123456789012:dataset-group/acme-recs"
  personalize_role_arn        = "arn:aws:iam::123456789012:role/acme-recs-personalize"
  forget_prefixes             = ["imports/", "currents-bulk/"]
  package_file                = "currents-lambda.zip"
  subnet_ids                  = ["subnet-0a", "subnet-0b"]
  vpc_id                      = "vpc-0c"
  endpoints_security_group_id = "sg-0e"
  s3_prefix_list_id           = "pl-6da54004"
  currents = {
    prefix            = "currents/"
    quarantine_prefix = "currents-quarantine/"
    state_prefix      = "currents-state/"
    bulk_prefix       = "currents-bulk/"
    events            = { "users.behaviors.Purchase" = { event_type = "Purchase", item_id = "product_id" } }
  }
}

run "new_avro_files_under_the_prefix_invoke_the_function" {
  command = plan

  assert {
    condition     = one(aws_s3_bucket_notification.this.lambda_function).filter_prefix == "currents/" && one(aws_s3_bucket_notification.this.lambda_function).filter_suffix == ".avro"
    error_message = "only Currents files under the prefix trigger the bridge"
  }
  assert {
    condition     = one(aws_s3_bucket_notification.this.lambda_function).events == toset(["s3:ObjectCreated:*"])
    error_message = "every object creation triggers the bridge"
  }
  assert {
    condition     = aws_lambda_permission.s3.principal == "s3.amazonaws.com" && aws_lambda_permission.s3.source_account == "123456789012"
    error_message = "only our account's bucket may invoke the function"
  }
}

run "the_role_reaches_only_the_bridges_prefixes_and_tracker" {
  command = apply

  assert {
    condition = toset(jsondecode(aws_iam_role_policy.this.policy).Statement[0].Resource) == toset([
      for p in ["currents/", "currents-quarantine/", "currents-state/", "currents-bulk/", "imports/"] :
      "arn:aws:s3:::acme-recs-data-123456789012/${p}*"
    ])
    error_message = "object access is limited to the Currents, quarantine, state, bulk and import prefixes"
  }
  assert {
    condition     = jsondecode(aws_iam_role_policy.this.policy).Statement[3].Resource == "arn:aws:personalize:eu-west-1:123456789012:event-tracker/web-events"
    error_message = "PutEvents only on our event tracker"
  }
}

run "failures_go_to_a_dead_letter_queue_and_one_file_runs_at_a_time" {
  command = plan

  assert {
    condition     = aws_lambda_function.this.reserved_concurrent_executions == 1
    error_message = "the bridge's state is read-modify-write: one invocation at a time"
  }
  assert {
    condition     = aws_lambda_function_event_invoke_config.this.maximum_retry_attempts == 2
    error_message = "two retries before the dead-letter queue"
  }
  assert {
    condition     = aws_lambda_function.this.handler == "pipeline.currents.handler.handler"
    error_message = "the function runs the same handler as make currents-sync"
  }
  assert {
    condition     = jsondecode(aws_lambda_function.this.environment[0].variables.CURRENTS_CONFIG).prefix == "currents/"
    error_message = "the function reads the config's currents section"
  }
}

run "the_log_group_is_encrypted_with_a_key_only_cloudwatch_logs_may_use_for_it" {
  command = apply

  assert {
    condition     = aws_cloudwatch_log_group.this.kms_key_id == aws_kms_key.logs.arn && aws_kms_key.logs.enable_key_rotation
    error_message = "the log group is encrypted with its own rotating key"
  }
  assert {
    condition     = jsondecode(aws_kms_key.logs.policy).Statement[1].Principal.Service == "logs.eu-west-1.amazonaws.com"
    error_message = "the regional CloudWatch Logs principal uses the key"
  }
  assert {
    condition     = jsondecode(aws_kms_key.logs.policy).Statement[1].Condition.ArnEquals["kms:EncryptionContext:aws:logs:arn"] == "arn:aws:logs:eu-west-1:123456789012:log-group:/aws/lambda/acme-recs-currents-bridge"
    error_message = "CloudWatch Logs may use the key for the function's log group only"
  }
  assert {
    condition     = jsondecode(aws_kms_key.logs.policy).Statement[0].Principal.AWS == "arn:aws:iam::123456789012:root"
    error_message = "only our account administers the key"
  }
}

run "rejects_an_empty_currents_prefix" {
  command = plan
  variables {
    currents = {
      prefix            = ""
      quarantine_prefix = "q/"
      state_prefix      = "s/"
      bulk_prefix       = "b/"
      events            = {}
    }
  }
  expect_failures = [var.currents]
}

run "rejects_a_log_retention_cloudwatch_does_not_offer" {
  command = plan
  variables {
    log_retention_days = 10
  }
  expect_failures = [var.log_retention_days]
}

run "the_function_runs_in_the_private_subnets_with_its_security_group" {
  command = apply

  assert {
    condition     = one(aws_lambda_function.this.vpc_config).subnet_ids == toset(["subnet-0a", "subnet-0b"]) && one(aws_lambda_function.this.vpc_config).security_group_ids == toset([aws_security_group.this.id])
    error_message = "the function is attached to the given subnets with its own security group"
  }
  assert {
    condition = one([for st in jsondecode(aws_iam_role_policy.this.policy).Statement : st if st.Sid == "CreateNetworkInterfacesInOurSubnets"]).Resource == [
      "arn:aws:ec2:eu-west-1:123456789012:network-interface/*",
      "arn:aws:ec2:eu-west-1:123456789012:subnet/subnet-0a",
      "arn:aws:ec2:eu-west-1:123456789012:subnet/subnet-0b",
      "arn:aws:ec2:eu-west-1:123456789012:security-group/sg-0f",
    ]
    error_message = "Lambda may create the function's interfaces only in our subnets with its security group"
  }
  assert {
    condition     = one([for st in jsondecode(aws_iam_role_policy.this.policy).Statement : st if st.Sid == "ManageNetworkInterfaces"]).Resource == "arn:aws:ec2:eu-west-1:123456789012:network-interface/*"
    error_message = "the other interface actions are limited to our account's network interfaces in the region"
  }
}

run "the_function_may_open_https_to_the_endpoints_and_s3_only" {
  command = apply

  assert {
    condition     = aws_security_group.this.vpc_id == "vpc-0c" && length(aws_security_group.this.ingress) == 0
    error_message = "the function's group lives in the private VPC and admits nothing"
  }
  assert {
    condition     = aws_vpc_security_group_egress_rule.to_endpoints.referenced_security_group_id == "sg-0e" && aws_vpc_security_group_egress_rule.to_endpoints.from_port == 443 && aws_vpc_security_group_egress_rule.to_endpoints.to_port == 443 && aws_vpc_security_group_egress_rule.to_endpoints.ip_protocol == "tcp"
    error_message = "the function reaches the interface endpoints on 443 only"
  }
  assert {
    condition     = aws_vpc_security_group_egress_rule.to_s3.prefix_list_id == "pl-6da54004" && aws_vpc_security_group_egress_rule.to_s3.cidr_ipv4 == null && aws_vpc_security_group_egress_rule.to_s3.from_port == 443
    error_message = "the function reaches S3 through its prefix list, not an open CIDR"
  }
  assert {
    condition     = aws_vpc_security_group_ingress_rule.endpoints_from_function.security_group_id == "sg-0e" && aws_vpc_security_group_ingress_rule.endpoints_from_function.referenced_security_group_id == aws_security_group.this.id && aws_vpc_security_group_ingress_rule.endpoints_from_function.from_port == 443
    error_message = "the endpoints admit HTTPS from the function's group"
  }
}

run "rejects_an_empty_subnet_list" {
  command = plan
  variables {
    subnet_ids = []
  }
  expect_failures = [var.subnet_ids]
}
