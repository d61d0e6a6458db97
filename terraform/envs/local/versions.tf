terraform {
  required_version = ">= 1.7.0"

  # State stays on this machine; `pipeline.infra` passes -backend-config=path=... so each
  # checkout (and each functional test) keeps its own state under .local/terraform/.
  backend "local" {}

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.60.0"
    }
  }
}
