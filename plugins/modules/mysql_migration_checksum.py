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
  - shop.aws.mysql_server.replication
description:
  - For each table of the databases, counts rows and sums a 60-bit digest (MD5 of every column)
    of each row, in chunks of the integer key that leads the primary key (in one piece without
    one), on the source and on the target at once, and reports the chunks that differ.
  - Also compares the databases' routines, triggers, views and events by name.
  - The digest reads the same on MySQL and MariaDB (text as utf8mb4, binary data as hex,
    timestamps in UTC, floating point as decimals). CHECKSUM TABLE does not - it depends on the
    server's version and row format.
  - "Only reads: safe in check mode. Runs on the migration host; needs PyMySQL there (and
    mysqlbinlog for O(mode=recheck))."
  - O(mode=baseline) verifies while the source is still written to and replication keeps the target
    current; it notes both servers' binary log positions first and waits until the target has applied
    the source's, then writes the result to O(baseline_path). Chunks that differ then are chunks in
    flux, not a failure. A baseline younger than O(baseline_max_age) whose binary logs both servers
    still hold is used again instead.
  - O(mode=recheck), at cutover (source read-only), waits until the target has applied the source's
    last write, reads both servers' binary logs since the baseline's positions (mysqlbinlog
    --read-from-remote-server; the source's with the O(replication) account, which holds
    REPLICATION SLAVE) and compares again only the chunks written since, or that differed.
    A write it cannot tell row by row (a statement, an unknown event, a row without its key) widens
    the comparison to the table or to every table; a binary log that cannot be read makes it the full
    verification, and says why.
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
  mode:
    description:
      - V(full) compares every chunk now; V(baseline) and V(recheck) split that between the time the
        source is writable and the cutover (see the description).
    type: str
    choices: [full, baseline, recheck]
    default: full
  baseline_path:
    description: The baseline's file on the migration host (O(mode=baseline) writes it, O(mode=recheck) reads it).
    type: path
  baseline_max_age:
    description: Minutes a baseline may be reused by O(mode=baseline).
    type: int
    default: 60
  catchup_timeout:
    description: Seconds to wait for the target to apply the source's binary log up to a position.
    type: int
    default: 300
  binlog_client:
    description: The mysqlbinlog program on the migration host.
    type: str
    default: mysqlbinlog
"""

EXAMPLES = r"""
- name: Compare source and target
  shop.aws.mysql_migration_checksum:
    source: "{{ migrate_db_source }}"
    target: "{{ migrate_db__target }}"
    databases: [shop]
  register: verification

- name: While the source is writable and the target replicates, verify everything and note where
  shop.aws.mysql_migration_checksum:
    source: "{{ migrate_db_source }}"
    target: "{{ migrate_db__target }}"
    databases: [shop]
    mode: baseline
    baseline_path: /var/tmp/shop-migrate/verified.json

- name: At cutover, with the source read-only, compare again what changed since
  shop.aws.mysql_migration_checksum:
    source: "{{ migrate_db_source }}"
    target: "{{ migrate_db__target }}"
    replication: "{{ migrate_db_replication }}"
    databases: [shop]
    mode: recheck
    baseline_path: /var/tmp/shop-migrate/verified.json
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
baseline:
  description:
    - O(mode=baseline) - the positions it was taken at, whether an earlier one was reused (and why
      not), and the chunks in flux.
  returned: when O(mode=baseline)
  type: dict
recheck:
  description:
    - O(mode=recheck) - the positions read, binary log events read on each side, chunks compared
      again of all, whether it fell back to every chunk and why, and seconds for each step.
  returned: when O(mode=recheck)
  type: dict
