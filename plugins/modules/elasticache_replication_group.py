#!/usr/bin/python
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: elasticache_replication_group
short_description: An ElastiCache (Redis OSS or Valkey) replication group with its parameter group
version_added: 1.0.0
author:
  - Shop toolkit team (!UNKNOWN)
description:
  - Creates, updates or deletes an ElastiCache replication group with cluster mode disabled - a
    primary and up to five replicas behind one primary endpoint that follows a failover - and
    the custom cache parameter group it uses.
  - Settings AWS changes in place (description, automatic failover, Multi-AZ, node type, a newer
    engine version, parameter group and its values, security groups, snapshot retention and
    window, maintenance window, minor version upgrades, tags) are converged with
    C(ApplyImmediately); only what differs is sent and C(--diff) shows it.
  - Settings AWS fixes at creation (port, subnet group, encryption at rest and its key,
    encryption in transit, engine) are refused with the name of the setting when they differ;
    so are a lower engine version and a different number of nodes, which this module does not
    change (ElastiCache's IncreaseReplicaCount and DecreaseReplicaCount).
  - The AUTH token is sent at creation, and on an update only when I(auth_token_update_strategy)
    is given; ElastiCache never returns it, so it cannot be compared.
  - community.aws has no replication group module, and its parameter group module knows no
    family after redis6.x.
options:
  name:
    description: The replication group's ID (1-40 characters; its members are C(<name>-001), C(-002)...).
    type: str
    required: true
  state:
    description: Whether the group exists.
    type: str
    choices: [present, absent]
    default: present
  description:
    description: The group's description.
    type: str
    default: ""
  engine:
    description: The engine.
    type: str
    choices: [redis, valkey]
    default: redis
  engine_version:
    description: The engine version (major.minor). Required when I(state=present).
    type: str
  node_type:
    description: The node type, for example C(cache.t4g.small). Required when I(state=present).
    type: str
  num_cache_clusters:
    description: Nodes in the group, the primary and its replicas (1-6).
    type: int
    default: 2
  preferred_azs:
    description: The nodes' Availability Zones, the primary's first (at creation).
    type: list
    elements: str
    default: []
  automatic_failover:
    description: Promote a replica when the primary fails (needs two nodes or more).
    type: bool
    default: true
  multi_az:
    description: Multi-AZ (needs automatic failover).
    type: bool
    default: true
  port:
    description: The port (at creation).
    type: int
    default: 6379
  subnet_group:
    description: The cache subnet group (at creation).
    type: str
  security_group_ids:
    description: The VPC security groups.
    type: list
    elements: str
    default: []
  at_rest_encryption:
    description: Encryption at rest (at creation).
    type: bool
    default: true
  kms_key_id:
    description: The KMS key of the encryption at rest; the AWS managed key when unset (at creation).
    type: str
  transit_encryption:
    description: TLS between clients and nodes and between nodes (at creation).
    type: bool
    default: true
  auth_token:
    description:
      - The AUTH token (16-128 printable characters without C(/), C(") or C(@); needs
        I(transit_encryption)). Sent at creation; on an existing group only with I(auth_token_update_strategy).
    type: str
  auth_token_update_strategy:
    description:
      - Change the token of an existing group - C(rotate) accepts the new token beside the old one,
        C(set) accepts the new one only (after a rotation), C(delete) removes AUTH.
    type: str
    choices: [rotate, set, delete]
  parameter_group:
    description: The custom parameter group the group uses (created when missing); the engine's default group when unset.
    type: str
  parameters:
    description: The parameter group's values; the values not named are the engine's defaults.
    type: dict
    default: {}
  snapshot_retention_limit:
    description: Days of automatic snapshots (0 turns them off; at most 35).
    type: int
    default: 1
  snapshot_window:
    description: The daily snapshot window, C(hh24:mi-hh24:mi) UTC.
    type: str
  maintenance_window:
    description: The weekly maintenance window, C(ddd:hh24:mi-ddd:hh24:mi) UTC.
    type: str
  auto_minor_version_upgrade:
    description: Apply minor engine versions in the maintenance window.
    type: bool
    default: true
  tags:
    description: Tags of the group (all of them; others are removed).
    type: dict
    default: {}
  wait:
    description: Wait until the group is available (or gone).
    type: bool
    default: true
  wait_timeout:
    description: Seconds to wait (a two-node group takes 10-15 minutes to create; a node type change longer).
    type: int
    default: 3600
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""
EXAMPLES = r"""
- name: Sessions in a primary and a replica in two AZs, TLS and AUTH
  shop.aws.elasticache_replication_group:
    name: shop-production-redis
    description: shop-production sessions
    engine_version: "7.1"
    node_type: cache.t4g.small
    num_cache_clusters: 2
    preferred_azs: [eu-west-1a, eu-west-1b]
    subnet_group: shop-production-redis
    security_group_ids: [sg-0123456789abcdef0]
    auth_token: "{{ redis_token }}"
    parameter_group: shop-production-redis7
    parameters: {maxmemory-policy: volatile-ttl}
    snapshot_retention_limit: 7
    tags: {Stack: shop-production}
"""
RETURN = r"""
replication_group:
  description: The group as DescribeReplicationGroups answers (none once deleted; what would be created in check mode).
  returned: always
  type: dict
primary_endpoint:
  description: The primary endpoint's address (empty until the group is available).
  returned: always
  type: str
reader_endpoint:
  description: The reader endpoint's address.
  returned: always
  type: str
shop_plan:
  description:
    - The change as the shop.aws.plan callback's entry - C(action) (add, change or destroy), C(name),
      C(attributes) (each C(before), C(after)) - with C(downtime) and C(applies) (now) for a node type
      change or an engine upgrade, which drop the connections to the old nodes for seconds.
  returned: when changed
  type: dict
"""
import time

try:
    from botocore.exceptions import BotoCoreError
    from botocore.exceptions import ClientError
    AWS_ERRORS = (ClientError, BotoCoreError)
except ImportError:
    AWS_ERRORS = ()  # AnsibleAWSModule reports the missing botocore
from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.shop.aws.plugins.module_utils import calls

# Settings this module does not change on an existing group: AWS fixes all but the last at creation.
FIXED = ("port", "subnet_group", "at_rest_encryption", "kms_key_id", "transit_encryption", "engine", "num_cache_clusters")
TOKEN_FORBIDDEN = set('/"@')


# A node type change starts new nodes and deletes the old ones, and an engine upgrade restarts
# each node: connections to the old nodes drop and their reads and writes stop for a few seconds
# (ElastiCache User Guide, "Scaling up Valkey or Redis OSS clusters with replicas", step 5;
# "Version management": upgrades with a failover). Both are applied now (ApplyImmediately).
DOWNTIME = ("node_type", "engine_version")


def plan_entry(name, action, before, after):
    """The plan's entry for the shop.aws.plan callback."""
    attributes = {key: {"before": before.get(key), "after": after.get(key)}
                  for key in sorted(set(before) | set(after)) if before.get(key) != after.get(key)}
    entry = {"action": action, "name": name, "attributes": attributes}
    if action == "change" and any(key in attributes for key in DOWNTIME):
        entry.update(downtime=True, applies="now",
                     note="connections to the old nodes drop: reads and writes stop for seconds")
    return entry


def version(text):
    return tuple(int(p) for p in str(text).split(".") if p.isdigit())


def compare_versions(wanted, found):
    """-1, 0 or 1 as ``wanted`` is older, the same or newer, on the parts it names: ElastiCache
    answers 7.1.0 for a group asked for as 7.1."""
    asked = version(wanted)
    have = version(found)[:len(asked)]
    return (asked > have) - (asked < have)


def family(engine, engine_version):
    """The parameter group family of an engine version (ElastiCache User Guide, "Parameter groups")."""
    major = str(engine_version).split(".", 1)[0]
    if engine == "valkey":
        return f"valkey{major}"
    return "redis6.x" if major == "6" else f"redis{major}"


class ReplicationGroup:
    def __init__(self, module):
        self.module = module
        self.params = module.params
        self.client = calls.client(module, "elasticache")
        self.name = self.params["name"]
        self.existed = False

    # ------------------------------------------------------------------ reads
    def read(self):
        try:
            return self.client.describe_replication_groups(aws_retry=True, ReplicationGroupId=self.name)["ReplicationGroups"][0]
        except is_boto3_error_code("ReplicationGroupNotFoundFault"):
            return None

    def member(self, group):
        """The first member cluster: engine version, parameter group, security groups, windows."""
        members = group.get("MemberClusters") or []
        if not members:
            return {}
        try:
            return self.client.describe_cache_clusters(aws_retry=True, CacheClusterId=members[0])["CacheClusters"][0]
        except is_boto3_error_code("CacheClusterNotFound"):
            return {}

    def tags(self, arn):
        found = self.client.list_tags_for_resource(aws_retry=True, ResourceName=arn).get("TagList", [])
        return {t["Key"]: t["Value"] for t in found}

    def settings(self, group, member):
        """The group as this module's options name it."""
        primary = (group.get("NodeGroups") or [{}])[0].get("PrimaryEndpoint") or {}
        return {
            "description": group.get("Description", ""),
            "engine": group.get("Engine") or member.get("Engine") or "redis",
            "engine_version": member.get("EngineVersion", ""),
            "node_type": group.get("CacheNodeType"),
            "num_cache_clusters": len(group.get("MemberClusters") or []),
            "automatic_failover": group.get("AutomaticFailover") in ("enabled", "enabling"),
            "multi_az": group.get("MultiAZ") == "enabled",
            "port": primary.get("Port") or member.get("Port") or self.params["port"],
            "subnet_group": member.get("CacheSubnetGroupName"),
            "security_group_ids": sorted(g["SecurityGroupId"] for g in member.get("SecurityGroups") or []),
            "at_rest_encryption": bool(group.get("AtRestEncryptionEnabled")),
            "kms_key_id": group.get("KmsKeyId"),
            "transit_encryption": bool(group.get("TransitEncryptionEnabled")),
            "auth_token_enabled": bool(group.get("AuthTokenEnabled")),
            "parameter_group": (member.get("CacheParameterGroup") or {}).get("CacheParameterGroupName"),
            "snapshot_retention_limit": group.get("SnapshotRetentionLimit", 0),
            "snapshot_window": group.get("SnapshotWindow"),
            "maintenance_window": member.get("PreferredMaintenanceWindow"),
            "auto_minor_version_upgrade": bool(group.get("AutoMinorVersionUpgrade", member.get("AutoMinorVersionUpgrade"))),
        }

    def wanted(self):
        p = self.params
        wanted = {key: p[key] for key in (
            "description", "engine", "engine_version", "node_type", "num_cache_clusters", "automatic_failover", "multi_az",
            "port", "subnet_group", "at_rest_encryption", "transit_encryption", "snapshot_retention_limit",
            "snapshot_window", "maintenance_window", "auto_minor_version_upgrade")}
        wanted["security_group_ids"] = sorted(p["security_group_ids"])
        wanted["kms_key_id"] = p["kms_key_id"]
        wanted["parameter_group"] = p["parameter_group"] or f"default.{family(p['engine'], p['engine_version'])}"
        return wanted

    # ------------------------------------------------------------------ parameter group
    def converge_parameter_group(self):
        """The custom parameter group with exactly the values asked for: (changed, before, after)."""
        name = self.params["parameter_group"]
        if not name:
            return False, {}, {}
        wanted_family = family(self.params["engine"], self.params["engine_version"])
        wanted = {k: str(v).lower() if isinstance(v, bool) else str(v) for k, v in self.params["parameters"].items()}
        # One read: the group's values (a group of another family is refused by ElastiCache
        # when the replication group is given it).
        try:
            current = {p["ParameterName"]: p.get("ParameterValue", "") for p in calls.paginate(
                self.client, "describe_cache_parameters", CacheParameterGroupName=name, Source="user").get("Parameters", [])}
            found = True
        except is_boto3_error_code("CacheParameterGroupNotFound"):
            current, found = {}, None
        changes = [{"ParameterName": k, "ParameterValue": v} for k, v in sorted(wanted.items()) if current.get(k) != v]
        resets = [{"ParameterName": k} for k in sorted(set(current) - set(wanted))]
        changed = found is None or bool(changes) or bool(resets)
        if changed and not self.module.check_mode:
            if found is None:
                self.client.create_cache_parameter_group(
                    aws_retry=True, CacheParameterGroupName=name, CacheParameterGroupFamily=wanted_family,
                    Description=f"{self.name} parameters")
            if changes:
                self.client.modify_cache_parameter_group(aws_retry=True, CacheParameterGroupName=name,
                                                         ParameterNameValues=changes)
            if resets:
                self.client.reset_cache_parameter_group(aws_retry=True, CacheParameterGroupName=name,
                                                        ParameterNameValues=resets)
        return changed, {"parameters": current} if found is not None else {}, {"parameters": wanted}

    def delete_parameter_group(self):
        name = self.params["parameter_group"]
        if not name:
            return False
        try:
            self.client.describe_cache_parameter_groups(aws_retry=True, CacheParameterGroupName=name)
        except is_boto3_error_code("CacheParameterGroupNotFound"):
            return False
        if not self.module.check_mode:
            self.client.delete_cache_parameter_group(aws_retry=True, CacheParameterGroupName=name)
        return True

    # ------------------------------------------------------------------ waits
    def wait_for(self, done, what):
        deadline = time.monotonic() + self.params["wait_timeout"]
        while True:
            group = self.read()
            if done(group):
                return group
            if time.monotonic() > deadline:
                status = group["Status"] if group else "gone"
                self.module.fail_json(msg=f"replication group {self.name} is still {status} after wait_timeout "
                                          f"{self.params['wait_timeout']} s, waiting for it to be {what}")
            time.sleep(min(15, max(1, self.params["wait_timeout"] // 40)))

    def available(self):
        return self.wait_for(lambda g: g is not None and g["Status"] == "available", "available")

    # ------------------------------------------------------------------ present
    def create(self, wanted):
        p = self.params
        request = {
            "ReplicationGroupId": self.name, "ReplicationGroupDescription": p["description"] or self.name,
            "Engine": p["engine"], "EngineVersion": p["engine_version"], "CacheNodeType": p["node_type"],
            "NumCacheClusters": p["num_cache_clusters"], "AutomaticFailoverEnabled": p["automatic_failover"],
            "MultiAZEnabled": p["multi_az"], "Port": p["port"], "SecurityGroupIds": p["security_group_ids"],
            "AtRestEncryptionEnabled": p["at_rest_encryption"], "TransitEncryptionEnabled": p["transit_encryption"],
            "SnapshotRetentionLimit": p["snapshot_retention_limit"], "AutoMinorVersionUpgrade": p["auto_minor_version_upgrade"],
            "CacheParameterGroupName": wanted["parameter_group"],
            "Tags": [{"Key": k, "Value": str(v)} for k, v in p["tags"].items()],
        }
        optional = {"PreferredCacheClusterAZs": p["preferred_azs"], "CacheSubnetGroupName": p["subnet_group"],
                    "KmsKeyId": p["kms_key_id"], "AuthToken": p["auth_token"], "SnapshotWindow": p["snapshot_window"],
                    "PreferredMaintenanceWindow": p["maintenance_window"]}
        request.update({k: v for k, v in optional.items() if v})
        try:
            return self.client.create_replication_group(aws_retry=True, **request)["ReplicationGroup"]
        except is_boto3_error_code(["ReplicationGroupAlreadyExists", "ReplicationGroupAlreadyExistsFault"]):
            # The create went through but its answer was lost, and the SDK's retry met the group.
            return self.read()

    def refusals(self, found, wanted):
        """What this module cannot change in place, each naming the option, the group's value and the one asked."""
        refused = []
        for option in FIXED:
            if option == "kms_key_id" and not wanted[option]:
                continue
            if found[option] != wanted[option]:
                why = ("change the number of nodes with ElastiCache's IncreaseReplicaCount or DecreaseReplicaCount"
                       if option == "num_cache_clusters" else "AWS fixes it when the group is created")
                refused.append(f"{option} is {found[option]!r} on {self.name}, {wanted[option]!r} asked: {why}")
        if found["engine_version"] and compare_versions(wanted["engine_version"], found["engine_version"]) < 0:
            refused.append(f"engine_version {wanted['engine_version']} is older than {self.name}'s "
                           f"{found['engine_version']}: ElastiCache cannot downgrade an engine")
        return refused

    def modification(self, found, wanted):
        p = self.params
        request = {}
        pairs = {"description": "ReplicationGroupDescription", "node_type": "CacheNodeType",
                 "automatic_failover": "AutomaticFailoverEnabled", "multi_az": "MultiAZEnabled",
                 "parameter_group": "CacheParameterGroupName", "snapshot_retention_limit": "SnapshotRetentionLimit",
                 "snapshot_window": "SnapshotWindow", "maintenance_window": "PreferredMaintenanceWindow",
                 "auto_minor_version_upgrade": "AutoMinorVersionUpgrade"}
        for option, key in pairs.items():
            if wanted[option] is not None and found[option] != wanted[option]:
                request[key] = wanted[option]
        if compare_versions(wanted["engine_version"], found["engine_version"]) > 0:
            request["EngineVersion"] = wanted["engine_version"]
        if wanted["security_group_ids"] and found["security_group_ids"] != wanted["security_group_ids"]:
            request["SecurityGroupIds"] = wanted["security_group_ids"]
        if p["auth_token_update_strategy"]:
            request["AuthTokenUpdateStrategy"] = p["auth_token_update_strategy"].upper()
            if p["auth_token"]:
                request["AuthToken"] = p["auth_token"]
        return request

    def converge_tags(self, arn):
        wanted = {k: str(v) for k, v in self.params["tags"].items()}
        found = self.tags(arn)
        add = {k: v for k, v in wanted.items() if found.get(k) != v}
        remove = [k for k in found if k not in wanted]
        if not self.module.check_mode:
            if add:
                self.client.add_tags_to_resource(aws_retry=True, ResourceName=arn,
                                                 Tags=[{"Key": k, "Value": v} for k, v in add.items()])
            if remove:
                self.client.remove_tags_from_resource(aws_retry=True, ResourceName=arn, TagKeys=remove)
        return bool(add or remove), found, wanted

    def present(self):
        wanted = self.wanted()
        group = self.read()
        self.existed = group is not None
        if group is not None and group["Status"] == "deleting":
            self.module.fail_json(msg=f"replication group {self.name} is being deleted: run again once it is gone")
        if group is None:
            params_after = self.converge_parameter_group()[2]
            if self.module.check_mode:
                return True, {}, {**wanted, **params_after}, None
            group = self.create(wanted)
            if self.params["wait"]:
                group = self.available()
            return True, {}, {**wanted, **params_after}, group
        if group["Status"] != "available" and self.params["wait"] and not self.module.check_mode:
            group = self.available()
        found = self.settings(group, self.member(group))
        if compare_versions(wanted["engine_version"], found["engine_version"]) == 0:
            found["engine_version"] = wanted["engine_version"]  # 7.1 asked, 7.1.0 answered: the same
        refused = self.refusals(found, wanted)
        if refused:
            self.module.fail_json(msg="; ".join(refused))
        params_changed, params_before, params_after = self.converge_parameter_group()
        request = self.modification(found, wanted)
        tags_changed, tags_before, tags_after = self.converge_tags(group["ARN"])
        if request and not self.module.check_mode:
            if group["Status"] != "available":
                self.module.fail_json(msg=f"replication group {self.name} is {group['Status']}: it can change only "
                                          f"when available (set wait to true, or run again later)")
            group = self.client.modify_replication_group(aws_retry=True, ReplicationGroupId=self.name,
                                                         ApplyImmediately=True, **request)["ReplicationGroup"]
            if self.params["wait"]:
                group = self.available()
        changed = bool(request) or params_changed or tags_changed
        shown = {k for k in wanted if found.get(k) != wanted[k] and wanted[k] is not None}
        before = {**{k: found[k] for k in sorted(shown)}, **(params_before if params_changed else {}),
                  **({"tags": tags_before} if tags_changed else {})}
        after = {**{k: wanted[k] for k in sorted(shown)}, **(params_after if params_changed else {}),
                 **({"tags": tags_after} if tags_changed else {})}
        if request.get("AuthTokenUpdateStrategy"):
            before["auth_token"], after["auth_token"] = "(kept)", request["AuthTokenUpdateStrategy"].lower()
        return changed, before, after, group

    # ------------------------------------------------------------------ absent
    def absent(self):
        group = self.read()
        changed = False
        if group is not None and group["Status"] != "deleting":
            changed = True
            if not self.module.check_mode:
                if group["Status"] != "available" and self.params["wait"]:
                    self.available()
                self.client.delete_replication_group(aws_retry=True, ReplicationGroupId=self.name)
        if group is not None and self.params["wait"] and not self.module.check_mode:
            self.wait_for(lambda g: g is None, "gone")
            group = None
        if group is None or self.module.check_mode:
            changed = self.delete_parameter_group() or changed
        return changed


def main():
    module = AnsibleAWSModule(
        argument_spec={
            "name": {"type": "str", "required": True},
            "state": {"type": "str", "choices": ["present", "absent"], "default": "present"},
            "description": {"type": "str", "default": ""},
            "engine": {"type": "str", "choices": ["redis", "valkey"], "default": "redis"},
            "engine_version": {"type": "str"},
            "node_type": {"type": "str"},
            "num_cache_clusters": {"type": "int", "default": 2},
            "preferred_azs": {"type": "list", "elements": "str", "default": []},
            "automatic_failover": {"type": "bool", "default": True},
            "multi_az": {"type": "bool", "default": True},
            "port": {"type": "int", "default": 6379},
            "subnet_group": {"type": "str"},
            "security_group_ids": {"type": "list", "elements": "str", "default": []},
            "at_rest_encryption": {"type": "bool", "default": True},
            "kms_key_id": {"type": "str"},
            "transit_encryption": {"type": "bool", "default": True},
            "auth_token": {"type": "str", "no_log": True},
            "auth_token_update_strategy": {"type": "str", "choices": ["rotate", "set", "delete"]},
            "parameter_group": {"type": "str"},
            "parameters": {"type": "dict", "default": {}},
            "snapshot_retention_limit": {"type": "int", "default": 1},
            "snapshot_window": {"type": "str"},
            "maintenance_window": {"type": "str"},
            "auto_minor_version_upgrade": {"type": "bool", "default": True},
            "tags": {"type": "dict", "default": {}},
            "wait": {"type": "bool", "default": True},
            "wait_timeout": {"type": "int", "default": 3600},
        },
        required_if=[("state", "present", ["engine_version", "node_type"])],
        supports_check_mode=True,
    )
    p = module.params
    if p["state"] == "present":
        problems = []
        if not 1 <= p["num_cache_clusters"] <= 6:
            problems.append(f"num_cache_clusters must be 1 to 6, a primary and up to five replicas (got {p['num_cache_clusters']})")
        if p["automatic_failover"] and p["num_cache_clusters"] < 2:
            problems.append(f"automatic_failover needs num_cache_clusters of 2 or more (got {p['num_cache_clusters']})")
        if p["multi_az"] and not p["automatic_failover"]:
            problems.append("multi_az needs automatic_failover (got automatic_failover false)")
        if p["auth_token"] is not None:
            token = p["auth_token"]
            if not p["transit_encryption"]:
                problems.append("auth_token needs transit_encryption (got transit_encryption false)")
            if not 16 <= len(token) <= 128 or TOKEN_FORBIDDEN & set(token) or not token.isprintable():
                problems.append(f"auth_token must be 16-128 printable characters without /, \" or @ "
                                f"(got one of {len(token)} characters)")
        if p["auth_token_update_strategy"] in ("rotate", "set") and not p["auth_token"]:
            problems.append(f"auth_token_update_strategy {p['auth_token_update_strategy']} needs auth_token (got none)")
        if not 0 <= p["snapshot_retention_limit"] <= 35:
            problems.append(f"snapshot_retention_limit must be 0 to 35 days (got {p['snapshot_retention_limit']})")
        if problems:
            module.fail_json(msg="; ".join(problems))
    try:
        group = ReplicationGroup(module)
        if p["state"] == "absent":
            changed = group.absent()
            module.exit_json(changed=changed, replication_group=None, primary_endpoint="", reader_endpoint="",
                             shop_plan=plan_entry(p["name"], "destroy", {}, {}) if changed else None)
        changed, before, after, found = group.present()
        node_group = ((found or {}).get("NodeGroups") or [{}])[0]
        result = {"changed": changed, "replication_group": found or after,
                  "primary_endpoint": (node_group.get("PrimaryEndpoint") or {}).get("Address", ""),
                  "reader_endpoint": (node_group.get("ReaderEndpoint") or {}).get("Address", "")}
        if changed:
            result["diff"] = {"before": before, "after": after}
            result["shop_plan"] = plan_entry(p["name"], "change" if group.existed else "add", before, after)
        module.exit_json(**result)
    except AWS_ERRORS as exc:
        module.fail_json_aws(exc, msg=f"Could not converge the replication group {p['name']}")


if __name__ == "__main__":
    main()
