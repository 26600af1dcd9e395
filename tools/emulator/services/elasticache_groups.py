"""ElastiCache replication groups (Valkey/Redis OSS, cluster mode disabled) and parameter groups.

moto 5.2 creates a replication group with one member whatever NumCacheClusters asks, lists no
member in DescribeCacheClusters, never finishes a deletion, and has neither
ModifyReplicationGroup, TestFailover nor any cache parameter group operation. Replaced here,
after the ElastiCache API reference (CreateReplicationGroup, ModifyReplicationGroup,
TestFailover, DeleteReplicationGroup, the ReplicationGroup and NodeGroup shapes, and the
CacheParameterGroup operations):

- a group's members are cache clusters ``<group>-001``, ``-002``... (DescribeCacheClusters lists
  them with their ReplicationGroupId), placed in PreferredCacheClusterAZs; the first is the
  primary; the group's PrimaryEndpoint (``master.``) and ReaderEndpoint (``replica.``) names
  stay the same across a failover, which moves the primary role to a replica;
- AutomaticFailoverEnabled needs at least two members, MultiAZEnabled needs automatic
  failover, an AuthToken needs TransitEncryptionEnabled and 16-128 printable characters
  without ``/``, ``"`` or ``@`` (InvalidParameterCombination / InvalidParameterValue);
- ModifyReplicationGroup changes what AWS changes in place (description, failover, Multi-AZ,
  snapshots, node type, a newer engine version, parameter group, security groups, maintenance
  window, minor upgrades, the AUTH token with ROTATE/SET/DELETE); a node type or engine version
  applies at once whatever ApplyImmediately says (the emulator runs no maintenance window);
- TestFailover promotes the first replica, at most 15 times per node group in a rolling 24 hours
  (APICallRateForCustomerExceeded);
- parameter groups of the families redis6.x and redis7 hold the engine's defaults; a default
  group cannot be modified or deleted, a group in use cannot be deleted.

Realistic mode: a group is ``creating`` for CREATE_SECONDS, ``modifying`` while a change applies
(MODIFY_SECONDS; SCALE_SECONDS for a node type), ``modifying`` for FAILOVER_SECONDS of a failover,
``deleting`` for DELETE_SECONDS. Sources: a single node took 395 s (terraform#8275); a Multi-AZ
group took more than 40 min in terraform-provider-aws#2048 and more than 50 in #4093, which
raised the provider's create timeout to 60 min; 12 min is taken as typical of a two-node group.
Failover events ("Test Failover API called", "Failover ... complete") come seconds apart
(TestFailover, API reference).
"""

from __future__ import annotations

import random
import string

import clock
import realism

CREATE_SECONDS = 720
MODIFY_SECONDS = 60
SCALE_SECONDS = 900
FAILOVER_SECONDS = 30
DELETE_SECONDS = 420
FAILOVERS_PER_DAY = 15
TOKEN_FORBIDDEN = set('/"@')

# Parameters of the engine's default groups that the toolkit may set (ElastiCache User Guide,
# "Redis OSS 7 parameter changes" and "Redis OSS 6.x parameter changes"): name ->
# (default, data type, allowed values, description).
PARAMETERS = {
    "maxmemory-policy": ("volatile-lru", "string",
                         "volatile-lru,allkeys-lru,volatile-lfu,allkeys-lfu,volatile-random,allkeys-random,volatile-ttl,noeviction",
                         "Max memory policy."),
    "maxmemory-samples": ("3", "integer", "1-", "Max memory samples."),
    "timeout": ("0", "integer", "0,20-", "Close connection if client is idle for a given number of seconds, or never if 0."),
    "tcp-keepalive": ("300", "integer", "0-", "If non-zero, send ACKs every given number of seconds."),
    "notify-keyspace-events": ("", "string", None, "The keyspace events for Redis to notify Pub/Sub clients about."),
    "reserved-memory-percent": ("25", "integer", "0-100", "The percent of memory reserved for non-cache memory usage."),
    "activedefrag": ("no", "string", "yes,no", "Enabled active memory defragmentation."),
    "lazyfree-lazy-eviction": ("no", "string", "yes,no", "Perform an asynchronous delete on evictions."),
    "close-on-replica-write": ("yes", "string", "yes,no", "Close clients that write to a replica."),
}
FAMILIES = {"redis6.x": "6", "redis7": "7", "valkey7": "7", "valkey8": "8"}


