#!/usr/bin/python
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: mysql_migration_preflight
short_description: Check that a MySQL database can move to RDS, before anything is written
version_added: 1.0.0
author:
  - Shop toolkit team (!UNKNOWN)
extends_documentation_fragment:
  - shop.aws.mysql_server
  - shop.aws.mysql_server.replication
description:
  - Reads the source, the target and (for replication) the replication account, and reports
    blockers, warnings and facts - versions, storage engines, definers the target cannot
    create, character sets and collations, size against the target's free storage, binary
    log settings, privileges, tables already on the target.
  - "Only reads (SELECT, SHOW): safe in check mode and on a production source."
  - Runs on the migration host; needs PyMySQL there.
options:
  databases:
    description: The databases to move.
    type: list
    elements: str
    required: true
  mode:
    description: C(dump) copies a snapshot; C(replication) also replicates from the snapshot's position.
    type: str
    choices: [dump, replication]
    default: dump
  cutover:
    description: The run will switch the source to read-only (its account needs the right to).
    type: bool
    default: false
  definers:
    description: C(refuse) stops on definers the target cannot create; C(rewrite) makes the target account their definer.
    type: str
    choices: [refuse, rewrite]
    default: refuse
  allow_non_innodb:
    description: Report tables of other engines as a warning instead of a blocker.
    type: bool
    default: false
  resuming:
    description:
      - An earlier run of this migration loaded part of the dump - the source's tables and views found on the
        target are its own (a resumed load replaces them), not foreign data.
    type: bool
    default: false
  target_allocated_bytes:
    description: The target's storage (RDS AllocatedStorage); its free space is this less what its tables use.
    type: int
  storage_margin:
    description: Free storage needed, as a multiple of the data's size.
    type: float
    default: 1.25
"""

EXAMPLES = r"""
- name: Check the source and the target
  shop.aws.mysql_migration_preflight:
    source: "{{ migrate_db_source }}"
    target: "{{ migrate_db__target }}"
    databases: [shop]
    mode: replication
    replication: "{{ migrate_db_replication }}"
  register: preflight
"""

RETURN = r"""
findings:
  description: Blockers first, then warnings; each with level, code and message.
  returned: always
  type: list
  elements: dict
blockers:
  description: How many findings block the migration.
  returned: always
  type: int
source:
  description: The source's version, account, variables, tables (engine, size, primary key) and objects.
  returned: always
  type: dict
target:
  description: The target's version, account, tables, RDS procedures found and free storage.
  returned: always
  type: dict
size_bytes:
  description: Data and index bytes of the tables to move.
  returned: always
  type: int
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.shop.aws.plugins.module_utils.mysql_migration import preflight_findings
from ansible_collections.shop.aws.plugins.module_utils.mysql_migration_db import SERVER_SPEC, connect, gather_server, require_pymysql, rows


def _summary(facts: dict) -> dict:
    """What the report shows of a server (columns and grants left out)."""
    return {
        "version": facts["version"], "user": facts["user"], "variables": facts["variables"],
        "tables": [{k: t[k] for k in ("schema", "name", "type", "engine", "rows_estimate", "data_length", "index_length",
                                      "primary_key")} for t in facts["tables"]],
        "objects": facts["objects"], "charsets": facts["charsets"], "rds_procedures": facts["rds_procedures"],
        "used_bytes": facts["used_bytes"],
    }


def main():
    server = {"type": "dict", "options": SERVER_SPEC}
    module = AnsibleModule(
        argument_spec={
            "source": {**server, "required": True},
            "target": {**server, "required": True},
            "replication": server,
            "databases": {"type": "list", "elements": "str", "required": True},
            "mode": {"type": "str", "choices": ["dump", "replication"], "default": "dump"},
            "cutover": {"type": "bool", "default": False},
            "definers": {"type": "str", "choices": ["refuse", "rewrite"], "default": "refuse"},
            "allow_non_innodb": {"type": "bool", "default": False},
            "resuming": {"type": "bool", "default": False},
            "target_allocated_bytes": {"type": "int"},
            "storage_margin": {"type": "float", "default": 1.25},
        },
        required_if=[("mode", "replication", ["replication"])],
        supports_check_mode=True,
    )
    require_pymysql(module)
    params = module.params
    databases = params["databases"]
    try:
        source_conn = connect(params["source"], "source")
        target_conn = connect(params["target"], "target")
        source = gather_server(source_conn, databases)
        target = gather_server(target_conn, databases)
        replication = {}
        if params["mode"] == "replication":
            replication = {"user": params["replication"]["user"]}
            # The replication account logs in to the source, as the target's IO thread will.
            account = dict(params["replication"], host=params["source"]["host"], port=params["source"]["port"])
            try:
                replication["grants"] = [row[0] for row in rows(connect(account, "source as the replication account"),
                                                                "SHOW GRANTS")]
            except ConnectionError as error:
                replication["error"] = str(error)
    except ConnectionError as error:
        module.fail_json(msg=str(error))

    free = None
    if params["target_allocated_bytes"] is not None:
        free = max(0, params["target_allocated_bytes"] - target["used_bytes"])
    findings = preflight_findings(source, target, {
        "mode": params["mode"], "databases": databases, "definers": params["definers"], "cutover": params["cutover"],
        "allow_non_innodb": params["allow_non_innodb"], "resuming": params["resuming"],
        "target_free_bytes": free, "storage_margin": params["storage_margin"], "replication": replication,
    })
    size = sum(t["data_length"] + t["index_length"] for t in source["tables"] if t["type"] == "BASE TABLE")
    module.exit_json(
        changed=False, findings=findings, blockers=sum(1 for f in findings if f["level"] == "blocker"),
        source=_summary(source), target=dict(_summary(target), free_bytes=free), size_bytes=size,
    )


if __name__ == "__main__":
    main()