"""

import json
import os
import time
from concurrent.futures import ThreadPoolExecutor

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.shop.aws.plugins.module_utils.mysql_migration import (
    BinlogChanges, binlog_files_between, chunk_bounds, chunk_key, chunk_query, chunks_to_recheck, compare_chunks, quote_ident,
    table_ref)
from ansible_collections.shop.aws.plugins.module_utils.mysql_migration_db import (
    SERVER_SPEC, binary_logs, binlog_position, connect, gather_objects, gather_tables, read_binlog, require_pymysql, rows,
    wait_applied)

BASELINE_VERSION = 1


def _chunk_results(connection, table: dict, key: str | None, bounds: list) -> list[dict]:
    results = []
    for bound in bounds:
        sql, params = chunk_query(table["schema"], table["name"], table["columns"], key, bound)
        count, digest = rows(connection, sql, params)[0]
        results.append({"bounds": list(bound), "count": int(count), "sum": str(digest)})
    return results


def _structure(table: dict, target_table: dict | None) -> str | None:
    """Why a table cannot be compared row by row, if it cannot."""
    if target_table is None:
        return "missing on the target"
    ours = [c["name"] for c in table["columns"]]
    theirs = [c["name"] for c in target_table["columns"]]
    if ours != theirs:
        return f"columns differ: source {ours}, target {theirs}"
    return None


def table_bounds(connection, table: dict, chunk_rows: int) -> tuple[str | None, list]:
    key = chunk_key(table)
    if not key:
        return None, [(None, None)]
    low, high = rows(connection, f"SELECT MIN({quote_ident(key)}), MAX({quote_ident(key)}) "  # noqa: S608
                                 f"FROM {table_ref(table['schema'], table['name'])}")[0]
    return key, chunk_bounds(None if low is None else int(low), None if high is None else int(high), chunk_rows)


def compare_table(pool, connections, table: dict, target_table: dict | None, chunk_rows: int,
                  key: str | None = None, bounds: list | None = None, chunks: list[int] | None = None) -> dict:
    """Compare a table's chunks (all of them, or those given by index) on both servers."""
    name = f"{table['schema']}.{table['name']}"
    started = time.monotonic()
    reason = _structure(table, target_table)
    if reason:
        return {"table": name, "match": False, "reason": reason}
    if bounds is None:
        key, bounds = table_bounds(connections[0], table, chunk_rows)
    selected = [bounds[index] for index in chunks] if chunks is not None else bounds
    source, target = pool.map(lambda conn: _chunk_results(conn, table, key, selected), connections)
    mismatched = compare_chunks(source, target)
    return {
        "table": name, "key": key, "chunks": len(bounds), "compared": len(selected), "bounds": [list(b) for b in bounds],
        "rows_source": sum(c["count"] for c in source), "rows_target": sum(c["count"] for c in target),
        "mismatched_chunks": mismatched, "match": not mismatched, "seconds": round(time.monotonic() - started, 2),
    }


def _summary(result: dict, recheck: bool = False) -> str:
    """One line a table for the playbook's output."""
    if "reason" in result:
        return f"{result['table']}: MISMATCH, {result['reason']}"
    rows_ = (f"{result['rows_source']} rows on each side" if result["rows_source"] == result["rows_target"]
             else f"{result['rows_source']} rows on the source, {result['rows_target']} on the target")
    verdict = "match" if result["match"] else f"MISMATCH in {len(result['mismatched_chunks'])} chunk(s)"
    if recheck:
        if not result["compared"]:
            return f"{result['table']}: unchanged since the verification, {result['chunks']} chunk(s), match"
        return f"{result['table']}: {result['compared']} of {result['chunks']} chunk(s) compared again ({rows_}), {verdict}"
    return f"{result['table']}: {rows_}, {result['chunks']} chunk(s), {verdict}"


def _tables(connections, databases):
    source = [t for t in gather_tables(connections[0], databases) if t["type"] == "BASE TABLE"]
    target = {(t["schema"], t["name"]): t for t in gather_tables(connections[1], databases) if t["type"] == "BASE TABLE"}
    return source, target


def _objects(connections, databases) -> dict:
    def names(objects):
        return {f"{o['type'].lower()} {o['schema']}.{o['name']}" for o in objects}

    source_objects, target_objects = (names(gather_objects(c, databases)) for c in connections)
    return {"missing": sorted(source_objects - target_objects), "extra": sorted(target_objects - source_objects),
            "compared": len(source_objects)}


def _verdict(results: list[dict], objects: dict, recheck: bool = False) -> dict:
    for result in results:
        result["summary"] = _summary(result, recheck)
    mismatches = sum(1 for r in results if not r["match"]) + len(objects["missing"]) + len(objects["extra"])
    public = [{k: v for k, v in r.items() if k != "bounds"} for r in results]
    return {"match": mismatches == 0, "mismatches": mismatches, "tables": public, "objects": objects}


def verify_all(connections, databases: list[str], chunk_rows: int) -> tuple[dict, list[dict]]:
    source_tables, target_tables = _tables(connections, databases)
    results = []
    with ThreadPoolExecutor(max_workers=2) as pool:
        for table in source_tables:
            results.append(compare_table(pool, connections, table, target_tables.pop((table["schema"], table["name"]), None),
                                         chunk_rows))
    for schema, name in sorted(target_tables):
        results.append({"table": f"{schema}.{name}", "match": False, "reason": "only on the target"})
    compared = [dict(result, columns=table["columns"]) for result, table in zip(results, source_tables, strict=False)]
    return _verdict(results, _objects(connections, databases)), compared