def _short_region(region: str) -> str:
    """eu-west-1 -> euw1, as ElastiCache's endpoint names abbreviate the Region."""
    parts = region.split("-")
    return parts[0] + "".join(p[0] for p in parts[1:-1]) + parts[-1]


def _full_version(text: str) -> str:
    return text if text.count(".") >= 2 else f"{text}.0"


def _version(text: str) -> tuple[int, ...]:
    return tuple(int(p) for p in str(text).split(".") if p.isdigit())


class ParameterGroup:
    def __init__(self, name: str, family: str, description: str, default: bool = False):
        self.name, self.family, self.description, self.default = name, family, description, default
        self.values: dict[str, str] = {}

    def describe(self, region: str, account: str) -> dict:
        return {"CacheParameterGroupName": self.name, "CacheParameterGroupFamily": self.family,
                "Description": self.description, "IsGlobal": False,
                "ARN": f"arn:aws:elasticache:{region}:{account}:parametergroup:{self.name}"}

    def parameters(self, source: str | None) -> list[dict]:
        listed = []
        for name, (default, data_type, allowed, description) in PARAMETERS.items():
            user = name in self.values
            if source == "user" and not user:
                continue
            listed.append({"ParameterName": name, "ParameterValue": self.values.get(name, default),
                           "Description": description, "Source": "user" if user else "system",
                           "DataType": data_type, **({"AllowedValues": allowed} if allowed else {}),
                           "IsModifiable": True, "MinimumEngineVersion": "6.0.0", "ChangeType": "immediate"})
        return listed


