# The production instance of envs/aws (`make plan|apply ENV=aws STAGE=production`). Replace account_id
# with your production account: the provider refuses credentials of any other account.
region        = "eu-west-1"
account_id    = "444455556666"
bucket_prefix = "acme-"
tags = {
  owner = "data-platform"
}
