# The Personalize service role (S3 + KMS on our prefixes only) and the API's Lambda role (read-only
# recommendation calls on our campaigns and filters). No statement grants "*" actions on "*".

locals {
  personalize_source_arn = "arn:${var.partition}:personalize:${var.region}:${var.account_id}:*"
  read_prefixes          = distinct([var.import_prefix, var.batch_input_prefix])
  s3_service             = "s3.${var.region}.amazonaws.com"
  ssm_service            = "ssm.${var.region}.amazonaws.com"

  personalize_trust = {
    Version = "2012-10-17"
    Statement = [{
      Sid       = "PersonalizeFromOurAccountOnly"
      Effect    = "Allow"
      Principal = { Service = "personalize.amazonaws.com" }
      Action    = "sts:AssumeRole"
      Condition = {
        StringEquals = { "aws:SourceAccount" = var.account_id }
        ArnLike      = { "aws:SourceArn" = local.personalize_source_arn }
      }
    }]
  }

  personalize_policy = {
    Version = "2012-10-17"
    Statement = concat([
      {
        Sid      = "ListInputPrefixes"
        Effect   = "Allow"
        Action   = "s3:ListBucket"
        Resource = var.bucket_arn
        Condition = {
          StringLike = { "s3:prefix" = [for p in local.read_prefixes : "${p}*"] }
        }
      },
      {
        Sid      = "ReadImportsAndBatchInput"
        Effect   = "Allow"
        Action   = "s3:GetObject"
        Resource = [for p in local.read_prefixes : "${var.bucket_arn}/${p}*"]
      },
      {
        Sid      = "WriteBatchOutput"
        Effect   = "Allow"
        Action   = "s3:PutObject"
        Resource = "${var.bucket_arn}/${var.batch_output_prefix}*"
      },
      {
        # Only through S3 (reading imports, writing batch output): kms:ViaService
        # (https://docs.aws.amazon.com/kms/latest/developerguide/conditions-kms.html#conditions-kms-via-service).
        Sid       = "UseDataKeyThroughS3"
        Effect    = "Allow"
        Action    = ["kms:Decrypt", "kms:GenerateDataKey"]
        Resource  = var.kms_key_arn
        Condition = { StringEquals = { "kms:ViaService" = local.s3_service } }
      },
      {
        Sid      = "DescribeDataKey"
        Effect   = "Allow"
        Action   = "kms:DescribeKey"
        Resource = var.kms_key_arn
      },
    ], local.metric_attribution_statements)
  }

  # A metric attribution publishes to CloudWatch (PutMetricData has no resource-level permissions) and
  # writes reports of bulk imports under its prefix ("Guidelines and requirements for a metric
  # attribution", https://docs.aws.amazon.com/personalize/latest/dg/metric-attribution-requirements.html).
  metric_attribution_statements = var.metric_attribution_prefix == null ? [] : [
    {
      Sid      = "PublishMetricAttribution"
      Effect   = "Allow"
      Action   = "cloudwatch:PutMetricData"
      Resource = "*"
    },
    {
      Sid      = "WriteMetricAttributionReports"
      Effect   = "Allow"
      Action   = "s3:PutObject"
      Resource = "${var.bucket_arn}/${var.metric_attribution_prefix}*"
    },
  ]

  lambda_trust = {
    Version = "2012-10-17"
    Statement = [{
      Sid       = "LambdaFromOurAccountOnly"
      Effect    = "Allow"
      Principal = { Service = "lambda.amazonaws.com" }
      Action    = "sts:AssumeRole"
      Condition = { StringEquals = { "aws:SourceAccount" = var.account_id } }
    }]
  }

  log_group_arn = "arn:${var.partition}:logs:${var.region}:${var.account_id}:log-group:/aws/lambda/${var.api_function_prefix}*"

  api_policy = {
    Version = "2012-10-17"
    Statement = concat(
      length(var.campaign_arns) == 0 ? [] : [{
        Sid      = "RecommendFromOurCampaigns"
        Effect   = "Allow"
        Action   = ["personalize:GetRecommendations", "personalize:GetPersonalizedRanking"]
        Resource = concat(var.campaign_arns, var.filter_arns)
      }],
      [
        {
          Sid      = "ReadCatalogArtifacts"
          Effect   = "Allow"
          Action   = "s3:GetObject"
          Resource = "${var.bucket_arn}/${var.artifacts_prefix}*"
        },
        {
          Sid      = "ReadApiKeys"
          Effect   = "Allow"
          Action   = "ssm:GetParameter"
          Resource = var.api_key_parameter_arn
        },
        {
          # Artifacts through S3, API keys through SSM; never a direct Decrypt call.
          Sid       = "DecryptArtifactsAndApiKeys"
          Effect    = "Allow"
          Action    = "kms:Decrypt"
          Resource  = var.kms_key_arn
          Condition = { StringEquals = { "kms:ViaService" = [local.s3_service, local.ssm_service] } }
        },
        {
          Sid      = "WriteOwnLogs"
          Effect   = "Allow"
          Action   = ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"]
          Resource = [local.log_group_arn, "${local.log_group_arn}:*"]
        },
      ],
    )
  }
}

resource "aws_iam_role" "personalize" {
  name                 = "${var.name}-personalize"
  description          = "Assumed by Amazon Personalize to import data and write batch output"
  assume_role_policy   = jsonencode(local.personalize_trust)
  max_session_duration = 3600
  tags                 = var.tags
}

resource "aws_iam_role_policy" "personalize" {
  name   = "s3-and-kms"
  role   = aws_iam_role.personalize.id
  policy = jsonencode(local.personalize_policy)
}

resource "aws_iam_role" "api" {
  count = var.create_api_role ? 1 : 0

  name                 = "${var.name}-api"
  description          = "Lambda role of the recommendations API"
  assume_role_policy   = jsonencode(local.lambda_trust)
  max_session_duration = 3600
  tags                 = var.tags
}

resource "aws_iam_role_policy" "api" {
  count = var.create_api_role ? 1 : 0

  name   = "recommendations"
  role   = aws_iam_role.api[0].id
  policy = jsonencode(local.api_policy)
}
