"""Braze Currents -> Personalize: Avro files in Braze's S3 layout become PutEvents and a bulk file."""