# ----------------------------------------------------------------------------- baseline

def _reusable(module, connections, path: str) -> tuple[dict | None, str]:
    """An earlier baseline that can serve, or why none can."""
    params = module.params
    if not path or not os.path.exists(path):
        return None, "no earlier verification"
    try:
        with open(path, encoding="utf-8") as stream:
            baseline = json.load(stream)
    except (OSError, ValueError) as error:
        return None, f"the earlier verification cannot be read ({error})"
    if baseline.get("version") != BASELINE_VERSION or baseline.get("databases") != params["databases"] \
            or baseline.get("chunk_rows") != params["chunk_rows"]:
        return None, "the earlier verification was of other databases or chunks"
    age = time.time() - float(baseline.get("created", 0))
    if age > params["baseline_max_age"] * 60:
        return None, f"the earlier verification is {age / 60:.0f} min old (baseline_max_age {params['baseline_max_age']})"
    for connection, side in zip(connections, ("source", "target"), strict=True):
        position = baseline[f"{side}_position"]
        if position and position["file"] not in binary_logs(connection):
            return None, f"the {side} no longer holds the binary log {position['file']} the earlier verification started at"
    return baseline, ""


def take_baseline(module, connections) -> dict:
    params = module.params
    reused, why = _reusable(module, connections, params["baseline_path"])
    if reused:
        summary = dict(reused["result"], baseline={"reused": True, "created": reused["created"],
                                                   "source_position": reused["source_position"],
                                                   "target_position": reused["target_position"],
                                                   "in_flux": reused["in_flux"]})
        return summary
    # The target's position before the source's: a write on the target after it is in its log.
    target_position = binlog_position(connections[1])
    source_position = binlog_position(connections[0])
    if source_position is None:
        module.fail_json(msg="the source keeps no binary log (log_bin): there is nothing to re-check changes from")
    try:
        wait_applied(connections[1], source_position, params["catchup_timeout"])
    except RuntimeError as error:
        module.fail_json(msg=f"verification: {error}")
    result, compared = verify_all(connections, params["databases"], params["chunk_rows"])
    tables = {}
    for entry in compared:
        if "reason" in entry:
            tables[entry["table"]] = {"recheck": "all"}
            continue
        ordinal = next((i + 1 for i, c in enumerate(entry["columns"]) if c["name"] == entry["key"]), None)
        mismatched = {tuple(m["bounds"]) for m in entry["mismatched_chunks"]}
        tables[entry["table"]] = {"key": entry["key"], "ordinal": ordinal if entry["key"] else None,
                                  "bounds": entry["bounds"],
                                  "recheck": [i for i, b in enumerate(entry["bounds"]) if tuple(b) in mismatched]}
    in_flux = sum(len(t["recheck"]) for t in tables.values() if isinstance(t["recheck"], list))
    baseline = {"version": BASELINE_VERSION, "created": time.time(), "databases": params["databases"],
                "chunk_rows": params["chunk_rows"], "source_position": source_position, "target_position": target_position,
                "tables": tables, "in_flux": in_flux, "result": result}
    if params["baseline_path"] and not module.check_mode:
        temporary = params["baseline_path"] + ".new"
        with open(os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w", encoding="utf-8") as stream:
            json.dump(baseline, stream)
        os.replace(temporary, params["baseline_path"])
    return dict(result, baseline={"reused": False, "why_not_reused": why, "created": baseline["created"],
                                  "source_position": source_position, "target_position": target_position, "in_flux": in_flux})


# ----------------------------------------------------------------------------- recheck

def _changes(module, connection, server: dict, since: dict | None, until: dict | None, changes: BinlogChanges) -> int:
    """Feed a server's binary log between two positions to changes; the events read."""
    if since is None or until is None:
        raise RuntimeError("it keeps no binary log")
    if (since["file"], since["position"]) == (until["file"], until["position"]):
        return 0
    files = binlog_files_between(binary_logs(connection), since["file"], until["file"])
    before = changes.events
    changes.feed(read_binlog(module.run_command, server, files, since["position"], until["position"],
                             module.params["binlog_client"]))
    return changes.events - before


def recheck(module, connections) -> dict:
    params = module.params
    timings = {}
    started = time.monotonic()
    try:
        with open(params["baseline_path"], encoding="utf-8") as stream:
            baseline = json.load(stream)
    except (OSError, ValueError, TypeError) as error:
        module.fail_json(msg=f"baseline_path: no verification to re-check from ({error}); run mode=baseline first")
    source_position = binlog_position(connections[0])
    try:
        wait_applied(connections[1], source_position, params["catchup_timeout"])
    except RuntimeError as error:
        module.fail_json(msg=f"cutover: {error}")
    target_position = binlog_position(connections[1])
    timings["catch_up"] = round(time.monotonic() - started, 2)

    source_tables, target_tables = _tables(connections, params["databases"])
    ordinals = {tuple(name.split(".", 1)): entry.get("ordinal") for name, entry in baseline["tables"].items()}
    changes = BinlogChanges(params["databases"], ordinals)
    events, fallback = {}, []
    read_started = time.monotonic()
    for side, connection, server, since, until in (
            ("source", connections[0], params["replication"], baseline["source_position"], source_position),
            ("target", connections[1], params["target"], baseline["target_position"], target_position)):
        if side == "source" and not server:
            fallback.append("the source's binary log: no replication account given to read it with")
            continue
        try:
            events[side] = _changes(module, connection, server, since, until, changes)
        except (RuntimeError, ValueError) as error:
            fallback.append(f"the {side}'s binary log: {error}")
    timings["binary_logs"] = round(time.monotonic() - read_started, 2)
    if fallback:
        changes.unknown.extend(f"{why}, so every chunk is compared again" for why in fallback)

    compare_started = time.monotonic()
    results = []
    with ThreadPoolExecutor(max_workers=2) as pool:
        for table in source_tables:
            ident = (table["schema"], table["name"])
            entry = baseline["tables"].get(f"{ident[0]}.{ident[1]}")
            target_table = target_tables.pop(ident, None)
            chunks = chunks_to_recheck(entry, changes, ident)
            if chunks is None or _structure(table, target_table):
                # Every chunk, on today's bounds: rows may lie beyond the baseline's.
                results.append(compare_table(pool, connections, table, target_table, params["chunk_rows"]))
            else:
                results.append(compare_table(pool, connections, table, target_table, params["chunk_rows"],
                                             key=entry["key"], bounds=[tuple(b) for b in entry["bounds"]], chunks=chunks))
    for schema, name in sorted(target_tables):
        results.append({"table": f"{schema}.{name}", "match": False, "reason": "only on the target"})
    verdict = _verdict(results, _objects(connections, params["databases"]), recheck=True)
    timings["compare"] = round(time.monotonic() - compare_started, 2)
    timings["total"] = round(time.monotonic() - started, 2)
    compared = sum(r.get("compared", 0) for r in results)
    chunks = sum(r.get("chunks", 0) for r in results)
    verdict["recheck"] = {
        "since": {"source": baseline["source_position"], "target": baseline["target_position"]},
        "until": {"source": source_position, "target": target_position},
        "events": events, "rows_changed": changes.rows, "chunks_compared": compared, "chunks": chunks,
        "every_chunk": bool(changes.unknown), "why_every_chunk": changes.unknown,
        "whole_tables": sorted(f"{s}.{t}" for s, t in changes.whole), "seconds": timings,
    }
    return verdict


def main():
    server = {"type": "dict", "options": SERVER_SPEC, "required": True}
    module = AnsibleModule(
        argument_spec={
            "source": server, "target": server,
            "replication": {"type": "dict", "options": SERVER_SPEC},
            "databases": {"type": "list", "elements": "str", "required": True},
            "chunk_rows": {"type": "int", "default": 100000},
            "mode": {"type": "str", "choices": ["full", "baseline", "recheck"], "default": "full"},
            "baseline_path": {"type": "path"},
            "baseline_max_age": {"type": "int", "default": 60},
            "catchup_timeout": {"type": "int", "default": 300},
            "binlog_client": {"type": "str", "default": "mysqlbinlog"},
        },
        required_if=[("mode", "baseline", ["baseline_path"]), ("mode", "recheck", ["baseline_path"])],
        supports_check_mode=True,
    )
    require_pymysql(module)
    params = module.params
    if params["chunk_rows"] < 1:
        module.fail_json(msg=f"chunk_rows must be at least 1, got {params['chunk_rows']}")
    try:
        connections = (connect(params["source"], "source"), connect(params["target"], "target"))
    except ConnectionError as error:
        module.fail_json(msg=str(error))
    if params["mode"] == "baseline":
        result = take_baseline(module, connections)
    elif params["mode"] == "recheck":
        result = recheck(module, connections)
    else:
        result = verify_all(connections, params["databases"], params["chunk_rows"])[0]
    module.exit_json(changed=False, **result)


if __name__ == "__main__":
    main()
