# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Connections of the migration modules: PyMySQL on the migration host, the same options for
the source, the target and the replication account."""

from __future__ import annotations

import os
import ssl
import tempfile
import time
import traceback

try:
    import pymysql

    PYMYSQL_IMPORT_ERROR = None
except ImportError:  # the modules fail with a clear message instead
    pymysql = None
    PYMYSQL_IMPORT_ERROR = traceback.format_exc()

from ansible_collections.shop.aws.plugins.module_utils.mysql_migration import position_reached

# Argument spec of one server (source, target, replication): the password is never logged.
SERVER_SPEC = {
    "host": {"type": "str", "required": True},
    "port": {"type": "int", "default": 3306},
    "user": {"type": "str", "required": True},
    "password": {"type": "str", "required": True, "no_log": True},
    "ssl_ca": {"type": "path"},
    "ssl_ca_pem": {"type": "str"},
    "connect_timeout": {"type": "int", "default": 10},
}


def require_pymysql(module) -> None:
    if pymysql is None:
        module.fail_json(msg="PyMySQL is missing on the migration host (Debian: python3-pymysql)",
                         exception=PYMYSQL_IMPORT_ERROR)


def connect(server: dict, name: str):
    """A connection to one server; errors name the server ("source", "target"...)."""
    options = {"host": server["host"], "port": server["port"], "user": server["user"], "password": server["password"],
               "connect_timeout": server.get("connect_timeout") or 10, "charset": "utf8mb4", "autocommit": True,
               "read_timeout": 3600}
    if server.get("ssl_ca_pem"):
        # The bundle itself: nothing to read on the host (a check run writes no file). The
        # certificate and its name verified, as with a bundle file.
        options["ssl"] = ssl.create_default_context(cadata=server["ssl_ca_pem"])
    elif server.get("ssl_ca"):
        options["ssl"] = {"ca": server["ssl_ca"]}
    try:
        connection = pymysql.connect(**options)
    except pymysql.MySQLError as error:
        raise ConnectionError(f"cannot connect to the {name} {server['user']}@{server['host']}:{server['port']}: {error}") from error
    with connection.cursor() as cursor:
        # Checksums and dumps read timestamps the same way on both servers.
        cursor.execute("SET SESSION time_zone = '+00:00'")
    return connection


def rows(connection, sql: str, params=None) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return list(cursor.fetchall())


def dict_rows(connection, sql: str, params=None) -> list[dict]:
    with connection.cursor(pymysql.cursors.DictCursor) as cursor:
        cursor.execute(sql, params)
        return list(cursor.fetchall())


SYSTEM_SCHEMAS = ("mysql", "information_schema", "performance_schema", "sys")
VARIABLES = ("server_id", "log_bin", "binlog_format", "binlog_row_image", "read_only", "character_set_server",
             "collation_server", "lower_case_table_names", "expire_logs_days", "binlog_expire_logs_seconds",
             "gtid_mode", "sql_mode", "event_scheduler", "log_bin_trust_function_creators")


def _in_clause(values) -> str:
    return ", ".join(["%s"] * len(values))


def gather_tables(connection, databases: list[str]) -> list[dict]:
    """Tables and views of the databases: engine, sizes, columns in order, primary key."""
    if not databases:
        return []
    marks = _in_clause(databases)
    tables = dict_rows(connection, f"""
        SELECT TABLE_SCHEMA AS `schema`, TABLE_NAME AS name, TABLE_TYPE AS type, ENGINE AS engine,
               TABLE_ROWS AS rows_estimate, DATA_LENGTH AS data_length, INDEX_LENGTH AS index_length,
               TABLE_COLLATION AS collation
        FROM information_schema.TABLES WHERE TABLE_SCHEMA IN ({marks}) ORDER BY TABLE_SCHEMA, TABLE_NAME""",
                       databases)
    columns: dict[tuple, list] = {}
    for row in dict_rows(connection, f"""
            SELECT TABLE_SCHEMA AS `schema`, TABLE_NAME AS `table`, COLUMN_NAME AS name, DATA_TYPE AS type,
                   CHARACTER_SET_NAME AS charset, COLLATION_NAME AS collation
            FROM information_schema.COLUMNS WHERE TABLE_SCHEMA IN ({marks})
            ORDER BY TABLE_SCHEMA, TABLE_NAME, ORDINAL_POSITION""", databases):
        columns.setdefault((row["schema"], row["table"]), []).append(row)
    keys: dict[tuple, list] = {}
    for schema, table, column in rows(connection, f"""
            SELECT TABLE_SCHEMA, TABLE_NAME, COLUMN_NAME FROM information_schema.STATISTICS
            WHERE TABLE_SCHEMA IN ({marks}) AND INDEX_NAME = 'PRIMARY' ORDER BY TABLE_SCHEMA, TABLE_NAME, SEQ_IN_INDEX""",
                                      databases):
        keys.setdefault((schema, table), []).append(column)
    for table in tables:
        ident = (table["schema"], table["name"])
        table["columns"] = [{"name": c["name"], "type": c["type"], "charset": c["charset"], "collation": c["collation"]}
                            for c in columns.get(ident, [])]
        table["primary_key"] = keys.get(ident, [])
        for field in ("rows_estimate", "data_length", "index_length"):
            table[field] = int(table[field] or 0)
    return tables


def gather_objects(connection, databases: list[str]) -> list[dict]:
    """Routines, triggers, views and events of the databases, with their definers."""
    if not databases:
        return []
    marks = _in_clause(databases)
    queries = (
        f"SELECT ROUTINE_TYPE, ROUTINE_SCHEMA, ROUTINE_NAME, DEFINER, SECURITY_TYPE, SQL_DATA_ACCESS "
        f"FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA IN ({marks})",
        f"SELECT 'TRIGGER', TRIGGER_SCHEMA, TRIGGER_NAME, DEFINER, 'DEFINER', '' FROM information_schema.TRIGGERS "
        f"WHERE TRIGGER_SCHEMA IN ({marks})",
        f"SELECT 'VIEW', TABLE_SCHEMA, TABLE_NAME, DEFINER, SECURITY_TYPE, '' FROM information_schema.VIEWS WHERE TABLE_SCHEMA IN ({marks})",
        f"SELECT 'EVENT', EVENT_SCHEMA, EVENT_NAME, DEFINER, 'DEFINER', '' FROM information_schema.EVENTS WHERE EVENT_SCHEMA IN ({marks})",
    )
    objects = []
    for sql in queries:
        for kind, schema, name, definer, security, data_access in rows(connection, sql, databases):
            objects.append({"type": kind, "schema": schema, "name": name, "definer": definer, "security": security,
                            "data_access": data_access})
    return sorted(objects, key=lambda o: (o["schema"], o["type"], o["name"]))


def gather_server(connection, databases: list[str]) -> dict:
    """What the preflight rules read of one server."""
    version = rows(connection, "SELECT VERSION()")[0][0]
    user = rows(connection, "SELECT CURRENT_USER()")[0][0]
    marks = _in_clause(VARIABLES)
    variables = {name.lower(): value for name, value in
                 rows(connection, f"SHOW GLOBAL VARIABLES WHERE Variable_name IN ({marks})", VARIABLES)}
    schemas = [row[0] for row in rows(connection, "SELECT SCHEMA_NAME FROM information_schema.SCHEMATA")]
    tables = gather_tables(connection, [d for d in databases if d in schemas])
    charsets = sorted({c["charset"] for t in tables for c in t["columns"] if c["charset"]})
    collations_used = sorted({c["collation"] for t in tables for c in t["columns"] if c["collation"]}
                             | {t["collation"] for t in tables if t["collation"]})
    grants = [row[0] for row in rows(connection, "SHOW GRANTS")]
    system = _in_clause(SYSTEM_SCHEMAS)
    used = rows(connection, f"SELECT COALESCE(SUM(DATA_LENGTH + INDEX_LENGTH), 0) FROM information_schema.TABLES "
                            f"WHERE TABLE_SCHEMA NOT IN ({system})", SYSTEM_SCHEMAS)[0][0]
    return {
        "version": version, "user": user, "variables": variables, "schemas": schemas, "tables": tables,
        "objects": gather_objects(connection, [d for d in databases if d in schemas]), "charsets": charsets,
        "collations_used": collations_used, "grants": grants, "used_bytes": int(used),
        "collations": [row[0] for row in rows(connection, "SELECT COLLATION_NAME FROM information_schema.COLLATIONS")],
        "rds_procedures": sorted(row[0] for row in rows(
            connection, "SELECT ROUTINE_NAME FROM information_schema.ROUTINES "
                        "WHERE ROUTINE_SCHEMA = 'mysql' AND ROUTINE_NAME LIKE 'rds\\_%%'")),
    }


# ----------------------------------------------------------------------------- binary log positions

def _first_that_parses(connection, statements: tuple[str, ...]) -> list[dict]:
    """The rows of the first statement the server knows (MySQL renamed several in 8.0.22/8.4)."""
    error = None
    for statement in statements:
        try:
            return dict_rows(connection, statement)
        except pymysql.err.ProgrammingError as failed:  # 1064: this server does not know the statement
            error = failed
    raise error


def binlog_position(connection) -> dict | None:
    """The server's own binary log coordinates {file, position}; None when it keeps no binary log."""
    found = _first_that_parses(connection, ("SHOW BINARY LOG STATUS", "SHOW MASTER STATUS"))
    if not found:
        return None
    return {"file": found[0]["File"], "position": int(found[0]["Position"])}


