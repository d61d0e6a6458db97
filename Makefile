# Everything runs through make; CI calls the same targets (.ci/run -> make test).
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
ENV ?= local
# ENV=aws needs STAGE=staging|production (each its own state, tfvars and config overrides).
STAGE ?=
PLAN ?=
CONFIRM ?=
AUTO_APPROVE ?=
UNPROTECT ?=
export STAGE
DATA ?= data/sample
SIZE ?= small
OUT ?= data/sample
MODE ?=
SOLUTION ?=
EXPERIMENT ?=
VERSION ?= best
LOCAL_STACK_PORT ?= 4566
API_PORT ?= 8000
export LOCAL_STACK_PORT API_PORT

# Terraform providers: TF_PROVIDER_MIRROR (a filesystem mirror) keeps `terraform init` off the network;
# unset, the helper looks for a mirror in the usual places and otherwise leaves Terraform's own config alone.
TF_PROVIDER_MIRROR ?= $(shell bash scripts/find-provider-mirror)
ifneq ($(strip $(TF_PROVIDER_MIRROR)),)
export TF_CLI_CONFIG_FILE := $(CURDIR)/.terraform.d/cli.tfrc
endif
export TF_PROVIDER_MIRROR
TF_DIR := terraform/envs/$(ENV)

.PHONY: help install lock tf-lock lint typecheck tf-check test test-unit test-functional bench \
	validate sample-data online-retail local-up local-down local-status plan apply destroy bootstrap outputs \
	import train evaluate promote batch events lint-filters serve deploy demo down clean \
	currents-sync currents-sample currents-package forget braze-sync experiment-report

help: ## List every target
	@grep -hE '^[a-zA-Z_-]+:.*?## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*?## "}; {printf "  \033[36m%-16s\033[0m %s\n", $$1, $$2}'

# The lock has every package, pip and setuptools included, each with its hashes; the project itself is
# installed on top, editable and without resolving anything again.
$(VENV)/.installed: requirements/dev.txt pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --require-hashes -r requirements/dev.txt
	$(PY) -m pip install --quiet --no-deps --no-build-isolation -e .
	@touch $@

$(VENV)-checkov/.installed: requirements/checkov.txt
	@test -x $(VENV)-checkov/bin/python || $(PYTHON) -m venv $(VENV)-checkov
	$(VENV)-checkov/bin/python -m pip install --quiet --require-hashes -r requirements/checkov.txt
	@touch $@

.terraform.d/cli.tfrc: scripts/find-provider-mirror Makefile
	@mkdir -p .terraform.d
	@if [ -n "$(TF_PROVIDER_MIRROR)" ]; then \
	  printf 'provider_installation {\n  filesystem_mirror {\n    path    = "%s"\n    include = ["registry.terraform.io/hashicorp/*"]\n  }\n  direct {\n    exclude = ["registry.terraform.io/hashicorp/*"]\n  }\n}\n' "$(TF_PROVIDER_MIRROR)" > $@; \
	else : > $@; fi

install: $(VENV)/.installed ## Create or refresh the virtualenv from the pinned requirements (fast when unchanged)

PIP_TOOLS_VERSION ?= 7.7.0
# No index URLs or find-links in the lock: they are this machine's pip configuration, not the project's.
PIP_COMPILE = CUSTOM_COMPILE_COMMAND="make lock" .venv-lock/bin/pip-compile --quiet --generate-hashes \
	--allow-unsafe --strip-extras --no-emit-index-url --no-emit-find-links $(if $(UPGRADE),--upgrade)

lock: ## Re-pin pyproject.toml's dependencies + dev extra (and checkov) with hashes [UPGRADE=1 for newer]
	@rm -rf .venv-lock && $(PYTHON) -m venv .venv-lock
	.venv-lock/bin/pip install --quiet pip-tools==$(PIP_TOOLS_VERSION)
	$(PIP_COMPILE) --extra dev --output-file requirements/dev.txt pyproject.toml && \
	  $(PIP_COMPILE) --output-file requirements/checkov.txt requirements/checkov.in; rc=$$?; \
	  rm -rf .venv-lock; exit $$rc

tf-lock: .terraform.d/cli.tfrc ## Re-pin the AWS provider in both envs' .terraform.lock.hcl from the provider mirror
	@test -n "$(TF_PROVIDER_MIRROR)" || { echo "no provider mirror: set TF_PROVIDER_MIRROR"; exit 1; }
	@for env in local aws; do \
	  dir=terraform/envs/$$env; data=$$(mktemp -d); \
	  TF_DATA_DIR=$$data terraform -chdir=$$dir init -backend=false -input=false -no-color -upgrade >/dev/null && \
	  TF_DATA_DIR=$$data terraform -chdir=$$dir providers lock -no-color \
	    -fs-mirror="$(TF_PROVIDER_MIRROR)" -platform=linux_amd64; rc=$$?; rm -rf $$data; \
	  [ $$rc -eq 0 ] || exit $$rc; \
	done

