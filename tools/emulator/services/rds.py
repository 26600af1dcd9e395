"""RDS in the emulator: fixes to moto 5.2 and, in realistic mode, the DB instance lifecycle.

Fixes (always on):
- DescribeDBParameterGroups of a missing name fails with DBParameterGroupNotFound;
- a new MySQL 8 DB parameter group holds the engine-default parameters;
- gp3 baseline IOPS and throughput in DescribeDBInstances;
- DeleteDBSubnetGroup refused while an instance (deleting ones included) uses the group;
- option groups for MySQL 8.4, refused deletion while an instance or a snapshot uses them;
- Performance Insights and Enhanced Monitoring settings kept, returned and checked as RDS does;
- a master password RDS manages in Secrets Manager (ManageMasterUserPassword) is one RDS
  generates for the instance's master user, rotated every 7 days unless the secret's schedule
  says otherwise, and rotated by RDS itself (see _install_managed_password).

Realistic mode: CreateDBInstance answers ``creating``, then ``backing-up`` (the first automated
backup), then ``available``: ~7 min single-AZ, ~15 min Multi-AZ, with no ``Endpoint`` until the
instance is available; ModifyDBInstance with ApplyImmediately is ``modifying`` ~5 min;
DeleteDBInstance is ``deleting`` ~6 min, and its final snapshot appears when it is gone.
Calls that need an available instance are refused with InvalidDBInstanceState meanwhile.
(RDS UG "Viewing Amazon RDS DB instance status"; timings: shared/aws-behaviour.md, from
hashicorp/terraform#498, TF#43322, terraform#32358.)
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import realism

CREATE_SECONDS = {False: 420, True: 900}  # single-AZ ~7 min, Multi-AZ ~15 min
BACKUP_SECONDS = 60  # the last minute of a create: the first automated backup
MODIFY_SECONDS = 300
DELETE_SECONDS = 360
# Modifications that change the instance itself and put it in "modifying"; others (deletion
# protection, backup window, tags...) are settings RDS records at once.
INSTANCE_CHANGES = {"db_instance_class", "allocated_storage", "multi_az", "engine_version", "storage_type",
                    "iops", "storage_throughput", "max_allocated_storage"}


# Instance classes Performance Insights (Database Insights) does not support for RDS for MySQL
# (RDS User Guide, "Amazon RDS DB engine, Region, and instance class support for Database Insights").
NO_PERFORMANCE_INSIGHTS = {"db.t2.micro", "db.t2.small", "db.t3.micro", "db.t3.small", "db.t4g.micro", "db.t4g.small"}
# PerformanceInsightsRetentionPeriod: 7, 31 x 1-23 months, or 731 (RDS API reference, CreateDBInstance).
PI_RETENTION_DAYS = {7, 731} | {31 * months for months in range(1, 24)}
# MonitoringInterval (RDS API reference, CreateDBInstance).
MONITORING_INTERVALS = {0, 1, 5, 10, 15, 30, 60}


def install() -> None:
    _install_fixes()
    _install_options_and_insight()
    _install_managed_password()
    _install_lifecycle()


def install_fleet(fleet) -> None:
    """With the local fleet: a DB snapshot keeps its instance's data, and an instance restored
    from one starts with that data ("you can create a new DB instance by restoring from a DB
    snapshot", RDS User Guide, "Restoring to a DB instance"; AWS Backup's RDS recovery points
    are such snapshots, AWS Backup Developer Guide, "Amazon RDS backups")."""
    from moto.rds.models import DBInstance, RDSBackend

    # "available" means the server answers (RDS User Guide, "Viewing Amazon RDS DB instance
    # status"): a MySQL instance is not available before its stand-in has booted, however soon
    # the lifecycle would have it so.
    def get_status(self):
        status = self.__dict__.get("shop_status", "available")
        return "backing-up" if status == "available" and getattr(self, "shop_awaiting_standin", False) else status

    def set_status(self, value):
        self.__dict__["shop_status"] = value

    DBInstance.status = property(get_status, set_status)
    original_create = RDSBackend.create_db_instance

    def create_db_instance(self, db_kwargs):
        database = original_create(self, db_kwargs)
        # Marked before the fleet may start its stand-in (it waits for the mark): the snapshot a
        # restore starts from, then the wait for the stand-in.
        database.shop_restored_from = self.__dict__.pop("shop_restoring", None)
        database.shop_awaiting_standin = str(database.engine).startswith(("mysql", "mariadb"))
        return database

    RDSBackend.create_db_instance = create_db_instance

    original_snapshot = RDSBackend.create_db_snapshot
    original_restore = RDSBackend.restore_db_instance_from_db_snapshot

    def create_db_snapshot(self, db_instance_identifier, db_snapshot_identifier, *args, **kwargs):
        snapshot = original_snapshot(self, db_instance_identifier, db_snapshot_identifier, *args, **kwargs)
        fleet.snapshot_data(snapshot.database, snapshot.arn)
        return snapshot

    def restore_db_instance_from_db_snapshot(self, from_snapshot_id, overrides):
        # An ARN's name may hold colons (AWS Backup's "awsbackup:job-..."), which moto's parsing cuts.
        name = from_snapshot_id.split(":", 6)[6] if from_snapshot_id.startswith("arn:") else from_snapshot_id
        snapshot = self.describe_db_snapshots(db_instance_identifier=None, db_snapshot_identifier=name)[0]
        self.shop_restoring = snapshot.arn
        try:
            return original_restore(self, name, overrides)
        finally:
            self.__dict__.pop("shop_restoring", None)

    RDSBackend.create_db_snapshot = create_db_snapshot
    RDSBackend.restore_db_instance_from_db_snapshot = restore_db_instance_from_db_snapshot


def _install_fixes() -> None:
    # DescribeDBParameterGroups with a DBParameterGroupName that does not exist fails with
    # DBParameterGroupNotFound (RDS API reference, Errors); moto 5.2 answers an empty list.
    from moto.rds.exceptions import DBParameterGroupNotFoundError, RDSClientError
    from moto.rds.models import DBInstance, DBParameterGroup, RDSBackend

    original_describe_pg = RDSBackend.describe_db_parameter_groups

    def describe_db_parameter_groups(self, db_parameter_group_kwargs):
        found = original_describe_pg(self, db_parameter_group_kwargs)
        name = db_parameter_group_kwargs.get("db_parameter_group_name")
        if name and not found:
            raise DBParameterGroupNotFoundError(name)
        return found

    RDSBackend.describe_db_parameter_groups = describe_db_parameter_groups

    # A snapshot named by its identifier is found whatever its type: AWS Backup's ("awsbackup")
    # are restored with RestoreDBInstanceFromDBSnapshot (AWS Backup Developer Guide, "Restore an
    # Amazon RDS database"); moto 5.2 looks among manual and automated ones only.
    original_describe_snapshots = RDSBackend.describe_db_snapshots

    def describe_db_snapshots(self, db_instance_identifier, db_snapshot_identifier=None, snapshot_type=None,
                              filters=None):
        named = self.database_snapshots.get(db_snapshot_identifier or "")
        if named is not None and snapshot_type is None and not filters and not db_instance_identifier:
            return [named]
        return original_describe_snapshots(self, db_instance_identifier, db_snapshot_identifier, snapshot_type, filters)

    RDSBackend.describe_db_snapshots = describe_db_snapshots

    # RestoreDBInstanceFromDBSnapshot with MultiAZ (or DeletionProtection...) false gives a
    # Single-AZ instance (RDS API reference); moto 5.2 drops false overrides and keeps the
    # snapshot's value.
    original_restore = RDSBackend.restore_db_instance_from_db_snapshot

    def restore_db_instance_from_db_snapshot(self, from_snapshot_id, overrides):
        database = original_restore(self, from_snapshot_id, overrides)
        for key, value in overrides.items():
            if value is False and hasattr(database, key):
                setattr(database, key, False)
        return database

    RDSBackend.restore_db_instance_from_db_snapshot = restore_db_instance_from_db_snapshot

    # A new DB parameter group holds its family's engine-default parameters (Source
    # "engine-default", IsModifiable), which DescribeDBParameters lists and
    # ModifyDBParameterGroup changes. moto 5.2 starts it empty, so modules that check a
    # parameter exists before setting it never set it. MySQL 8 families get the subset in
    # mysql8_parameters.json.
    defaults_file = Path(__file__).resolve().parents[1] / "mysql8_parameters.json"
    mysql8_defaults = json.loads(defaults_file.read_text())["parameters"]
    original_pg_init = DBParameterGroup.__init__

    def pg_init(self, *args, **kwargs):
        original_pg_init(self, *args, **kwargs)
        if (self.family or "").startswith("mysql8"):
            for parameter in mysql8_defaults:
                self.parameters[parameter["ParameterName"]] = dict(
                    parameter, Source="engine-default", IsModifiable=True
                )

    DBParameterGroup.__init__ = pg_init

    def pg_update_parameters(self, new_parameters):
        for new_parameter in new_parameters:
            self.parameters[new_parameter["ParameterName"]].update(new_parameter, Source="user")

    DBParameterGroup.update_parameters = pg_update_parameters

    # gp3 storage always has a baseline: for MySQL under 400 GiB 3,000 IOPS and 125 MiBps,
    # from 400 GiB 12,000 IOPS and 500 MiBps (RDS User Guide, "gp3 storage"). AWS returns
    # both in DescribeDBInstances; moto 5.2 leaves them out unless they were set.
    original_instance_init = DBInstance.__init__

    def instance_init(self, *args, **kwargs):
        original_instance_init(self, *args, **kwargs)
        if getattr(self, "storage_type", None) == "gp3":
            large = int(getattr(self, "allocated_storage", 0) or 0) >= 400
            if not getattr(self, "iops", None):
                self.iops = 12000 if large else 3000
            if not self.storage_throughput:
                self._storage_throughput = 500 if large else 125

    DBInstance.__init__ = instance_init

    # DeleteDBSubnetGroup: "InvalidDBSubnetGroupStateFault: The DB subnet group cannot be
    # deleted because it's in use" (RDS API reference); moto 5.2 deletes it from under the
    # instance. A deleting instance still uses it.
    original_delete_subnet_group = RDSBackend.delete_subnet_group

    def delete_subnet_group(self, subnet_name):
        users = [d.db_instance_identifier for d in self.databases.values()
                 if getattr(getattr(d, "db_subnet_group", None), "name", None) == subnet_name]
        if users:
            raise RDSClientError("InvalidDBSubnetGroupStateFault",
                                 f"Cannot delete the subnet group '{subnet_name}' because at least one database "
                                 f"instance: {users[0]} is still using it.")
        return original_delete_subnet_group(self, subnet_name)

    RDSBackend.delete_subnet_group = delete_subnet_group


def _install_options_and_insight() -> None:
    from moto.iam.models import iam_backends
    from moto.rds.exceptions import OptionGroupNotFoundFaultError, RDSClientError
    from moto.rds.models import DBInstance, OptionGroup, RDSBackend

    # Option groups exist for RDS for MySQL 8.4, and its MARIADB_AUDIT_PLUGIN option with them
    # (RDS User Guide, "Options for MySQL DB instances": all MySQL 8.4 versions); moto 5.2 knows
    # MySQL majors up to 8.0 only.
    original_create_og = RDSBackend.create_option_group

    def create_option_group(self, option_group_kwargs):
        if option_group_kwargs.get("engine_name") != "mysql" or option_group_kwargs.get("major_engine_version") != "8.4":
            return original_create_og(self, option_group_kwargs)
        name = option_group_kwargs["option_group_name"]
        if name in self.option_groups:
            raise RDSClientError("OptionGroupAlreadyExistsFault", f"An option group named {name} already exists.")
        if not option_group_kwargs.get("option_group_description"):
            raise RDSClientError("InvalidParameterValue",
                                 "The parameter OptionGroupDescription must be provided and must not be blank.")
        self.option_groups[name] = OptionGroup(self, **option_group_kwargs)
        return self.option_groups[name]

    RDSBackend.create_option_group = create_option_group

    # DeleteOptionGroup of a group an instance or a DB snapshot uses: InvalidOptionGroupStateFault
    # (RDS User Guide, "Deleting an option group"); moto 5.2 deletes it.
    original_delete_og = RDSBackend.delete_option_group

    def delete_option_group(self, option_group_name):
        if option_group_name not in self.option_groups:
            raise OptionGroupNotFoundFaultError(option_group_name)
        name = option_group_name.lower()
        users = [d for d in self.databases.values() if str(getattr(d, "option_group_name", "")).lower() == name]
        users += [s for s in self.database_snapshots.values()
                  if str(getattr(s.database, "option_group_name", "")).lower() == name]
        if users:
            raise RDSClientError("InvalidOptionGroupStateFault",
                                 f"The option group '{option_group_name}' cannot be deleted because it is in use.")
        return original_delete_og(self, option_group_name)

    RDSBackend.delete_option_group = delete_option_group

    def check_insight(self, database, kwargs) -> None:
        """Refuse what RDS refuses of Performance Insights and Enhanced Monitoring settings."""
        instance_class = kwargs.get("db_instance_class") or getattr(database, "db_instance_class", "")
        pi_enabled = kwargs.get("enable_performance_insights")
        if pi_enabled is None:
            pi_enabled = bool(getattr(database, "performance_insights_enabled", False))
        if pi_enabled and instance_class in NO_PERFORMANCE_INSIGHTS:
            raise RDSClientError("InvalidParameterCombination", "Performance Insights not supported for this configuration.")
        retention = kwargs.get("performance_insights_retention_period")
        if retention is not None and int(retention) not in PI_RETENTION_DAYS:
            raise RDSClientError("InvalidParameterValue",
                                 f"Invalid Performance Insights retention period {retention}: valid values are 7, "
                                 "month * 31 (month 1-23) and 731.")
        interval = kwargs.get("monitoring_interval")
        if interval is None:
            interval = getattr(database, "monitoring_interval", 0) or 0
        if int(interval) not in MONITORING_INTERVALS:
            raise RDSClientError("InvalidParameterValue",
                                 f"Invalid MonitoringInterval {interval}: valid values are 0, 1, 5, 10, 15, 30, 60.")
        role_arn = kwargs.get("monitoring_role_arn") or getattr(database, "monitoring_role_arn", None)
        if int(interval) > 0:
            # "If MonitoringInterval is set to a value other than 0, supply a MonitoringRoleArn value"
            # (RDS API reference); the role must let monitoring.rds.amazonaws.com assume it (RDS
            # User Guide, "Setting up and enabling Enhanced Monitoring").
            if not role_arn:
                raise RDSClientError("InvalidParameterCombination", "A MonitoringRoleARN value is required if you "
                                     "specify a MonitoringInterval value other than 0.")
            role_name = str(role_arn).rsplit("/", 1)[-1]
            roles = [r for r in iam_backends[self.account_id]["global"].roles.values() if r.name == role_name]
            if not roles or "monitoring.rds.amazonaws.com" not in str(roles[0].assume_role_policy_document):
                raise RDSClientError("InvalidParameterValue", "IAM role ARN value is invalid or does not include the "
                                     "required permissions for: ENHANCED_MONITORING")

    def record_insight(database, kwargs) -> None:
        if kwargs.get("enable_performance_insights") is not None:
            database.performance_insights_enabled = bool(kwargs["enable_performance_insights"])
        if getattr(database, "performance_insights_enabled", False):
            # Defaults: 7 days, the account's aws/rds key (RDS API reference, CreateDBInstance).
            if kwargs.get("performance_insights_retention_period") is not None:
                database.performance_insights_retention_period = int(kwargs["performance_insights_retention_period"])
            elif not getattr(database, "performance_insights_retention_period", None):
                database.performance_insights_retention_period = 7
            database.performance_insights_kms_key_id = (
                kwargs.get("performance_insights_kms_key_id")
                or getattr(database, "performance_insights_kms_key_id", None)
                or f"arn:aws:kms:{database.region}:{database.account_id}:key/aws-rds")
        else:
            database.performance_insights_enabled = False
            database.performance_insights_retention_period = None
            database.performance_insights_kms_key_id = None
        if kwargs.get("monitoring_interval") is not None:
            database.monitoring_interval = int(kwargs["monitoring_interval"])
        if kwargs.get("monitoring_role_arn"):
            database.monitoring_role_arn = kwargs["monitoring_role_arn"]
        database.monitoring_interval = int(getattr(database, "monitoring_interval", 0) or 0)
        # The instance's OS metrics go to the log stream named by its resource ID in RDSOSMetrics.
        database.enhanced_monitoring_resource_arn = (
            f"arn:aws:logs:{database.region}:{database.account_id}:log-group:RDSOSMetrics:log-stream:"
            f"{database.dbi_resource_id}" if database.monitoring_interval else None)

    original_create = RDSBackend.create_db_instance
    original_modify = RDSBackend.modify_db_instance

    def create_db_instance(self, db_kwargs):
        check_insight(self, None, db_kwargs)
        database = original_create(self, db_kwargs)
        record_insight(database, db_kwargs)
        return database

    def modify_db_instance(self, db_instance_identifier, db_kwargs):
        check_insight(self, self.describe_db_instances(db_instance_identifier)[0], db_kwargs)
        database = original_modify(self, db_instance_identifier, db_kwargs)
        record_insight(database, db_kwargs)
        return database

    RDSBackend.create_db_instance = create_db_instance
    RDSBackend.modify_db_instance = modify_db_instance
    DBInstance.performance_insights_enabled = False


def _install_managed_password() -> None:
    """The master password RDS manages in Secrets Manager (RDS User Guide, "Password management
    with Amazon RDS and AWS Secrets Manager"; RDS API reference, ModifyDBInstance):
    - "RDS generates the password and stores it in Secrets Manager", for the instance's master
      user; moto 5.2 stores {"username": "admin", "password": "P@55w0rd!"} whatever the instance,
      and the instance (and the fleet's stand-in) keeps its former password;
    - "RDS ... rotates the secret every seven days by default", a schedule the secret's owner may
      change (RotateSecret with RotationRules, Secrets Manager User Guide, "Managed rotation");
    - a rotation (ModifyDBInstance RotateMasterUserPassword, or RotateSecret on the managed
      secret) is done by RDS, without a Lambda function: a new password becomes AWSCURRENT (the
      former AWSPREVIOUS) and the instance takes it; moto 5.2 adds an empty version;
    - MasterUserPassword "can't be specified if ManageMasterUserPassword is turned on", and
      turning management off needs one ("you must specify MasterUserPassword");
    - a DB snapshot restored into a MySQL instance keeps the snapshot's master password:
      RestoreDBInstanceFromDBSnapshot's ManageMasterUserPassword "applies to RDS for Oracle only".
    """
    import secrets
    import string

    from moto.rds.exceptions import RDSClientError
    from moto.rds.models import MasterUserSecret, RDSBackend
    from moto.secretsmanager.exceptions import InvalidParameterException
    from moto.secretsmanager.models import SecretsManagerBackend

    alphabet = string.ascii_letters + string.digits
    owners: dict[str, object] = {}  # managed secret's ARN -> its DB instance

    def generated() -> str:
        return "".join(secrets.choice(alphabet) for _ in range(32))  # RDS for MySQL: 8 to 41 characters

    original_init = MasterUserSecret.__init__

    def init(self, resource, kms_key_id):
        original_init(self, resource, kms_key_id)
        password = generated()
        value = json.dumps({"username": resource.master_username, "password": password})
        self.secret.secret_string = self.secret.versions[self.secret.default_version_id]["secret_string"] = value
        self.secret.rotation_requested = self.secret.rotation_enabled = True
        self.secret.auto_rotate_after_days = 7
        resource._master_user_password = password
        owners[self.secret.arn] = resource

    MasterUserSecret.__init__ = init

    original_rotate = SecretsManagerBackend.rotate_secret

    def rotate_secret(self, secret_id, client_request_token=None, rotation_lambda_arn=None, rotation_rules=None,
                      rotate_immediately=True):
        secret = self.describe_secret(secret_id) if self._is_valid_identifier(secret_id) else None
        if secret is None or secret.owning_service != "rds" or getattr(secret, "is_deleted", bool)():
            return original_rotate(self, secret_id, client_request_token, rotation_lambda_arn, rotation_rules,
                                   rotate_immediately)
        days = (rotation_rules or {}).get("AutomaticallyAfterDays")
        if days is not None:
            if not 1 <= int(days) <= 1000:
                raise InvalidParameterException("RotationRules.AutomaticallyAfterDays must be within 1-1000.")
            secret.auto_rotate_after_days = int(days)
        secret.rotation_requested = secret.rotation_enabled = True
        if rotate_immediately:
            current = json.loads(secret.versions[secret.default_version_id]["secret_string"])
            password = generated()
            self.put_secret_value(secret.arn, json.dumps({**current, "password": password}), None,
                                  client_request_token, ["AWSCURRENT"])
            secret.last_rotation_date = int(time.time())
            owner = owners.get(secret.arn)
            if owner is not None:
                owner._master_user_password = password
        secret.next_rotation_date = int(time.time()) + secret.auto_rotate_after_days * 86400
        return secret.to_short_dict()

    SecretsManagerBackend.rotate_secret = rotate_secret

    original_modify = RDSBackend.modify_db_instance
    original_restore = RDSBackend.restore_db_instance_from_db_snapshot

    def modify_db_instance(self, db_instance_identifier, db_kwargs):
        database = self.describe_db_instances(db_instance_identifier)[0]
        managed = bool(getattr(database, "manage_master_user_password", False))
        manage, password = db_kwargs.get("manage_master_user_password"), db_kwargs.get("master_user_password")
        if password and (manage is True or (managed and manage is not False)):
            raise RDSClientError("InvalidParameterCombination",
                                 "You can't specify MasterUserPassword for an instance that manages the master user "
                                 "password with Secrets Manager.")
        if manage is False and managed and not password:
            raise RDSClientError("InvalidParameterCombination",
                                 "You must specify MasterUserPassword when you turn off the management of the master "
                                 "user password with Secrets Manager.")
        if db_kwargs.get("rotate_master_user_password") and not managed:
            raise RDSClientError("InvalidParameterCombination",
                                 "You can't rotate the master user password of an instance that doesn't manage it "
                                 "with Secrets Manager.")
        return original_modify(self, db_instance_identifier, db_kwargs)

    def restore_db_instance_from_db_snapshot(self, from_snapshot_id, overrides):
        name = from_snapshot_id.split(":", 6)[6] if from_snapshot_id.startswith("arn:") else from_snapshot_id
        source = self.describe_db_snapshots(db_instance_identifier=None, db_snapshot_identifier=name)[0].database
        managed = source.__dict__.get("manage_master_user_password")
        source.manage_master_user_password = False
        try:
            return original_restore(self, from_snapshot_id, overrides)
        finally:
            source.manage_master_user_password = managed

    RDSBackend.modify_db_instance = modify_db_instance
    RDSBackend.restore_db_instance_from_db_snapshot = restore_db_instance_from_db_snapshot


def _install_lifecycle() -> None:
    from moto.rds.exceptions import RDSClientError
    from moto.rds.models import DBInstance, RDSBackend

    def invalid_state(identifier: str, status: str) -> RDSClientError:
        return RDSClientError("InvalidDBInstanceState", f"Instance {identifier} is not in available state ({status}).")

    # Endpoint: "not returned while the instance is being created" (RDS API reference,
    # DBInstance.Endpoint); moto answers one at once.
    original_endpoint = DBInstance.endpoint

    def endpoint(self):
        if getattr(self, "status", "available") in ("creating", "backing-up") and getattr(self, "shop_new", False):
            return None
        return original_endpoint.fget(self)

    DBInstance.endpoint = property(endpoint)

    original_create = RDSBackend.create_db_instance
    original_modify = RDSBackend.modify_db_instance
    original_delete = RDSBackend.delete_db_instance

    def create_db_instance(self, db_kwargs):
        database = original_create(self, db_kwargs)
        if not realism.SETTINGS.realistic:
            return database
        total = CREATE_SECONDS[bool(database.multi_az)]
        database.status, database.shop_new = "creating", True

        def backing_up():
            if database.status == "creating":
                database.status = "backing-up"

        def available():
            if database.status == "backing-up":
                database.status, database.shop_new = "available", False

        realism.later(total - BACKUP_SECONDS, backing_up)
        realism.later(total, available)
        return database

    # Changes that need the instance (class, storage, Multi-AZ...) apply while it is
    # "modifying"; ModifyDBInstance refuses an instance that is not available.
    settled = {"available", "storage-optimization"}

    def modify_db_instance(self, db_instance_identifier, db_kwargs):
        database = self.describe_db_instances(db_instance_identifier)[0]
        if realism.SETTINGS.realistic and database.status not in settled:
            raise invalid_state(db_instance_identifier, database.status)
        database = original_modify(self, db_instance_identifier, db_kwargs)
        touches = INSTANCE_CHANGES & {key for key, value in db_kwargs.items() if value is not None}
        if realism.SETTINGS.realistic and db_kwargs.get("apply_immediately") and touches:
            database.status = "modifying"
            realism.later(MODIFY_SECONDS,
                          lambda: database.status == "modifying" and setattr(database, "status", "available"))
        return database

    def delete_db_instance(self, db_instance_identifier, final_db_snapshot_identifier=None,
                           skip_final_snapshot=False, delete_automated_backups=True):
        if not realism.SETTINGS.realistic:
            return original_delete(self, db_instance_identifier, final_db_snapshot_identifier,
                                   skip_final_snapshot, delete_automated_backups)
        database = self.describe_db_instances(db_instance_identifier)[0]
        if database.status == "deleting":
            raise RDSClientError("InvalidDBInstanceState", f"Instance {db_instance_identifier} is already being deleted.")
        if database.deletion_protection:
            return original_delete(self, db_instance_identifier, final_db_snapshot_identifier,
                                   skip_final_snapshot, delete_automated_backups)
        if final_db_snapshot_identifier and not skip_final_snapshot and \
                final_db_snapshot_identifier in self.database_snapshots:
            raise RDSClientError("DBSnapshotAlreadyExists",
                                 f"Cannot create the snapshot because a snapshot with the identifier "
                                 f"{final_db_snapshot_identifier} already exists.")
        database.status = "deleting"
        realism.later(DELETE_SECONDS, lambda: db_instance_identifier in self.databases and original_delete(
            self, db_instance_identifier, final_db_snapshot_identifier, skip_final_snapshot, delete_automated_backups))
        return database

    RDSBackend.create_db_instance = create_db_instance
    RDSBackend.modify_db_instance = modify_db_instance
    RDSBackend.delete_db_instance = delete_db_instance
