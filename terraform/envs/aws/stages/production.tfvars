# The production instance of envs/aws (`make plan|apply ENV=aws STAGE=production`). Replace account_id
# with your production account: the provider refuses credentials of any other account.
region = "eu-west-1"
# The state bucket is replicated both ways to a bucket in this region (make bootstrap creates both).
state_replica_region = "eu-central-1"
account_id           = "444455556666"
bucket_prefix        = "acme-"
tags = {
  owner = "data-platform"
}