def binary_logs(connection) -> list[str]:
    return [row["Log_name"] for row in _first_that_parses(connection, ("SHOW BINARY LOGS",))]


def replica_status(connection) -> dict | None:
    """The replica's applied coordinates in the source's binary log and its errors, under either
    generation of names (MySQL 8.0.22 SHOW REPLICA STATUS: Relay_Source_Log_File...). None when
    the server replicates from nowhere."""
    found = _first_that_parses(connection, ("SHOW REPLICA STATUS", "SHOW SLAVE STATUS"))
    if not found:
        return None
    status = found[0]

    def field(*names):
        return next((status[name] for name in names if name in status), None)

    return {
        "applied": {"file": field("Relay_Source_Log_File", "Relay_Master_Log_File"),
                    "position": int(field("Exec_Source_Log_Pos", "Exec_Master_Log_Pos") or 0)},
        "io_running": field("Replica_IO_Running", "Slave_IO_Running"),
        "sql_running": field("Replica_SQL_Running", "Slave_SQL_Running"),
        "error": " ".join(str(field(name) or "") for name in ("Last_IO_Error", "Last_SQL_Error")).strip(),
    }


def wait_applied(connection, position: dict, timeout: float, interval: float = 0.2) -> dict:
    """Wait until the replica has applied the source's binary log up to position; RuntimeError on
    a replication error, a replica not replicating, or the timeout."""
    deadline = time.monotonic() + timeout
    while True:
        status = replica_status(connection)
        if status is None:
            raise RuntimeError("the target does not replicate from the source")
        if status["error"]:
            raise RuntimeError(f"replication on the target failed: {status['error']}")
        if position_reached(status["applied"], position):
            return status
        if time.monotonic() > deadline:
            raise RuntimeError(f"the target had not applied the source's {position['file']}:{position['position']} after "
                               f"{timeout:.0f} s (applied {status['applied']['file']}:{status['applied']['position']}, "
                               f"SQL thread running: {status['sql_running']})")
        time.sleep(interval)


