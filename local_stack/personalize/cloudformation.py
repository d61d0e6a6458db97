"""CloudFormation support for AWS::Personalize::* resources on the local endpoint.

moto's CloudFormation looks resource types up among the subclasses of
`moto.core.common_models.CloudFormationModel` (`moto/cloudformation/parsing.py`, `get_model_map`,
cached on first use), and moto's model metaclass files each class under the second part of its module
path — here "personalize". So importing this module before the first stack call is all it takes:
the server does `import local_stack.personalize.cloudformation` at startup.

Each class turns the resource's CloudFormation properties (PascalCase) into the Personalize API's
request (camelCase) and calls the emulator's backend, exactly as the real resource handlers call the
service: create waits for ACTIVE, delete waits until the resource is gone, `Ref` returns the ARN and
`Fn::GetAtt` the read-only properties documented in the resource schemas. Properties that
CloudFormation cannot update in place ("createOnlyProperties") make an update a replacement: the new
resource is created first, then the old one deleted — unless the resource's `UpdateReplacePolicy` is
`Retain`, which keeps it (our Terraform relies on that for solutions a live campaign still uses).
"""

from __future__ import annotations

import importlib
import os
import time
from collections.abc import Mapping
from typing import Any, ClassVar

from moto.cloudformation.exceptions import UnformattedGetAttTemplateException, ValidationError
from moto.core.common_models import CloudFormationModel

__all__ = [
    "RESOURCE_TYPES",
    "CfnCampaign",
    "CfnDataset",
    "CfnDatasetGroup",
    "CfnEventTracker",
    "CfnFilter",
    "CfnSchema",
    "CfnSolution",
    "PersonalizeCfnError",
    "to_api",
]

# Map-valued properties whose keys are user data (hyperparameter names...), not field names.
_VERBATIM_MAPS = frozenset(
    {
        "AlgorithmHyperParameters",
        "FeatureTransformationParameters",
        "ItemExplorationConfig",
        "RankingInfluence",
    }
)
_BOOLEAN_KEYS = frozenset(
    {"PerformHPO", "PerformAutoML", "EnableMetadataWithRecommendations", "SyncWithLatestSolutionVersion"}
)
_FAILED = ("CREATE FAILED", "UPDATE FAILED", "DELETE FAILED")


class PersonalizeCfnError(ValidationError):
    """A Personalize resource in a stack could not be created, updated or deleted; names it and why."""

    def __init__(self, resource_type: str, name: str, why: str) -> None:
        super().__init__(message=f"{resource_type} {name!r}: {why}")
        self.resource_type = resource_type
        self.name = name
        self.why = why


def _backend(account_id: str, region_name: str) -> Any:
    # Imported lazily: the backend imports the whole emulator, and this module must stay importable
    # by moto's resource-map scan at server start.
    module = importlib.import_module("local_stack.personalize.backend")
    return module.get_backend(account_id, region_name)


def _wait_seconds() -> float:
    step = float(os.environ.get("LOCAL_STACK_PERSONALIZE_STEP_SECONDS", "0.05") or 0.05)
    return max(30.0, step * 400)


def _lower_first(key: str) -> str:
    return key[:1].lower() + key[1:]


def _as_bool(value: Any) -> Any:
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    return value


def to_api(value: Any, key: str = "") -> Any:
    """CloudFormation property value -> Personalize API value (camelCase keys, Tags -> tagKey/tagValue)."""
    if key == "Tags" and isinstance(value, list):
        return [{"tagKey": t["Key"], "tagValue": t["Value"]} for t in value]
    if key in _VERBATIM_MAPS and isinstance(value, Mapping):
        return {str(k): v for k, v in value.items()}
    if isinstance(value, Mapping):
        return {_lower_first(k): to_api(v, k) for k, v in value.items()}
    if isinstance(value, list):
        return [to_api(v, key) for v in value]
    if key in _BOOLEAN_KEYS:
        return _as_bool(value)
    return value


