# The staging instance of envs/aws (`make plan|apply ENV=aws STAGE=staging`). Replace account_id with
# your staging account: the provider refuses credentials of any other account (allowed_account_ids).
region = "eu-west-1"
# The state bucket is replicated both ways to a bucket in this region (make bootstrap creates both).
state_replica_region = "eu-central-1"
account_id           = "111122223333"
bucket_prefix        = "acme-stg-"
tags = {
  owner = "data-platform"
}
