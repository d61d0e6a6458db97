mock_provider "aws" {
  # Values known at plan time, so plan-only runs (no apply: the bucket and key refuse to be destroyed)
  # can read the policies built from them.
  mock_resource "aws_kms_key" {
    override_during = plan
    defaults = {
      arn = "arn:aws:kms:eu-west-1:111122223333:key/0000aaaa-0000-0000-0000-000000000001"
    }
  }
  mock_resource "aws_iam_role" {
    override_during = plan
    defaults = {
      arn = "arn:aws:iam::111122223333:role/tfstate-replicate-0001"
    }
  }
}

variables {
  bucket_name       = "braze-personalize-tfstate-staging-111122223333"
  account_id        = "111122223333"
  region            = "eu-west-1"
  access_log_bucket = "braze-personalize-tflogs-staging-111122223333"
  peer = {
    bucket_arn  = "arn:aws:s3:::braze-personalize-tfstate-staging-111122223333-dr"
    region      = "eu-central-1"
    kms_key_arn = "arn:aws:kms:eu-central-1:111122223333:key/0000bbbb-0000-0000-0000-000000000002"
  }
}

run "replicates_every_version_and_delete_marker_to_the_peer_under_its_key" {
  command = plan

  assert {
    condition     = one(aws_s3_bucket_replication_configuration.this.rule).status == "Enabled"
    error_message = "replication must be on"
  }
  assert {
    condition     = one(one(aws_s3_bucket_replication_configuration.this.rule).destination).bucket == var.peer.bucket_arn
    error_message = "replicas go to the peer bucket"
  }
  assert {
    condition     = one(one(one(aws_s3_bucket_replication_configuration.this.rule).destination).encryption_configuration).replica_kms_key_id == var.peer.kms_key_arn
    error_message = "replicas are encrypted with the peer's key"
  }
  assert {
    condition     = one(one(aws_s3_bucket_replication_configuration.this.rule).delete_marker_replication).status == "Enabled"
    error_message = "delete markers (released locks, deleted states) replicate too"
  }
  assert {
    condition     = one(one(one(aws_s3_bucket_replication_configuration.this.rule).source_selection_criteria).replica_modifications).status == "Enabled"
    error_message = "two-way replication needs replica modification sync"
  }
  assert {
    condition     = one(one(one(aws_s3_bucket_replication_configuration.this.rule).source_selection_criteria).sse_kms_encrypted_objects).status == "Enabled"
    error_message = "SSE-KMS objects are replicated only when asked for"
  }
}

run "the_replication_role_uses_each_key_only_through_s3_in_its_region" {
  command = plan

  assert {
    condition = one([
      for s in jsondecode(aws_iam_role_policy.replication.policy).Statement : s.Condition.StringEquals["kms:ViaService"]
      if s.Sid == "DecryptSource"
    ]) == "s3.eu-west-1.amazonaws.com"
    error_message = "the source key is decrypted only through S3 in the bucket's region"
  }
  assert {
    condition = one([
      for s in jsondecode(aws_iam_role_policy.replication.policy).Statement : s.Condition.StringEquals["kms:ViaService"]
      if s.Sid == "EncryptReplicas"
    ]) == "s3.eu-central-1.amazonaws.com"
    error_message = "replicas are encrypted only through S3 in the peer's region"
  }
  assert {
    condition = one([
      for s in jsondecode(aws_iam_role_policy.replication.policy).Statement : s.Resource
      if s.Sid == "WriteReplicas"
    ]) == "${var.peer.bucket_arn}/*"
    error_message = "the role writes replicas into the peer only"
  }
  assert {
    condition     = jsondecode(aws_iam_role.replication.assume_role_policy).Statement[0].Condition.ArnLike["aws:SourceArn"] == "arn:aws:s3:::${var.bucket_name}"
    error_message = "only this bucket's replication may assume the role (confused deputy)"
  }
}

run "refuses_a_bucket_name_longer_than_s3_allows" {
  command = plan
  variables {
    bucket_name = "a-very-long-prefix-braze-personalize-tfstate-production-111122223333"
  }
  expect_failures = [aws_s3_bucket.this]
}

run "refuses_a_fractional_retention" {
  command = plan
  variables {
    noncurrent_state_days = 0.5
  }
  expect_failures = [var.noncurrent_state_days]
}