class _PersonalizeModel:
    """Shared create/update/delete logic; subclasses name the resource type and its API calls.

    Not itself a CloudFormationModel: moto only scans the *direct* subclasses of CloudFormationModel,
    so each concrete resource class lists it as its second base.
    """

    TYPE: ClassVar[str] = ""
    NOUN: ClassVar[str] = ""  # API noun: "DatasetGroup" -> CreateDatasetGroup, datasetGroupArn, ...
    REQUIRED: ClassVar[tuple[str, ...]] = ("Name",)
    CREATE_ONLY: ClassVar[frozenset[str]] = frozenset()
    ATTRIBUTES: ClassVar[tuple[str, ...]] = ()
    HAS_STATUS: ClassVar[bool] = True

    @classmethod
    def cloudformation_type(cls) -> str:
        # moto maps template types to classes with this; TYPE already says it.
        return cls.TYPE

    def __init__(
        self, arn: str, name: str, properties: dict[str, Any], account_id: str, region_name: str
    ) -> None:
        self.arn = arn
        self.name = name
        self.properties = properties
        self.account_id = account_id
        self.region_name = region_name

    # --- moto's CloudFormationModel interface -------------------------------------------------

    @staticmethod
    def cloudformation_name_type() -> str:
        return "Name"

    @classmethod
    def has_cfn_attr(cls, attr: str) -> bool:
        return attr in cls.ATTRIBUTES

    @property
    def physical_resource_id(self) -> str:
        # `Ref` on every AWS::Personalize resource returns its ARN (the schema's primaryIdentifier).
        return self.arn

    def get_cfn_attribute(self, attribute_name: str) -> Any:
        if attribute_name == f"{self.NOUN}Arn":
            return self.arn
        if attribute_name in self.ATTRIBUTES:
            described = self._describe(self.arn, self.account_id, self.region_name)
            value = described.get(_lower_first(attribute_name))
            return str(value) if attribute_name.endswith("DateTime") and value is not None else value
        raise UnformattedGetAttTemplateException()

    @classmethod
    def create_from_cloudformation_json(
        cls,
        resource_name: str,
        cloudformation_json: dict[str, Any],
        account_id: str,
        region_name: str,
        **kwargs: Any,
    ) -> _PersonalizeModel:
        properties = dict(cloudformation_json.get("Properties") or {})
        properties.setdefault("Name", resource_name)
        missing = [p for p in cls.REQUIRED if p not in properties]
        if missing:
            raise PersonalizeCfnError(cls.TYPE, resource_name, f"missing required properties {missing}")
        arn = cls._create(properties, account_id, region_name)
        resource = cls(arn, properties["Name"], properties, account_id, region_name)
        resource._after_create()
        return resource

    @classmethod
    def update_from_cloudformation_json(
        cls,
        original_resource: _PersonalizeModel,
        new_resource_name: str,
        cloudformation_json: dict[str, Any],
        account_id: str,
        region_name: str,
    ) -> _PersonalizeModel:
        new_properties = dict(cloudformation_json.get("Properties") or {})
        new_properties.setdefault("Name", new_resource_name)
        old_properties = original_resource.properties
        changed = {
            k
            for k in set(old_properties) | set(new_properties)
            if old_properties.get(k) != new_properties.get(k)
        }
        if not changed:
            return original_resource
        if changed & cls.CREATE_ONLY:
            replacement = cls.create_from_cloudformation_json(
                new_resource_name, cloudformation_json, account_id, region_name
            )
            if cloudformation_json.get("UpdateReplacePolicy") != "Retain":
                cls._delete(original_resource.arn, account_id, region_name)
            return replacement
        original_resource._update_in_place(new_properties)
        original_resource.properties = new_properties
        return original_resource

    @classmethod
    def delete_from_cloudformation_json(
        cls,
        resource_name: str,
        cloudformation_json: dict[str, Any],
        account_id: str,
        region_name: str,
    ) -> None:
        # moto passes the physical id, which for Personalize resources is the ARN.
        cls._delete(resource_name, account_id, region_name)

    def is_created(self) -> bool:
        return True

    # --- calls into the emulator ----------------------------------------------------------------

    @classmethod
    def _request(cls, properties: Mapping[str, Any]) -> dict[str, Any]:
        return {_lower_first(k): to_api(v, k) for k, v in properties.items()}

    @classmethod
    def _call(
        cls, operation: str, params: dict[str, Any], account_id: str, region_name: str, name: str
    ) -> Any:
        errors = importlib.import_module("local_stack.personalize.errors")
        try:
            return _backend(account_id, region_name).handle(operation, params)
        except errors.PersonalizeError as exc:
            raise PersonalizeCfnError(
                cls.TYPE, name, f"{operation} failed: {exc.code}: {exc.message}"
            ) from exc

    @classmethod
    def _create(cls, properties: dict[str, Any], account_id: str, region_name: str) -> str:
        result = cls._call(
            f"Create{cls.NOUN}", cls._request(properties), account_id, region_name, properties["Name"]
        )
        arn = str(result[f"{_lower_first(cls.NOUN)}Arn"])
        if cls.HAS_STATUS:
            cls._wait_active(arn, account_id, region_name, properties["Name"])
        return arn

    @classmethod
    def _describe(cls, arn: str, account_id: str, region_name: str) -> dict[str, Any]:
        noun = _lower_first(cls.NOUN)
        result = cls._call(f"Describe{cls.NOUN}", {f"{noun}Arn": arn}, account_id, region_name, arn)
        return dict(result[noun])

    @classmethod
    def _wait_active(cls, arn: str, account_id: str, region_name: str, name: str) -> None:
        deadline = time.monotonic() + _wait_seconds()
        while True:
            described = cls._describe(arn, account_id, region_name)
            status = str(described.get("status", "ACTIVE"))
            if status == "ACTIVE":
                return
            if status in _FAILED:
                reason = described.get("failureReason", "no reason given")
                raise PersonalizeCfnError(cls.TYPE, name, f"ended {status}: {reason}")
            if time.monotonic() > deadline:
                raise PersonalizeCfnError(cls.TYPE, name, f"still {status} after {_wait_seconds():.0f}s")
            time.sleep(0.02)

    @classmethod
    def _delete(cls, arn: str, account_id: str, region_name: str) -> None:
        errors = importlib.import_module("local_stack.personalize.errors")
        noun = _lower_first(cls.NOUN)
        try:
            _backend(account_id, region_name).handle(f"Delete{cls.NOUN}", {f"{noun}Arn": arn})
        except errors.ResourceNotFoundException:
            return  # already gone: deleting is idempotent for CloudFormation
        except errors.PersonalizeError as exc:
            # Re-raised as is: moto's stack delete retries failed deletions after the others.
            raise PersonalizeCfnError(
                cls.TYPE, arn, f"Delete{cls.NOUN} failed: {exc.code}: {exc.message}"
            ) from exc
        # Deletion is asynchronous in Personalize; CloudFormation reports DELETE_COMPLETE only once the
        # resource is gone, and dependants (the dataset group) cannot be deleted before.
        deadline = time.monotonic() + _wait_seconds()
        while time.monotonic() < deadline:
            try:
                _backend(account_id, region_name).handle(f"Describe{cls.NOUN}", {f"{noun}Arn": arn})
            except errors.ResourceNotFoundException:
                return
            time.sleep(0.02)
        raise PersonalizeCfnError(
            cls.TYPE, arn, f"still present {_wait_seconds():.0f}s after Delete{cls.NOUN}"
        )

    def _after_create(self) -> None:
        """Hook for work after the resource is ACTIVE (the dataset's embedded import job)."""

    def _update_in_place(self, new_properties: dict[str, Any]) -> None:
        """Apply updatable properties; only resources with an Update API override this."""


