variable "bucket_arn" {
  type        = string
  description = "ARN of the bucket whose policy denies insecure transport (the bucket and its objects)."

  validation {
    # The bucket's own name rules are its module's to check; here: a bucket, not an object or a pattern.
    condition     = can(regex("^arn:aws[a-z-]*:s3:::[^/*]+$", var.bucket_arn))
    error_message = "bucket_arn must be an S3 bucket ARN (arn:<partition>:s3:::<bucket>), not an object or pattern."
  }
}
