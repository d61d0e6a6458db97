# As in envs/local: the platform module's outputs as one object, flattened by pipeline.tf_outputs.
output "platform" {
  description = "The platform module's outputs (see modules/platform/outputs.tf)."
  value       = module.platform
}

output "endpoint_url" {
  description = "Endpoint override for clients (none in AWS)."
  value       = null
}

output "currents" {
  description = "The Currents bridge: function name and ARN, dead-letter queue URL, role."
  value       = module.currents
}
