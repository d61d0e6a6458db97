"""Glue between a Braze customer's data and Amazon Personalize: validate, import, train, serve."""
