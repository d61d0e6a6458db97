# Copy to terraform.tfvars (or pass -var-file) and fill in.
region        = "eu-west-1"
account_id    = "111122223333"
bucket_prefix = "acme-"
tags = {
  owner = "data-platform"
}
