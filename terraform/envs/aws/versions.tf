terraform {
  required_version = ">= 1.10.0" # S3-native state locking (use_lockfile)

  # Partial configuration: bucket, key and region come from backend.hcl (see backend.hcl.example),
  # which `pipeline.infra` passes to `terraform init` when it exists.
  backend "s3" {
    use_lockfile = true
    encrypt      = true
  }

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.60.0"
    }
  }
}
