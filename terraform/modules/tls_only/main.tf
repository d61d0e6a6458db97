# The two statements every bucket policy of ours starts with: no plain HTTP, and no TLS below 1.2 even
# over HTTPS ("Enforcing a minimum TLS version",
# https://docs.aws.amazon.com/AmazonS3/latest/userguide/example-bucket-policies.html). No resources: the
# callers put these statements in their own policy documents.

locals {
  resources = [var.bucket_arn, "${var.bucket_arn}/*"]
}