class Group:
    """One replication group and its member clusters (kept in the backend's cache_clusters)."""

    def __init__(self, backend, request: dict):
        self.backend = backend
        self.id = request["ReplicationGroupId"]
        self.description = request.get("ReplicationGroupDescription") or ""
        self.status = "available"
        self.node_type = request["CacheNodeType"]
        self.engine = request.get("Engine") or "redis"
        # ElastiCache answers the full version of a major.minor asked for (7.1 -> 7.1.0).
        self.engine_version = _full_version(request.get("EngineVersion") or "7.1")
        self.port = int(request.get("Port") or 6379)
        self.automatic_failover = bool(request.get("AutomaticFailoverEnabled"))
        self.multi_az = bool(request.get("MultiAZEnabled"))
        self.snapshot_retention = int(request.get("SnapshotRetentionLimit") or 0)
        self.snapshot_window = request.get("SnapshotWindow") or "05:00-06:00"
        self.maintenance_window = request.get("PreferredMaintenanceWindow") or "sun:23:00-mon:01:30"
        self.transit = bool(request.get("TransitEncryptionEnabled"))
        self.at_rest = bool(request.get("AtRestEncryptionEnabled"))
        self.kms_key_id = request.get("KmsKeyId")
        self.tokens = [request["AuthToken"]] if request.get("AuthToken") else []
        self.token_modified = clock.now() if self.tokens else None
        self.auto_minor = request.get("AutoMinorVersionUpgrade") in (None, True, "true")
        self.parameter_group = request.get("CacheParameterGroupName") or f"default.redis{self.engine_version.split('.')[0]}"
        self.subnet_group = request.get("CacheSubnetGroupName")
        self.security_groups = list(request.get("SecurityGroupIds") or [])
        self.notification_topic = request.get("NotificationTopicArn")
        self.failovers: list[float] = []
        self.created = clock.now()
        self.arn = f"arn:aws:elasticache:{backend.region_name}:{backend.account_id}:replicationgroup:{self.id}"
        suffix = "".join(random.choices(string.ascii_lowercase + string.digits, k=6))  # noqa: S311 - a name
        self.domain = f"{self.id}.{suffix}.{_short_region(backend.region_name)}.cache.amazonaws.com"
        count = int(request.get("NumCacheClusters") or 1)
        azs = list(request.get("PreferredCacheClusterAZs") or [])
        self.members = [f"{self.id}-{index + 1:03d}" for index in range(count)]
        self.roles = {member: ("primary" if index == 0 else "replica") for index, member in enumerate(self.members)}
        self.azs = {member: (azs[index % len(azs)] if azs else f"{backend.region_name}{'abc'[index % 3]}")
                    for index, member in enumerate(self.members)}

    # ------------------------------------------------------------------ members
    def add_members(self, create_cluster) -> None:
        for member in self.members:
            cluster = create_cluster(
                cache_cluster_id=member, replication_group_id=self.id, az_mode="single-az",
                preferred_availability_zone=self.azs[member], num_cache_nodes=1, cache_node_type=self.node_type,
                engine=self.engine, engine_version=self.engine_version, cache_parameter_group_name=self.parameter_group,
                cache_subnet_group_name=self.subnet_group, transit_encryption_enabled=self.transit, network_type="ipv4",
                ip_discovery="ipv4", snapshot_name=None, preferred_maintenance_window=self.maintenance_window,
                port=self.port, notification_topic_arn=self.notification_topic,
                auto_minor_version_upgrade=self.auto_minor, snapshot_retention_limit=self.snapshot_retention,
                snapshot_window=self.snapshot_window, auth_token=None, outpost_mode=None, preferred_outpost_arn=None,
                preferred_availability_zones=None, cache_security_group_names=None,
                security_group_ids=self.security_groups, tags=None, snapshot_arns=None, preferred_outpost_arns=None,
                log_delivery_configurations=[], cache_node_ids_to_remove=None, cache_node_ids_to_reboot=None)
            cluster.shop_address = f"{member}.{self.domain}"
            cluster.auth_token_enabled = bool(self.tokens)
            cluster.at_rest_encryption_enabled = self.at_rest

    def clusters(self) -> list:
        return [self.backend.cache_clusters[m] for m in self.members if m in self.backend.cache_clusters]

    def set_status(self, status: str) -> None:
        self.status = status
        for cluster in self.clusters():
            cluster.cache_cluster_status = status

    def primary(self) -> str:
        return next(m for m, role in self.roles.items() if role == "primary")

    @property
    def primary_endpoint(self) -> str:
        return f"master.{self.domain}"

    @property
    def reader_endpoint(self) -> str:
        return f"replica.{self.domain}"

    def describe(self) -> dict:
        creating = self.status == "creating"
        members = [{"CacheClusterId": m, "CacheNodeId": "0001",
                    **({} if creating else {"ReadEndpoint": {"Address": f"{m}.{self.domain}", "Port": self.port}}),
                    "PreferredAvailabilityZone": self.azs[m], "CurrentRole": self.roles[m]} for m in self.members]
        node_group = {"NodeGroupId": "0001", "Status": "creating" if creating else "available",
                      "NodeGroupMembers": members}
        if not creating:
            node_group["PrimaryEndpoint"] = {"Address": self.primary_endpoint, "Port": self.port}
            node_group["ReaderEndpoint"] = {"Address": self.reader_endpoint, "Port": self.port}
        described = {
            "ReplicationGroupId": self.id, "Description": self.description, "Status": self.status,
            "PendingModifiedValues": {}, "MemberClusters": list(self.members),
            "NodeGroups": [node_group], "AutomaticFailover": "enabled" if self.automatic_failover else "disabled",
            "MultiAZ": "enabled" if self.multi_az else "disabled", "SnapshotRetentionLimit": self.snapshot_retention,
            "SnapshotWindow": self.snapshot_window, "ClusterEnabled": False, "CacheNodeType": self.node_type,
            "AuthTokenEnabled": bool(self.tokens), "TransitEncryptionEnabled": self.transit,
            "AtRestEncryptionEnabled": self.at_rest, "ARN": self.arn, "LogDeliveryConfigurations": [],
            "ReplicationGroupCreateTime": self.created, "DataTiering": "disabled",
            "AutoMinorVersionUpgrade": self.auto_minor, "NetworkType": "ipv4", "IpDiscovery": "ipv4",
            "ClusterMode": "disabled", "Engine": self.engine,
        }
        if self.snapshot_retention > 0 and self.members:
            described["SnapshottingClusterId"] = self.members[-1]
        if self.token_modified is not None:
            described["AuthTokenLastModifiedDate"] = self.token_modified
        if self.transit:
            described["TransitEncryptionMode"] = "required"
        if self.at_rest and self.kms_key_id:
            described["KmsKeyId"] = self.kms_key_id
        return described


