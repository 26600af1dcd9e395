#!/usr/bin/python
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: mysql_migration_checksum
short_description: Compare every table of a migrated MySQL database on source and target, chunk by chunk
version_added: 1.0.0
author:
  - Shop toolkit team (!UNKNOWN)
extends_documentation_fragment:
  - shop.aws.mysql_server
description:
  - For each table of the databases, counts rows and sums a 60-bit digest (MD5 of every column)
    of each row, in chunks of the integer key that leads the primary key (in one piece without
    one), on the source and on the target at once, and reports the chunks that differ.
  - Also compares the databases' routines, triggers, views and events by name.
  - The digest reads the same on MySQL and MariaDB (text as utf8mb4, binary data as hex,
    timestamps in UTC, floating point as decimals). CHECKSUM TABLE does not - it depends on the
    server's version and row format.
  - "Only reads: safe in check mode. Runs on the migration host; needs PyMySQL there."
options:
  databases:
    description: The databases to compare.
    type: list
    elements: str
    required: true
  chunk_rows:
    description: Width of a chunk in key values.
    type: int
    default: 100000
"""

EXAMPLES = r"""
- name: Compare source and target
  shop.aws.mysql_migration_checksum:
    source: "{{ migrate_db_source }}"
    target: "{{ migrate_db__target }}"
    databases: [shop]
  register: verification
"""

RETURN = r"""
match:
  description: Every table and object is the same on both sides.
  returned: always
  type: bool
tables:
  description:
    - Per table - name, rows on each side, chunks, mismatched chunks (bounds, count and digest on each side), match,
      seconds, and a one-line summary.
  returned: always
  type: list
  elements: dict
objects:
  description: Routines, triggers, views and events missing on the target or only on the target.
  returned: always
  type: dict
mismatches:
  description: How many tables or objects differ.
  returned: always
  type: int
"""

import time
from concurrent.futures import ThreadPoolExecutor

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.shop.aws.plugins.module_utils.mysql_migration import chunk_bounds, chunk_key, chunk_query, compare_chunks, quote_ident, table_ref
from ansible_collections.shop.aws.plugins.module_utils.mysql_migration_db import SERVER_SPEC, connect, gather_objects, gather_tables, require_pymysql, rows


def _chunk_results(connection, table: dict, key: str | None, bounds: list) -> list[dict]:
    results = []
    for bound in bounds:
        sql, params = chunk_query(table["schema"], table["name"], table["columns"], key, bound)
        count, digest = rows(connection, sql, params)[0]
        results.append({"bounds": list(bound), "count": int(count), "sum": str(digest)})
    return results


def compare_table(pool, connections, table: dict, target_table: dict | None, chunk_rows: int) -> dict:
    name = f"{table['schema']}.{table['name']}"
    started = time.monotonic()
    if target_table is None:
        return {"table": name, "match": False, "reason": "missing on the target"}
    ours = [c["name"] for c in table["columns"]]
    theirs = [c["name"] for c in target_table["columns"]]
    if ours != theirs:
        return {"table": name, "match": False, "reason": f"columns differ: source {ours}, target {theirs}"}
    key = chunk_key(table)
    bounds = [(None, None)]
    if key:
        low, high = rows(connections[0], f"SELECT MIN({quote_ident(key)}), MAX({quote_ident(key)}) "  # noqa: S608
                                         f"FROM {table_ref(table['schema'], table['name'])}")[0]
        bounds = chunk_bounds(None if low is None else int(low), None if high is None else int(high), chunk_rows)
    source, target = pool.map(lambda conn: _chunk_results(conn, table, key, bounds), connections)
    mismatched = compare_chunks(source, target)
    return {
        "table": name, "key": key, "chunks": len(bounds), "rows_source": sum(c["count"] for c in source),
        "rows_target": sum(c["count"] for c in target), "mismatched_chunks": mismatched, "match": not mismatched,
        "seconds": round(time.monotonic() - started, 2),
    }


def _summary(result: dict) -> str:
    """One line a table for the playbook's output."""
    if "reason" in result:
        return f"{result['table']}: MISMATCH, {result['reason']}"
    rows = (f"{result['rows_source']} rows on each side" if result["rows_source"] == result["rows_target"]
            else f"{result['rows_source']} rows on the source, {result['rows_target']} on the target")
    verdict = "match" if result["match"] else f"MISMATCH in {len(result['mismatched_chunks'])} chunk(s)"
    return f"{result['table']}: {rows}, {result['chunks']} chunk(s), {verdict}"


def main():
    server = {"type": "dict", "options": SERVER_SPEC, "required": True}
    module = AnsibleModule(
        argument_spec={
            "source": server, "target": server,
            "databases": {"type": "list", "elements": "str", "required": True},
            "chunk_rows": {"type": "int", "default": 100000},
        },
        supports_check_mode=True,
    )
    require_pymysql(module)
    params = module.params
    if params["chunk_rows"] < 1:
        module.fail_json(msg="chunk_rows must be at least 1")
    try:
        connections = (connect(params["source"], "source"), connect(params["target"], "target"))
    except ConnectionError as error:
        module.fail_json(msg=str(error))
    databases = params["databases"]
    source_tables = [t for t in gather_tables(connections[0], databases) if t["type"] == "BASE TABLE"]
    target_tables = {(t["schema"], t["name"]): t for t in gather_tables(connections[1], databases)
                     if t["type"] == "BASE TABLE"}
    results = []
    with ThreadPoolExecutor(max_workers=2) as pool:
        for table in source_tables:
            results.append(compare_table(pool, connections, table, target_tables.pop((table["schema"], table["name"]), None),
                                         params["chunk_rows"]))
    for schema, name in sorted(target_tables):
        results.append({"table": f"{schema}.{name}", "match": False, "reason": "only on the target"})
    for result in results:
        result["summary"] = _summary(result)

    def names(objects):
        return {f"{o['type'].lower()} {o['schema']}.{o['name']}" for o in objects}

    source_objects, target_objects = (names(gather_objects(c, databases)) for c in connections)
    objects = {"missing": sorted(source_objects - target_objects), "extra": sorted(target_objects - source_objects),
               "compared": len(source_objects)}
    mismatches = sum(1 for r in results if not r["match"]) + len(objects["missing"]) + len(objects["extra"])
    module.exit_json(changed=False, match=mismatches == 0, mismatches=mismatches, tables=results, objects=objects)


if __name__ == "__main__":
    main()