lint: install ## ruff over all Python; the import-linter layer contracts in pyproject.toml
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(VENV)/bin/lint-imports --no-cache

typecheck: install ## mypy with disallow_untyped_defs
	$(PY) -m mypy personalize_rules scripts/pipeline local_stack chalice_app benchmarks tests

tf-check: install $(VENV)-checkov/.installed .terraform.d/cli.tfrc ## terraform fmt, validate, test, cfn-lint and checkov
	$(PY) -m pipeline.tf_checks --checkov $(VENV)-checkov/bin/checkov

test: install .terraform.d/cli.tfrc lint typecheck tf-check ## Lint, type check, Terraform checks and the whole test suite
	$(PY) -m pytest -q -p no:cacheprovider tests; rc=$$?; \
	  if [ $$rc -eq 5 ]; then echo "pytest collected no tests: failing the suite"; exit 1; fi; exit $$rc

test-unit: install ## Only the fast unit tests
	$(PY) -m pytest -q tests/unit

test-functional: install .terraform.d/cli.tfrc ## Only the functional tests (local stack, terraform)
	$(PY) -m pytest -q tests/functional

bench: install ## Benchmarks: validator, emulator, API, Currents bridge, braze-sync (figures, ratios against baselines)
	$(PY) benchmarks/validate_throughput.py
	$(PY) benchmarks/emulator.py
	BENCH_TRAIN_ONLY=1 $(PY) benchmarks/emulator.py
	$(PY) benchmarks/quality.py
	$(PY) benchmarks/api.py
	$(PY) benchmarks/faults.py
	$(PY) benchmarks/currents.py
	$(PY) benchmarks/braze_sync.py

validate: install ## Check DATA=<dir|s3://…> [REPORT=<file.json>] [EVENT_TYPE=<type>] before an import
	$(PY) -m pipeline.validate $(DATA) $(if $(REPORT),--report $(REPORT)) $(if $(EVENT_TYPE),--event-type $(EVENT_TYPE))

sample-data: install ## Write a synthetic retail dataset: [SIZE=small|large] [OUT=<dir>] [SEED=<n>]
	$(PY) -m pipeline.sample_data --size $(SIZE) --out $(OUT) $(if $(SEED),--seed $(SEED))

online-retail: install ## Convert the real Online Retail log into the three datasets [OUT=data/online-retail]
	$(PY) -m pipeline.online_retail --out $(if $(filter data/sample,$(OUT)),data/online-retail,$(OUT))

local-up: install ## Start the local AWS endpoint (LOCAL_STACK_PORT, default 4566) in the background
	$(PY) -m local_stack up --port $(LOCAL_STACK_PORT)

local-down: install ## Stop the local AWS endpoint(s) this checkout started
	$(PY) -m local_stack down

local-status: install ## Is the local endpoint up?
	$(PY) -m local_stack status

INFRA_ARGS = --env $(ENV) $(if $(STAGE),--stage $(STAGE))

plan: install .terraform.d/cli.tfrc ## terraform plan for ENV=local|aws [STAGE=staging|production] [PLAN=<file> to save it]
	$(PY) -m pipeline plan $(INFRA_ARGS) $(if $(PLAN),--plan-file $(PLAN))

apply: install .terraform.d/cli.tfrc ## terraform apply: PLAN=<saved plan>, or asks on a terminal (AUTO_APPROVE=1 for CI)
	$(PY) -m pipeline apply $(INFRA_ARGS) $(if $(PLAN),--plan-file $(PLAN)) $(if $(filter 1 true yes,$(AUTO_APPROVE)),--auto-approve)

destroy: install .terraform.d/cli.tfrc ## terraform destroy: needs CONFIRM=<local|staging|production> [UNPROTECT=1 releases the data bucket and key]
	$(PY) -m pipeline destroy $(INFRA_ARGS) $(if $(CONFIRM),--confirm $(CONFIRM)) $(if $(filter 1 true yes,$(UNPROTECT)),--unprotect)

bootstrap: install .terraform.d/cli.tfrc ## Create the S3 state bucket of ENV=aws STAGE=<stage> and write its backend config
	$(PY) -m pipeline bootstrap --env aws $(if $(STAGE),--stage $(STAGE)) $(if $(filter 1 true yes,$(AUTO_APPROVE)),--auto-approve)

