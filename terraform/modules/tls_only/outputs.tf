output "statements" {
  description = "Deny statements for the bucket policy: DenyInsecureTransport (aws:SecureTransport false) and DenyTlsBelow12 (s3:TlsVersion < 1.2), on the bucket and its objects, for every principal."
  value = [
    {
      Sid       = "DenyInsecureTransport"
      Effect    = "Deny"
      Principal = { AWS = "*" }
      Action    = "s3:*"
      Resource  = local.resources
      Condition = { Bool = { "aws:SecureTransport" = "false" } }
    },
    {
      Sid       = "DenyTlsBelow12"
      Effect    = "Deny"
      Principal = { AWS = "*" }
      Action    = "s3:*"
      Resource  = local.resources
      Condition = { NumericLessThan = { "s3:TlsVersion" = "1.2" } }
    },
  ]
}