class CfnDatasetGroup(_PersonalizeModel, CloudFormationModel):
    TYPE = "AWS::Personalize::DatasetGroup"
    NOUN = "DatasetGroup"
    CREATE_ONLY = frozenset({"Name", "RoleArn", "KmsKeyArn", "Domain", "Tags"})
    ATTRIBUTES = ("DatasetGroupArn",)


class CfnSchema(_PersonalizeModel, CloudFormationModel):
    TYPE = "AWS::Personalize::Schema"
    NOUN = "Schema"
    REQUIRED = ("Name", "Schema")
    CREATE_ONLY = frozenset({"Name", "Schema", "Domain", "Tags"})
    ATTRIBUTES = ("SchemaArn",)
    HAS_STATUS = False


class CfnDataset(_PersonalizeModel, CloudFormationModel):
    TYPE = "AWS::Personalize::Dataset"
    NOUN = "Dataset"
    REQUIRED = ("Name", "DatasetType", "DatasetGroupArn", "SchemaArn")
    CREATE_ONLY = frozenset({"Name", "DatasetType", "DatasetGroupArn", "SchemaArn", "Tags"})
    ATTRIBUTES = ("DatasetArn",)

    @classmethod
    def _request(cls, properties: Mapping[str, Any]) -> dict[str, Any]:
        return super()._request({k: v for k, v in properties.items() if k != "DatasetImportJob"})

    def _after_create(self) -> None:
        self._start_import(self.properties.get("DatasetImportJob"))

    def _start_import(self, job: Any) -> None:
        # The embedded DatasetImportJob starts an import into the new dataset (not waited for: the
        # resource is the dataset; the import's progress shows in DescribeDatasetImportJob).
        if not job:
            return
        location = (job.get("DataSource") or {}).get("DataLocation")
        if not location or not job.get("RoleArn"):
            raise PersonalizeCfnError(
                self.TYPE, self.name, "DatasetImportJob needs DataSource.DataLocation and RoleArn"
            )
        params = {
            "jobName": job.get("JobName") or f"{self.name}-import-{int(time.time())}",
            "datasetArn": self.arn,
            "dataSource": {"dataLocation": location},
            "roleArn": job["RoleArn"],
        }
        self._call("CreateDatasetImportJob", params, self.account_id, self.region_name, self.name)

    def _update_in_place(self, new_properties: dict[str, Any]) -> None:
        # DatasetImportJob is the one updatable property: a changed job starts a new import.
        if new_properties.get("DatasetImportJob") != self.properties.get("DatasetImportJob"):
            self._start_import(new_properties.get("DatasetImportJob"))