outputs: install .terraform.d/cli.tfrc ## Print the Terraform outputs the scripts and the API use
	$(PY) -m pipeline outputs $(INFRA_ARGS)

import: install ## Validate, upload and import DATA=<dir> [MODE=FULL|INCREMENTAL]
	$(PY) -m pipeline import --env $(ENV) --data $(DATA) $(if $(MODE),--mode $(MODE))

train: install ## Train [SOLUTION=<name>] [MODE=FULL|UPDATE]; prints metrics
	$(PY) -m pipeline train --env $(ENV) $(if $(SOLUTION),--solution $(SOLUTION)) $(if $(MODE),--mode $(MODE))

evaluate: install ## Metrics table of every solution version and report under reports/
	$(PY) -m pipeline evaluate --env $(ENV)

experiment-report: install ## Conversion per variant and lift with its interval [EXPERIMENT=<name>]; report under reports/
	$(PY) -m pipeline experiment-report --env $(ENV) $(if $(EXPERIMENT),--experiment $(EXPERIMENT))

promote: install ## Point the campaign at VERSION=<arn>|best (FORCE=1 to accept a worse one)
	$(PY) -m pipeline promote --env $(ENV) --version $(VERSION) $(if $(FORCE),--force)

batch: install ## Batch recommendations for USERS=<file> [FILTER=<name>]
	$(PY) -m pipeline batch --env $(ENV) --users $(USERS) $(if $(FILTER),--filter $(FILTER))

events: install ## Stream interactions from FILE=<csv> through the event tracker
	$(PY) -m pipeline events --env $(ENV) --file $(FILE)

currents-sync: install ## Run the Currents bridge (the Lambda's handler) over new objects under currents.prefix
	$(PY) -m pipeline currents-sync --env $(ENV)

currents-sample: install ## Write Currents Avro files in Braze's S3 layout from DATA=<dir> [LAST=<n>] [OUT=<dir>]
	$(PY) -m pipeline currents-sample --env $(ENV) --data $(DATA) $(if $(LAST),--last $(LAST)) $(if $(filter-out data/sample,$(OUT)),--out $(OUT))

currents-package: install ## Build build/currents-lambda.zip (pipeline + fastavro for the Lambda runtime) for terraform/modules/currents
	rm -rf build/currents-lambda && mkdir -p build/currents-lambda
	@# The lock's fastavro pin with its hashes (the entry continues over "\"-ended lines): the wheel that
	@# gets signed is the one the lock names.
	awk '/^fastavro==/ {p = 1} p {print; if ($$0 !~ /\\$$/) exit}' requirements/dev.txt > build/currents-fastavro.txt
	$(PY) -m pip install --quiet --target build/currents-lambda --only-binary=:all: \
	  --platform manylinux2014_x86_64 --python-version 3.12 --implementation cp \
	  --require-hashes -r build/currents-fastavro.txt
	cp -r scripts/pipeline build/currents-lambda/pipeline
	@# pip's console scripts name this machine's interpreter and Lambda never runs them.
	rm -rf build/currents-lambda/bin
	find build/currents-lambda -name __pycache__ -prune -exec rm -rf {} +
	$(PY) -m pipeline.lambda_zip build/currents-lambda build/currents-lambda.zip

forget: install ## Forget USERS=<file> in Personalize and our S3 copies [BRAZE=1 also deletes them in Braze]
	$(PY) -m pipeline forget --env $(ENV) --users $(USERS) $(if $(BRAZE),--braze)

braze-sync: install ## Batch recommendations -> Braze profiles (/users/track) [JOB=<batch job name>] [CAMPAIGN=<name>]
	$(PY) -m pipeline braze-sync --env $(ENV) $(if $(JOB),--job $(JOB)) $(if $(CAMPAIGN),--campaign $(CAMPAIGN))

lint-filters: install ## Parse every configured filter and check it against the schemas
	$(PY) -m pipeline lint-filters

serve: install ## Run the API locally (chalice local, API_PORT) against the local stack
	$(PY) -m pipeline serve --env $(ENV) --port $(API_PORT)

deploy: install .terraform.d/cli.tfrc ## chalice deploy with the Terraform-made role (ENV=aws)
	$(PY) -m pipeline deploy --env $(ENV)

demo: install .terraform.d/cli.tfrc ## The whole job on the local stack, from data to a rendered Braze Content Card
	$(PY) -m pipeline demo $(if $(filter online-retail,$(DATA)),--data online-retail)

down: ## Stop everything the demo started
	@if [ -x $(PY) ]; then $(PY) -m pipeline down; fi

clean: down ## Remove the virtualenvs, generated data and reports
	rm -rf $(VENV) $(VENV)-checkov .terraform.d data reports .local