def install() -> None:
    from moto.core.responses import ActionResult, EmptyResult
    from moto.elasticache.exceptions import (
        CacheSubnetGroupNotFound,
        ElastiCacheException,
        ReplicationGroupAlreadyExists,
        ReplicationGroupNotFound,
    )
    from moto.elasticache.models import CacheCluster
    from moto.elasticache.responses import ElastiCacheResponse

    def fault(code: str, message: str) -> ElastiCacheException:
        error = ElastiCacheException(message)
        error.code = code
        return error

    # The member clusters' node addresses are those of the group's domain.
    plain_nodes = CacheCluster.cache_nodes

    def cache_nodes(self):
        nodes = plain_nodes.fget(self)
        address = getattr(self, "shop_address", None)
        for node in nodes:
            if address and "Endpoint" in node:
                node["Endpoint"]["Address"] = address
        return nodes

    CacheCluster.cache_nodes = property(cache_nodes)
    # CacheCluster.CacheParameterGroup (API reference), which moto 5.2 leaves out.
    CacheCluster.cache_parameter_group = property(lambda self: {
        "CacheParameterGroupName": self.cache_parameter_group_name
        or f"default.redis{str(self.engine_version or '7').split('.')[0]}",
        "ParameterApplyStatus": "in-sync", "CacheNodeIdsToReboot": []})

    def groups(backend) -> dict:
        if not hasattr(backend, "shop_groups"):
            backend.shop_groups = {}
        return backend.shop_groups

    def parameter_groups(backend) -> dict:
        if not hasattr(backend, "shop_parameter_groups"):
            backend.shop_parameter_groups = {
                f"default.{family}": ParameterGroup(f"default.{family}", family, f"Default parameter group for {family}",
                                                    default=True) for family in FAMILIES}
        return backend.shop_parameter_groups

    def group_of(backend, group_id: str) -> Group:
        found = groups(backend).get(group_id)
        if found is None:
            raise ReplicationGroupNotFound(group_id)
        return found

    def check_token(token: str) -> None:
        if not 16 <= len(token) <= 128 or TOKEN_FORBIDDEN & set(token) or not token.isprintable():
            raise fault("InvalidParameterValue", "The AUTH token must be 16 to 128 printable characters and cannot "
                        "contain '/', '\"' or '@'.")

    def check_parameter_group(backend, name: str | None, engine_version: str) -> None:
        if not name:
            return
        found = parameter_groups(backend).get(name)
        if found is None:
            raise fault("CacheParameterGroupNotFound", f"CacheParameterGroup {name} not found.")
        if FAMILIES.get(found.family) != engine_version.split(".")[0]:
            raise fault("InvalidParameterCombination", f"The parameter group {name} of family {found.family} does "
                        f"not match engine version {engine_version}.")

    # ------------------------------------------------------------------ replication groups
    def create_replication_group(self):
        request = self._get_params()
        backend = self.elasticache_backend
        group_id = request.get("ReplicationGroupId")
        if group_id in groups(backend):
            raise ReplicationGroupAlreadyExists(group_id)
        count = int(request.get("NumCacheClusters") or 1)
        failover = str(request.get("AutomaticFailoverEnabled")).lower() == "true"
        multi_az = str(request.get("MultiAZEnabled")).lower() == "true"
        transit = str(request.get("TransitEncryptionEnabled")).lower() == "true"
        if not 1 <= count <= 6:
            raise fault("InvalidParameterValue", "NumCacheClusters must be between 1 and 6.")
        if failover and count < 2:
            raise fault("InvalidParameterCombination",
                        "Automatic failover needs at least 2 cache clusters (a primary and a replica).")
        if multi_az and not failover:
            raise fault("InvalidParameterCombination", "Multi-AZ requires automatic failover to be enabled.")
        if request.get("AuthToken"):
            if not transit:
                raise fault("InvalidParameterCombination",
                            "The AUTH token is only supported when encryption-in-transit is enabled.")
            check_token(request["AuthToken"])
        subnet_group = request.get("CacheSubnetGroupName")
        if subnet_group and subnet_group not in backend.cache_subnet_groups:
            raise CacheSubnetGroupNotFound(subnet_group)
        check_parameter_group(backend, request.get("CacheParameterGroupName"), request.get("EngineVersion") or "7.1")
        request.update(AutomaticFailoverEnabled=failover, MultiAZEnabled=multi_az, TransitEncryptionEnabled=transit,
                       AtRestEncryptionEnabled=str(request.get("AtRestEncryptionEnabled")).lower() == "true",
                       AutoMinorVersionUpgrade=str(request.get("AutoMinorVersionUpgrade", "true")).lower() == "true")
        group = Group(backend, request)
        group.add_members(backend.create_cache_cluster)
        groups(backend)[group_id] = group
        backend.tagging_service.tag_resource(group.arn, request.get("Tags") or [])
        if realism.SETTINGS.realistic:
            group.set_status("creating")
            realism.later(CREATE_SECONDS, lambda: group.status == "creating" and group.set_status("available"))
        else:
            group.set_status("available")
        return ActionResult({"ReplicationGroup": group.describe()})

    def describe_replication_groups(self):
        backend = self.elasticache_backend
        wanted = self._get_param("ReplicationGroupId")
        found = [group_of(backend, wanted)] if wanted else list(groups(backend).values())
        return ActionResult({"ReplicationGroups": [g.describe() for g in found]})

    def apply_later(group: Group, seconds: float, change) -> None:
        def done():
            change()
            if group.status == "modifying":
                group.set_status("available")

        if realism.SETTINGS.realistic:
            group.set_status("modifying")
            realism.later(seconds, done)
        else:
            change()

    def modify_replication_group(self):
        request = self._get_params()
        backend = self.elasticache_backend
        group = group_of(backend, request.get("ReplicationGroupId"))
        if group.status != "available":
            raise fault("InvalidReplicationGroupState", f"Replication group {group.id} is not in available state "
                        f"({group.status}).")
        flag = lambda name: str(request[name]).lower() == "true"  # noqa: E731
        if "TransitEncryptionEnabled" in request or "TransitEncryptionMode" in request:
            raise fault("InvalidParameterValue", "The emulator does not model changing encryption in transit "
                        "(ElastiCache's two-step migration through TransitEncryptionMode preferred).")
        failover = flag("AutomaticFailoverEnabled") if "AutomaticFailoverEnabled" in request else group.automatic_failover
        multi_az = flag("MultiAZEnabled") if "MultiAZEnabled" in request else group.multi_az
        if failover and len(group.members) < 2:
            raise fault("InvalidParameterCombination", "Automatic failover needs at least 2 cache clusters.")
        if multi_az and not failover:
            raise fault("InvalidParameterCombination", "Multi-AZ requires automatic failover to be enabled.")
        version = request.get("EngineVersion")
        if version and _version(_full_version(version)) < _version(group.engine_version):
            raise fault("InvalidParameterCombination", f"Cannot downgrade the engine from {group.engine_version} "
                        f"to {version}.")
        check_parameter_group(backend, request.get("CacheParameterGroupName"), version or group.engine_version)
        strategy = (request.get("AuthTokenUpdateStrategy") or "").upper()
        if request.get("AuthToken") or strategy:
            if not group.transit:
                raise fault("InvalidParameterCombination",
                            "The AUTH token is only supported when encryption-in-transit is enabled.")
            if strategy not in ("ROTATE", "SET", "DELETE", ""):
                raise fault("InvalidParameterValue", f"AuthTokenUpdateStrategy {strategy} is not ROTATE, SET or DELETE.")
            if strategy != "DELETE":
                check_token(request.get("AuthToken") or "")
        group.automatic_failover, group.multi_az = failover, multi_az
        group.description = request.get("ReplicationGroupDescription", group.description)
        if "SnapshotRetentionLimit" in request:
            group.snapshot_retention = int(request["SnapshotRetentionLimit"])
        group.snapshot_window = request.get("SnapshotWindow", group.snapshot_window)
        group.maintenance_window = request.get("PreferredMaintenanceWindow", group.maintenance_window)
        group.notification_topic = request.get("NotificationTopicArn", group.notification_topic)
        if "AutoMinorVersionUpgrade" in request:
            group.auto_minor = flag("AutoMinorVersionUpgrade")
        if request.get("SecurityGroupIds"):
            group.security_groups = list(request["SecurityGroupIds"])
        group.parameter_group = request.get("CacheParameterGroupName", group.parameter_group)
        if request.get("AuthToken") or strategy:
            # ROTATE: the new token and the old both answer until a SET; SET: the new one only;
            # DELETE: none (ModifyReplicationGroup, AuthTokenUpdateStrategy).
            token = request.get("AuthToken")
            group.tokens = ([*group.tokens[-1:], token] if strategy == "ROTATE" else
                            [] if strategy == "DELETE" else [token])
            group.token_modified = clock.now()
        for cluster in group.clusters():
            cluster.snapshot_retention_limit, cluster.snapshot_window = group.snapshot_retention, group.snapshot_window
            cluster.preferred_maintenance_window = group.maintenance_window
            cluster.auto_minor_version_upgrade = group.auto_minor
            cluster.security_group_ids = list(group.security_groups)
            cluster.cache_parameter_group_name = group.parameter_group
            cluster.auth_token_enabled = bool(group.tokens)
        scaled = {}
        if request.get("CacheNodeType") and request["CacheNodeType"] != group.node_type:
            scaled["CacheNodeType"] = request["CacheNodeType"]
        if version and _full_version(version) != group.engine_version:
            scaled["EngineVersion"] = version
        if scaled:
            # Applied now whatever ApplyImmediately says: the emulator runs no maintenance window.
            def resize():
                group.node_type = scaled.get("CacheNodeType", group.node_type)
                group.engine_version = _full_version(scaled.get("EngineVersion", group.engine_version))
                for cluster in group.clusters():
                    cluster.cache_node_type, cluster.engine_version = group.node_type, group.engine_version

            apply_later(group, SCALE_SECONDS if "CacheNodeType" in scaled else MODIFY_SECONDS, resize)
        return ActionResult({"ReplicationGroup": group.describe()})

    def test_failover(self):
        backend = self.elasticache_backend
        group = group_of(backend, self._get_param("ReplicationGroupId"))
        if self._get_param("NodeGroupId") != "0001":
            raise fault("NodeGroupNotFoundFault", f"Node group {self._get_param('NodeGroupId')} not found in "
                        f"replication group {group.id}.")
        if group.status != "available":
            raise fault("InvalidReplicationGroupState", f"Replication group {group.id} is not in available state "
                        f"({group.status}).")
        if not group.automatic_failover or len(group.members) < 2:
            raise fault("TestFailoverNotAvailableFault",
                        f"Replication group {group.id} has no automatic failover to test.")
        now = clock.timestamp()
        group.failovers = [t for t in group.failovers if now - t < 86400]
        if len(group.failovers) >= FAILOVERS_PER_DAY:
            raise fault("APICallRateForCustomerExceeded", "TestFailover was called more than 15 times for this node "
                        "group in the last 24 hours.")
        group.failovers.append(now)

        def promote():
            old = group.primary()
            new = next(m for m in group.members if m != old)
            group.roles[old], group.roles[new] = "replica", "primary"

        apply_later(group, FAILOVER_SECONDS, promote)
        return ActionResult({"ReplicationGroup": group.describe()})

    def delete_replication_group(self):
        backend = self.elasticache_backend
        group = group_of(backend, self._get_param("ReplicationGroupId"))
        if group.status not in ("available", "create-failed"):
            raise fault("InvalidReplicationGroupState", f"Replication group {group.id} is not in available state "
                        f"({group.status}).")
        group.set_status("deleting")
        described = group.describe()

        def gone():
            for member in group.members:
                backend.cache_clusters.pop(member, None)
            groups(backend).pop(group.id, None)

        realism.later(DELETE_SECONDS, gone)
        return ActionResult({"ReplicationGroup": described})

    # ------------------------------------------------------------------ parameter groups
    def create_cache_parameter_group(self):
        backend = self.elasticache_backend
        name, family = self._get_param("CacheParameterGroupName"), self._get_param("CacheParameterGroupFamily")
        if name in parameter_groups(backend):
            raise fault("CacheParameterGroupAlreadyExists", f"Parameter group {name} already exists.")
        if family not in FAMILIES:
            raise fault("InvalidParameterValue", f"The parameter CacheParameterGroupFamily {family} is not valid "
                        f"(the emulator knows {', '.join(FAMILIES)}).")
        group = ParameterGroup(name, family, self._get_param("Description") or "")
        parameter_groups(backend)[name] = group
        return ActionResult({"CacheParameterGroup": group.describe(backend.region_name, backend.account_id)})

    def parameter_group(backend, name) -> ParameterGroup:
        found = parameter_groups(backend).get(name)
        if found is None:
            raise fault("CacheParameterGroupNotFound", f"CacheParameterGroup {name} not found.")
        return found

    def describe_cache_parameter_groups(self):
        backend = self.elasticache_backend
        name = self._get_param("CacheParameterGroupName")
        found = [parameter_group(backend, name)] if name else list(parameter_groups(backend).values())
        return ActionResult({"CacheParameterGroups": [g.describe(backend.region_name, backend.account_id) for g in found]})

    def describe_cache_parameters(self):
        group = parameter_group(self.elasticache_backend, self._get_param("CacheParameterGroupName"))
        return ActionResult({"Parameters": group.parameters(self._get_param("Source"))})

    def modify_cache_parameter_group(self):
        backend = self.elasticache_backend
        group = parameter_group(backend, self._get_param("CacheParameterGroupName"))
        if group.default:
            raise fault("InvalidParameterValue", f"Default parameter group {group.name} cannot be modified.")
        for item in self._get_param("ParameterNameValues") or []:
            name, value = item.get("ParameterName"), str(item.get("ParameterValue", ""))
            if name not in PARAMETERS:
                raise fault("InvalidParameterValue", f"Unknown parameter {name} in {group.family}.")
            allowed = PARAMETERS[name][2]
            if PARAMETERS[name][1] == "string" and allowed and value not in allowed.split(","):
                raise fault("InvalidParameterValue", f"Value {value} is not allowed for parameter {name}.")
            if PARAMETERS[name][1] == "integer" and not value.lstrip("-").isdigit():
                raise fault("InvalidParameterValue", f"Value {value} is not an integer for parameter {name}.")
            group.values[name] = value
        return ActionResult({"CacheParameterGroupName": group.name})

    def reset_cache_parameter_group(self):
        group = parameter_group(self.elasticache_backend, self._get_param("CacheParameterGroupName"))
        if str(self._get_param("ResetAllParameters")).lower() == "true":
            group.values.clear()
        for item in self._get_param("ParameterNameValues") or []:
            group.values.pop(item.get("ParameterName"), None)
        return ActionResult({"CacheParameterGroupName": group.name})

    def delete_cache_parameter_group(self):
        backend = self.elasticache_backend
        group = parameter_group(backend, self._get_param("CacheParameterGroupName"))
        if group.default:
            raise fault("InvalidParameterValue", f"Default parameter group {group.name} cannot be deleted.")
        if any(c.cache_parameter_group_name == group.name for c in backend.cache_clusters.values()):
            raise fault("InvalidCacheParameterGroupState", f"Parameter group {group.name} is in use.")
        del parameter_groups(backend)[group.name]
        return EmptyResult()

    for handler in (create_replication_group, describe_replication_groups, modify_replication_group, test_failover,
                    delete_replication_group, create_cache_parameter_group, describe_cache_parameter_groups,
                    describe_cache_parameters, modify_cache_parameter_group, reset_cache_parameter_group,
                    delete_cache_parameter_group):
        setattr(ElastiCacheResponse, handler.__name__, handler)
