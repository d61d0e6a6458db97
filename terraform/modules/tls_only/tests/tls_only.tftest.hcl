variables {
  bucket_arn = "arn:aws:s3:::acme-recs-data-123456789012"
}

run "denies_plain_http_and_tls_below_1_2_on_the_bucket_and_its_objects" {
  command = plan

  assert {
    condition     = output.statements[0].Condition.Bool["aws:SecureTransport"] == "false" && output.statements[0].Effect == "Deny"
    error_message = "plain HTTP is denied"
  }
  assert {
    condition     = output.statements[1].Condition.NumericLessThan["s3:TlsVersion"] == "1.2" && output.statements[1].Effect == "Deny"
    error_message = "TLS below 1.2 is denied"
  }
  assert {
    condition     = alltrue([for s in output.statements : s.Resource == [var.bucket_arn, "${var.bucket_arn}/*"] && s.Principal.AWS == "*" && s.Action == "s3:*"])
    error_message = "both deny every S3 action on the bucket and its objects to everyone"
  }
}

run "rejects_something_other_than_a_bucket_arn" {
  command = plan
  variables {
    bucket_arn = "arn:aws:s3:::acme-recs-data/imports/*"
  }
  expect_failures = [var.bucket_arn]
}