def read_binlog(run_command, server: dict, files: list[str], start: int, stop: int, client: str = "mysqlbinlog") -> str:
    """The rows of a stretch of a server's binary log, as mysqlbinlog --verbose prints them
    (read over the network: needs REPLICATION SLAVE), run with the module's run_command. The password goes in a client settings
    file readable by its owner only, removed at once, never on a command line."""
    settings = ["[client]", f"host={server['host']}", f"port={server['port']}", f"user={server['user']}",
                'password="{}"'.format(server["password"].replace("\\", "\\\\").replace('"', '\\"'))]
    with tempfile.TemporaryDirectory(prefix="binlog-") as folder:
        if server.get("ssl_ca_pem"):
            bundle = os.path.join(folder, "ca.pem")
            with open(bundle, "w", encoding="utf-8") as stream:
                stream.write(server["ssl_ca_pem"])
            server = dict(server, ssl_ca=bundle)
        if server.get("ssl_ca"):
            settings += [f"ssl-ca={server['ssl_ca']}", "ssl-verify-server-cert"]
        path = os.path.join(folder, "client.cnf")
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w", encoding="utf-8") as stream:
            stream.write("\n".join(settings) + "\n")
        command = [client, f"--defaults-extra-file={path}", "--read-from-remote-server", "--verbose",
                   "--base64-output=DECODE-ROWS", f"--start-position={start}", f"--stop-position={stop}", *files]
        # MariaDB's mysqlbinlog (10.8 and later) refuses a log whose GTIDs of one domain do not
        # grow (a replica's own writes and the replicated ones interleave: "Found out of order
        # GTID"); MySQL's has no such option. Row images may hold binary data: undecodable bytes
        # are replaced, keys are digits.
        rc, out, err = run_command(command[:2] + ["--skip-gtid-strict-mode"] + command[2:], errors="surrogate_then_replace")
        if rc != 0 and "unknown option" in err:
            rc, out, err = run_command(command, errors="surrogate_then_replace")
    if rc != 0:
        raise RuntimeError(f"{client} could not read {', '.join(files)}: {err.strip()[-300:]}")
    return out
