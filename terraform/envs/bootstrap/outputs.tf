output "bucket_name" {
  description = "The state bucket."
  value       = aws_s3_bucket.this.bucket
}

output "log_bucket_name" {
  description = "The bucket the state bucket's access logs go to."
  value       = module.access_logs.id
}

output "backend_config" {
  description = "The stage's backend config (pipeline.infra writes it to envs/aws/stages/<stage>.backend.hcl)."
  value       = <<-EOT
    bucket       = "${aws_s3_bucket.this.bucket}"
    key          = "${local.state_key}"
    region       = "${var.region}"
    kms_key_id   = "${aws_kms_key.this.arn}"
  EOT
}

output "state_key" {
  description = "Key of the stage's state object in the bucket."
  value       = local.state_key
}
