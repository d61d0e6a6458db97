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
  mock_resource "aws_signer_signing_profile" {
    defaults = { version_arn = "arn:aws:signer:eu-west-1:123456789012:/signing-profiles/acme_recs_currents_bridge_1/AbCdEf1234" }
  }
  mock_resource "aws_lambda_code_signing_config" {
    defaults = { arn = "arn:aws:lambda:eu-west-1:123456789012:code-signing-config:csc-0123456789abcdef0" }
  }
  mock_resource "aws_s3_object" {
    defaults = { version_id = "unsigned-v1" }
  }
  # Signer names the signed object after the job (job_id is left to the mock: a new job, a new id).
  mock_resource "aws_signer_signing_job" {
    defaults = {
      signed_object = [{ s3 = [{ bucket = "acme-recs-data-123456789012", key = "code/currents-bridge/signed/job-1.zip" }] }]
    }
  }
  mock_data "aws_s3_object" {
    defaults = { version_id = "signed-v1" }
  }
  mock_resource "aws_cloudwatch_event_rule" {
    defaults = { arn = "arn:aws:events:eu-west-1:123456789012:rule/acme-recs-currents-bridge-new-currents-files" }
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

run "new_avro_files_under_the_prefix_invoke_the_function_through_an_eventbridge_rule" {
  command = apply

  assert {
    condition = jsondecode(aws_cloudwatch_event_rule.this.event_pattern) == {
      source        = ["aws.s3"]
      "detail-type" = ["Object Created"]
      detail = {
        bucket = { name = ["acme-recs-data-123456789012"] }
        object = { key = [{ wildcard = "currents/*.avro" }] }
      }
    }
    error_message = "only .avro objects created under the Currents prefix of our bucket match the rule"
  }
  assert {
    condition     = aws_cloudwatch_event_rule.this.event_bus_name == "default"
    error_message = "S3 sends its events to the default bus"
  }
  assert {
    condition     = aws_cloudwatch_event_target.this.arn == aws_lambda_function.this.arn && aws_cloudwatch_event_target.this.rule == aws_cloudwatch_event_rule.this.name
    error_message = "the rule targets the bridge function"
  }
}

run "an_asterisk_in_the_prefix_is_matched_literally" {
  command = plan
  variables {
    currents = {
      prefix            = "braze*exports/"
      quarantine_prefix = "q/"
      state_prefix      = "s/"
      bulk_prefix       = "b/"
      events            = {}
    }
  }

  assert {
    condition     = jsondecode(aws_cloudwatch_event_rule.this.event_pattern).detail.object.key[0].wildcard == "braze\\*exports/*.avro"
    error_message = "a '*' in the prefix is escaped so it does not act as a wildcard"
  }
}

run "undelivered_events_are_retried_then_kept_in_the_dead_letter_queue" {
  command = apply

  assert {
    condition     = one(aws_cloudwatch_event_target.this.dead_letter_config).arn == aws_sqs_queue.dead_letter.arn
    error_message = "events EventBridge cannot deliver go to the dead-letter queue"
  }
  assert {
    condition     = one(aws_cloudwatch_event_target.this.retry_policy).maximum_event_age_in_seconds == 86400 && one(aws_cloudwatch_event_target.this.retry_policy).maximum_retry_attempts == 185
    error_message = "EventBridge retries delivery for up to a day"
  }
  assert {
    condition = jsondecode(aws_sqs_queue_policy.dead_letter.policy).Statement == [{
      Sid       = "CurrentsRuleSendsUndeliveredEvents"
      Effect    = "Allow"
      Principal = { Service = "events.amazonaws.com" }
      Action    = "sqs:SendMessage"
      Resource  = "arn:aws:sqs:eu-west-1:123456789012:acme-recs-currents-bridge-dlq"
      Condition = { ArnEquals = { "aws:SourceArn" = "arn:aws:events:eu-west-1:123456789012:rule/acme-recs-currents-bridge-new-currents-files" } }
    }]
    error_message = "only the Currents rule may send to the dead-letter queue as EventBridge"
  }
  assert {
    condition     = aws_sqs_queue.dead_letter.kms_master_key_id == aws_kms_key.dead_letter.arn && aws_kms_key.dead_letter.enable_key_rotation
    error_message = "the dead-letter queue is encrypted with its own rotating key"
  }
  assert {
    condition     = jsondecode(aws_kms_key.dead_letter.policy).Statement[1].Principal.Service == "events.amazonaws.com" && jsondecode(aws_kms_key.dead_letter.policy).Statement[1].Condition.ArnEquals["aws:SourceArn"] == "arn:aws:events:eu-west-1:123456789012:rule/acme-recs-currents-bridge-new-currents-files"
    error_message = "EventBridge may use the queue's key for the Currents rule only"
  }
}

run "only_the_currents_rule_may_invoke_the_function" {
  command = apply

  assert {
    condition     = aws_lambda_permission.events.principal == "events.amazonaws.com" && aws_lambda_permission.events.action == "lambda:InvokeFunction"
    error_message = "EventBridge invokes the function"
  }
  assert {
    condition     = aws_lambda_permission.events.source_arn == aws_cloudwatch_event_rule.this.arn
    error_message = "the permission is scoped to the Currents rule"
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

run "the_function_logs_to_its_own_encrypted_log_group" {
  command = plan

  assert {
    condition     = jsondecode(module.log_group.key_policy_json).Statement[1].Condition.ArnEquals["kms:EncryptionContext:aws:logs:arn"] == "arn:aws:logs:eu-west-1:123456789012:log-group:/aws/lambda/acme-recs-currents-bridge"
    error_message = "the log group is the function's (/aws/lambda/<function>), its key usable by CloudWatch Logs for it only"
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

run "the_function_accepts_only_code_signed_by_our_profile" {
  command = apply

  assert {
    condition     = aws_lambda_function.this.code_signing_config_arn == aws_lambda_code_signing_config.this.arn
    error_message = "the function has the code signing config"
  }
  assert {
    condition     = one(aws_lambda_code_signing_config.this.policies).untrusted_artifact_on_deployment == "Enforce"
    error_message = "Lambda blocks (not only warns about) a package that fails the signature checks"
  }
  assert {
    condition     = one(aws_lambda_code_signing_config.this.allowed_publishers).signing_profile_version_arns == toset([aws_signer_signing_profile.this.version_arn])
    error_message = "our signing profile's version is the only allowed publisher"
  }
  assert {
    condition     = aws_signer_signing_profile.this.platform_id == "AWSLambda-SHA384-ECDSA" && can(regex("^[a-zA-Z0-9_]+$", aws_signer_signing_profile.this.name_prefix))
    error_message = "a Lambda signing profile, named as Signer allows (letters, digits, underscores)"
  }
}

run "the_package_is_uploaded_under_the_data_key_signed_and_deployed_from_the_signed_object" {
  command = apply

  assert {
    condition     = aws_s3_object.package.key == "code/currents-bridge/unsigned/currents-lambda.zip" && aws_s3_object.package.source == "currents-lambda.zip"
    error_message = "make currents-package's zip is uploaded under the package prefix"
  }
  assert {
    condition     = aws_s3_object.package.server_side_encryption == "aws:kms" && aws_s3_object.package.kms_key_id == "arn:aws:kms:eu-west-1:123456789012:key/0000"
    error_message = "the upload names the data key, as the bucket policy demands"
  }
  assert {
    condition     = one(one(aws_signer_signing_job.this.source).s3).version == aws_s3_object.package.version_id && one(one(aws_signer_signing_job.this.source).s3).key == aws_s3_object.package.key
    error_message = "the signing job signs exactly the uploaded version"
  }
  assert {
    condition     = one(one(aws_signer_signing_job.this.destination).s3).prefix == "code/currents-bridge/signed/" && aws_signer_signing_job.this.profile_name == aws_signer_signing_profile.this.name
    error_message = "our profile signs into the signed prefix"
  }
  assert {
    condition     = aws_lambda_function.this.s3_key == "code/currents-bridge/signed/job-1.zip" && aws_lambda_function.this.s3_object_version == "signed-v1" && aws_lambda_function.this.filename == null
    error_message = "the function deploys the signed object's version, never the local zip"
  }
}

# A new package is a new object version; every argument of aws_signer_signing_job forces a new job,
# so that version is signed by a new job whose new key redeploys the function. The mock provider
# neither versions objects nor replaces on a changed argument: the replace and the override stand
# in for S3's new version; the test shows the version reaches the job.
run "a_new_package_version_is_what_gets_signed" {
  command = apply
  variables {
    package_sha256 = "bmV3IHBhY2thZ2U="
  }
  plan_options {
    replace = [aws_s3_object.package]
  }
  override_resource {
    target = aws_s3_object.package
    values = { version_id = "unsigned-v2" }
  }

  assert {
    condition     = aws_s3_object.package.source_hash == "bmV3IHBhY2thZ2U="
    error_message = "the package's hash decides when it is uploaded again"
  }
  assert {
    condition     = one(one(aws_signer_signing_job.this.source).s3).version == "unsigned-v2"
    error_message = "the new object version is what gets signed"
  }
}

run "the_bridges_role_cannot_reach_the_packages" {
  command = apply

  assert {
    condition = alltrue([
      for r in jsondecode(aws_iam_role_policy.this.policy).Statement[0].Resource :
      !startswith("arn:aws:s3:::acme-recs-data-123456789012/code/currents-bridge/", trimsuffix(r, "*"))
    ])
    error_message = "no object grant of the bridge's role covers the package prefix"
  }
}

run "rejects_a_package_prefix_inside_the_bridges_prefixes" {
  command = plan
  variables {
    package_prefix = "currents-state/code/"
  }
  expect_failures = [aws_s3_object.package]
}

run "rejects_a_package_prefix_that_is_no_key_prefix" {
  command = plan
  variables {
    package_prefix = "code"
  }
  expect_failures = [var.package_prefix]
}

run "rejects_a_package_prefix_under_a_reserved_prefix" {
  command = plan
  variables {
    reserved_prefixes = ["batch/output/", "artifacts/", ""]
    package_prefix    = "artifacts/lambda/"
  }
  expect_failures = [aws_s3_object.package]
}

run "accepts_a_package_prefix_beside_the_reserved_ones" {
  command = plan
  variables {
    reserved_prefixes = ["batch/output/", "artifacts/", ""]
  }

  assert {
    condition     = aws_s3_object.package.key == "code/currents-bridge/unsigned/currents-lambda.zip"
    error_message = "the default package prefix is outside the bucket's other prefixes (an empty rule prefix is no owner)"
  }
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

run "rejects_a_delivery_retry_window_eventbridge_does_not_offer" {
  command = plan
  variables {
    delivery_max_age_seconds = 30
  }
  expect_failures = [var.delivery_max_age_seconds]
}

run "rejects_more_delivery_retries_than_eventbridge_allows" {
  command = plan
  variables {
    delivery_max_retries = 186
  }
  expect_failures = [var.delivery_max_retries]
}
