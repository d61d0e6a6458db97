terraform {
  required_version = ">= 1.10.0"

  # The state of the state bucket stays on the machine that bootstraps (`make bootstrap` keeps it under
  # .local/terraform/bootstrap-<stage>/): it only ever holds this bucket.
  backend "local" {}

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.60.0"
    }
  }
}
