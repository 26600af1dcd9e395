"""AWS Backup in the emulator: the backup plan and selection operations moto 5.2 lacks, after
the AWS Backup API reference.

- UpdateBackupPlan replaces a plan's document and gives it a new VersionId.
- CreateBackupSelection, GetBackupSelection, ListBackupSelections, DeleteBackupSelection: the
  resources a plan backs up, with the IAM role AWS Backup assumes for them (IamRoleArn is
  required; a missing plan is ResourceNotFoundException).
- DeleteBackupPlan refuses a plan that still has selections ("A backup plan can only be
  deleted after all associated selections of resources have been deleted", DeleteBackupPlan).
- A plan may take the name of a deleted one (moto 5.2 counted deleted plans as taking it).
- DescribeBackupVault of a vault that does not exist answers AccessDeniedException,
  "Insufficient privileges to perform this action.", as AWS does even to a caller allowed to
  describe it (reported in aws/aws-sdk-js#2625, hashicorp/terraform-provider-aws#26347, and
  handled so by amazon.aws's backup_vault, ansible-collections/amazon.aws#1436); moto 5.2
  answers ResourceNotFoundException, which that module does not expect.
"""

from __future__ import annotations

import json


def install() -> None:
    from moto.backup.exceptions import (
        AlreadyExistsException,
        InvalidParameterValueException,
        InvalidRequestException,
        ResourceNotFoundException,
    )
    from moto.backup.models import BackupBackend, Plan
    from moto.backup.responses import BackupResponse
    from moto.core.exceptions import JsonRESTError
    from moto.core.utils import unix_time
    from moto.moto_api._internal import mock_random

    def plan_of(backend, plan_id: str):
        plan = backend.plans.get(plan_id)
        if plan is None or plan.deletion_date is not None:
            raise ResourceNotFoundException(msg=f"Failed reading Backup plan with provided version {plan_id}")
        return plan

    def selections_of(backend, plan_id: str) -> dict[str, dict]:
        """The plan's selections by ID, kept on the backend (a reset of the emulator forgets them)."""
        if not hasattr(backend, "shop_selections"):
            backend.shop_selections = {}
        return backend.shop_selections.setdefault(plan_id, {})

    def create_backup_plan(self, backup_plan, backup_plan_tags, creator_request_id):
        if backup_plan["BackupPlanName"] in [p.backup_plan["BackupPlanName"] for p in self.plans.values()
                                             if p.deletion_date is None]:
            raise AlreadyExistsException(msg="Backup plan with the same plan document already exists")
        plan = Plan(backup_plan=backup_plan, creator_request_id=creator_request_id, backend=self)
        if backup_plan_tags:
            self.tag_resource(plan.backup_plan_arn, backup_plan_tags)
        self.plans[plan.backup_plan_id] = plan
        return plan

    def update_backup_plan(self, plan_id: str, backup_plan: dict):
        plan = plan_of(self, plan_id)
        if backup_plan.get("BackupPlanName") != plan.backup_plan["BackupPlanName"]:
            raise InvalidParameterValueException(msg="A backup plan's name cannot be changed")
        fresh = Plan(backup_plan=backup_plan, creator_request_id=plan.creator_request_id, backend=self)
        plan.backup_plan = fresh.backup_plan
        plan.advanced_backup_settings = fresh.advanced_backup_settings
        plan.version_id = fresh.version_id
        return plan

    def delete_backup_plan(self, backup_plan_id: str):
        if selections_of(self, backup_plan_id):
            raise InvalidRequestException(msg="Related backup plan selections must be deleted prior to backup plan deletion")
        return original_delete_plan(self, backup_plan_id)

    original_delete_plan = BackupBackend.delete_backup_plan
    BackupBackend.create_backup_plan = create_backup_plan
    BackupBackend.update_backup_plan = update_backup_plan
    BackupBackend.delete_backup_plan = delete_backup_plan

    def create_backup_selection(self, plan_id: str, selection: dict, creator_request_id: str | None):
        plan_of(self, plan_id)
        if not selection.get("SelectionName") or not selection.get("IamRoleArn"):
            raise InvalidParameterValueException(msg="BackupSelection needs a SelectionName and an IamRoleArn")
        selection_id = str(mock_random.uuid4())
        selections_of(self, plan_id)[selection_id] = {
            "BackupSelection": selection, "SelectionId": selection_id, "BackupPlanId": plan_id,
            "CreationDate": unix_time(), "CreatorRequestId": creator_request_id or ""}
        return selections_of(self, plan_id)[selection_id]

    def selection(self, plan_id: str, selection_id: str) -> dict:
        plan_of(self, plan_id)
        found = selections_of(self, plan_id).get(selection_id)
        if found is None:
            raise ResourceNotFoundException(msg=f"Failed reading backup selection {selection_id}")
        return found

    original_describe_vault = BackupBackend.describe_backup_vault

    def describe_backup_vault(self, backup_vault_name: str):
        if backup_vault_name not in self.vaults:
            error = JsonRESTError("AccessDeniedException", "Insufficient privileges to perform this action.")
            error.code = 403
            raise error
        return original_describe_vault(self, backup_vault_name)

    BackupBackend.describe_backup_vault = describe_backup_vault
    BackupBackend.create_backup_selection = create_backup_selection
    BackupBackend.get_backup_selection = selection

    def plan_id_in_path(response) -> str:
        return response.path.split("/plans/")[1].split("/")[0]

    def update_backup_plan_response(self):
        plan = self.backup_backend.update_backup_plan(plan_id_in_path(self), json.loads(self.body)["BackupPlan"])
        return json.dumps({"BackupPlanId": plan.backup_plan_id, "BackupPlanArn": plan.backup_plan_arn,
                           "CreationDate": plan.creation_date, "VersionId": plan.version_id,
                           "AdvancedBackupSettings": plan.advanced_backup_settings})

    def create_backup_selection_response(self):
        params = json.loads(self.body)
        made = self.backup_backend.create_backup_selection(plan_id_in_path(self), params.get("BackupSelection") or {},
                                                           params.get("CreatorRequestId"))
        return json.dumps({k: made[k] for k in ("SelectionId", "BackupPlanId", "CreationDate")})

    def get_backup_selection_response(self):
        return json.dumps(self.backup_backend.get_backup_selection(plan_id_in_path(self), self.path.rstrip("/").split("/")[-1]))

    def list_backup_selections_response(self):
        plan_id = plan_id_in_path(self)
        plan_of(self.backup_backend, plan_id)
        return json.dumps({"BackupSelectionsList": [
            {"SelectionId": s["SelectionId"], "SelectionName": s["BackupSelection"]["SelectionName"],
             "BackupPlanId": plan_id, "CreationDate": s["CreationDate"], "CreatorRequestId": s["CreatorRequestId"],
             "IamRoleArn": s["BackupSelection"]["IamRoleArn"]}
            for s in selections_of(self.backup_backend, plan_id).values()]})

    def delete_backup_selection_response(self):
        plan_id, selection_id = plan_id_in_path(self), self.path.rstrip("/").split("/")[-1]
        self.backup_backend.get_backup_selection(plan_id, selection_id)
        del selections_of(self.backup_backend, plan_id)[selection_id]
        return "{}"

    BackupResponse.update_backup_plan = update_backup_plan_response
    BackupResponse.create_backup_selection = create_backup_selection_response
    BackupResponse.get_backup_selection = get_backup_selection_response
    BackupResponse.list_backup_selections = list_backup_selections_response
    BackupResponse.delete_backup_selection = delete_backup_selection_response