class CfnSolution(_PersonalizeModel, CloudFormationModel):
    TYPE = "AWS::Personalize::Solution"
    NOUN = "Solution"
    REQUIRED = ("Name", "DatasetGroupArn")
    CREATE_ONLY = frozenset(
        {
            "Name",
            "EventType",
            "DatasetGroupArn",
            "PerformAutoML",
            "PerformHPO",
            "RecipeArn",
            "SolutionConfig",
            "Tags",
        }
    )
    ATTRIBUTES = ("SolutionArn",)


class CfnFilter(_PersonalizeModel, CloudFormationModel):
    TYPE = "AWS::Personalize::Filter"
    NOUN = "Filter"
    REQUIRED = ("Name", "DatasetGroupArn", "FilterExpression")
    CREATE_ONLY = frozenset({"Name", "DatasetGroupArn", "FilterExpression"})
    ATTRIBUTES = ("FilterArn", "Status", "CreationDateTime", "LastUpdatedDateTime")


class CfnEventTracker(_PersonalizeModel, CloudFormationModel):
    TYPE = "AWS::Personalize::EventTracker"
    NOUN = "EventTracker"
    REQUIRED = ("Name", "DatasetGroupArn")
    CREATE_ONLY = frozenset({"Name", "DatasetGroupArn"})
    ATTRIBUTES = ("EventTrackerArn", "TrackingId")


class CfnCampaign(_PersonalizeModel, CloudFormationModel):
    TYPE = "AWS::Personalize::Campaign"
    NOUN = "Campaign"
    REQUIRED = ("Name", "SolutionVersionArn")
    CREATE_ONLY = frozenset({"Name"})
    ATTRIBUTES = ("CampaignArn", "Status", "CreationDateTime", "LastUpdatedDateTime")

    def _update_in_place(self, new_properties: dict[str, Any]) -> None:
        params: dict[str, Any] = {"campaignArn": self.arn}
        for key in ("SolutionVersionArn", "MinProvisionedTPS", "CampaignConfig"):
            if key in new_properties:
                params[_lower_first(key)] = to_api(new_properties[key], key)
        self._call("UpdateCampaign", params, self.account_id, self.region_name, self.name)
        # UpdateCampaign is asynchronous; the campaign keeps serving ACTIVE while the update deploys.
        deadline = time.monotonic() + _wait_seconds()
        while time.monotonic() < deadline:
            described = self._describe(self.arn, self.account_id, self.region_name)
            latest = described.get("latestCampaignUpdate") or {}
            status = str(latest.get("status", described.get("status", "ACTIVE")))
            if status == "ACTIVE":
                return
            if status in _FAILED:
                raise PersonalizeCfnError(
                    self.TYPE, self.name, f"update ended {status}: {latest.get('failureReason')}"
                )
            time.sleep(0.02)
        raise PersonalizeCfnError(self.TYPE, self.name, "update still in progress")


class CfnMetricAttribution(_PersonalizeModel, CloudFormationModel):
    """AWS::Personalize::MetricAttribution (CloudFormation template reference,
    https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-personalize-metricattribution.html):
    DatasetGroupArn, Metrics and Name require replacement; MetricsOutputConfig updates in place."""

    TYPE = "AWS::Personalize::MetricAttribution"
    NOUN = "MetricAttribution"
    REQUIRED = ("Name", "DatasetGroupArn", "Metrics", "MetricsOutputConfig")
    CREATE_ONLY = frozenset({"Name", "DatasetGroupArn", "Metrics"})
    ATTRIBUTES = ("MetricAttributionArn",)

    def _update_in_place(self, new_properties: dict[str, Any]) -> None:
        params = {
            "metricAttributionArn": self.arn,
            "metricsOutputConfig": to_api(new_properties["MetricsOutputConfig"], "MetricsOutputConfig"),
        }
        self._call("UpdateMetricAttribution", params, self.account_id, self.region_name, self.name)


RESOURCE_TYPES: dict[str, type[CloudFormationModel]] = {
    cls.TYPE: cls
    for cls in (
        CfnDatasetGroup,
        CfnSchema,
        CfnDataset,
        CfnSolution,
        CfnFilter,
        CfnEventTracker,
        CfnCampaign,
        CfnMetricAttribution,
    )
}
