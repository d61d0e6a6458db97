variable "name" {
  type        = string
  description = "Prefix of every resource name (the project config's name)."

  validation {
    condition     = can(regex("^[a-zA-Z0-9][a-zA-Z0-9-]{0,39}$", var.name))
    error_message = "name must be 1-40 letters, digits or hyphens, starting with a letter or digit."
  }
}

variable "account_id" {
  type        = string
  description = "AWS account the alarms and topic live in; scopes the services' publish grants (aws:SourceAccount)."

  validation {
    condition     = can(regex("^[0-9]{12}$", var.account_id))
    error_message = "account_id must be a 12-digit AWS account id."
  }
}

variable "region" {
  type        = string
  description = "AWS region (ARNs in the topic policy, the dashboard's widgets)."
}

variable "partition" {
  type        = string
  description = "AWS partition used in ARNs."
  default     = "aws"
}

variable "alarm_emails" {
  type        = list(string)
  description = "E-mail addresses subscribed to the alarm topic (each confirms once)."
  default     = []
}

variable "api_namespace" {
  type        = string
  description = "CloudWatch namespace of the API's embedded-metric-format metrics."
  default     = "BrazeRecommendationsApi"
}

variable "api_routes" {
  type        = list(string)
  description = "Values of the API metrics' Route dimension to alarm on (one alarm of each kind per route)."
  default     = ["/recommendations", "/related-items", "/rankings", "/trending"]
}

variable "api_metric_names" {
  type = object({
    fallback      = string
    deadline_miss = string
    server_error  = string
    latency       = string
    breaker_open  = string
  })
  description = "Names of the API's metrics: Fallback, DeadlineMiss, ServerError (Count) and Latency (Milliseconds) per Route; BreakerOpen (Count) per Dependency."
  default = {
    fallback      = "Fallback"
    deadline_miss = "DeadlineMiss"
    server_error  = "ServerError"
    latency       = "Latency"
    breaker_open  = "BreakerOpen"
  }
}

variable "breaker_dependencies" {
  type        = list(string)
  description = "Values of BreakerOpen's Dependency dimension (the API's circuit breakers)."
  default     = ["campaign", "artifacts"]
}

variable "campaigns" {
  type = map(object({
    arn       = string
    operation = string
  }))
  description = "Personalize campaigns to watch, by name: ARN and the runtime operation they serve (GetRecommendations or GetPersonalizedRanking), which names their AWS/Personalize metrics."
  default     = {}

  validation {
    condition     = alltrue([for c in values(var.campaigns) : contains(["GetRecommendations", "GetPersonalizedRanking"], c.operation)])
    error_message = "each campaign's operation must be GetRecommendations or GetPersonalizedRanking."
  }
}

variable "thresholds" {
  type = object({
    fallback_rate_percent      = number
    latency_p99_ms             = number
    server_errors_per_period   = number
    deadline_misses_per_period = number
    personalize_latency_ms     = number
    personalize_4xx_per_period = number
    period_seconds             = number
  })
  description = "Alarm thresholds; latency_p99_ms must leave room under Braze's 2 s Connected Content timeout."
  default = {
    fallback_rate_percent      = 5
    latency_p99_ms             = 1500
    server_errors_per_period   = 5
    deadline_misses_per_period = 5
    personalize_latency_ms     = 500
    personalize_4xx_per_period = 5
    period_seconds             = 300
  }

  validation {
    condition     = var.thresholds.latency_p99_ms > 0 && var.thresholds.latency_p99_ms < 2000
    error_message = "latency_p99_ms must be below 2000: Braze abandons a Connected Content call after 2 s."
  }

  validation {
    condition     = contains([60, 300, 900, 3600], var.thresholds.period_seconds)
    error_message = "period_seconds must be 60, 300, 900 or 3600."
  }
}

variable "kms_deletion_window_days" {
  type        = number
  description = "Waiting period before the topic's key is deleted after destroy (7-30)."
  default     = 30
}

variable "tags" {
  type        = map(string)
  description = "Tags added to every resource."
  default     = {}
}
