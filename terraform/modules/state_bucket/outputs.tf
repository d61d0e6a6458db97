output "bucket_name" {
  description = "The bucket."
  value       = aws_s3_bucket.this.bucket
}

# Replication needs versioning on both ends (PutBucketReplication refuses an unversioned destination), so the
# peer's replication rule reads these outputs only once versioning is on.
output "bucket_arn" {
  description = "ARN of the bucket, available once its versioning is enabled (a replication source or destination)."
  value       = aws_s3_bucket.this.arn
  depends_on  = [aws_s3_bucket_versioning.this]
}

output "kms_key_arn" {
  description = "ARN of the bucket's key (the peer encrypts replicas with it; the S3 backend's kms_key_id)."
  value       = aws_kms_key.this.arn
}

output "replication_role_arn" {
  description = "Role S3 assumes to replicate this bucket to its peer."
  value       = aws_iam_role.replication.arn
}
