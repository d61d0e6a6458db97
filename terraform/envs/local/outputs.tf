# One object holding every output of the platform module (the same in both envs);
# pipeline.tf_outputs.read_outputs flattens it into the keys the scripts and the API read.
output "platform" {
  description = "The platform module's outputs (see modules/platform/outputs.tf)."
  value       = module.platform
}

output "endpoint_url" {
  description = "Endpoint the clients must use (the local stack)."
  value       = var.endpoint
}
