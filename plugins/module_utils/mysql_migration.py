# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Pure helpers of the MySQL migration (playbooks/migrate_db.yml): no connection, no I/O but
the streams handed in, so that every rule here is unit tested.

- preflight rules: facts of the source and the target in, findings (blocker, warning, info) out;
- the snapshot's binary log coordinates, from mysqldump's header or mydumper's metadata;
- mysqldump's single file cut into load units (a schema unit, a unit a table, a post unit);
- definers rewritten to CURRENT_USER (RDS's master user has no SUPER);
- the chunked checksum queries that compare a table on both servers.
"""

from __future__ import annotations

import re

# ----------------------------------------------------------------------------- identifiers


def quote_ident(name: str) -> str:
    """A MySQL identifier in backticks (a backtick inside is doubled)."""
    return "`" + str(name).replace("`", "``") + "`"


def table_ref(schema: str, table: str) -> str:
    return f"{quote_ident(schema)}.{quote_ident(table)}"


# ----------------------------------------------------------------------------- versions


def parse_version(version: str) -> dict:
    """'10.11.18-MariaDB-0+deb12u1' or '8.4.3' -> flavour, (major, minor, patch), series 'X.Y'."""
    match = re.match(r"(\d+)\.(\d+)\.(\d+)", version or "")
    if not match:
        raise ValueError(f"not a MySQL or MariaDB version: {version!r}")
    numbers = tuple(int(part) for part in match.groups())
    flavour = "mariadb" if "mariadb" in version.lower() else "mysql"
    return {"flavour": flavour, "version": numbers, "series": f"{numbers[0]}.{numbers[1]}", "text": version}


# MySQL replicates from a release series to the same or the next one (MySQL 8.4 manual,
# "Replication Compatibility Between MySQL Versions"): 5.7 -> 8.0, 8.0 -> 8.4 and 8.0.x
# innovation releases; two series apart is not supported.
MYSQL_SERIES_ORDER = ["5.6", "5.7", "8.0", "8.4", "9.0"]


def replication_supported(source: dict, target: dict) -> str | None:
    """Why replication from source to target cannot work, or None."""
    if source["flavour"] == "mariadb" and target["flavour"] == "mysql":
        return "MySQL cannot replicate from MariaDB (binary log formats differ): use migrate_db_mode=dump"
    if source["version"] > target["version"]:
        return f"the target ({target['text']}) is older than the source ({source['text']})"
    if source["flavour"] == target["flavour"] == "mysql":
        order = MYSQL_SERIES_ORDER
        src = order.index(source["series"]) if source["series"] in order else None
        tgt = order.index(target["series"]) if target["series"] in order else None
        if src is not None and tgt is not None and tgt - src > 1:
            return f"MySQL {target['series']} cannot replicate from {source['series']} (more than one release series apart)"
    return None


# ----------------------------------------------------------------------------- grants

# What the migration's source account needs, by what each privilege is for.
SOURCE_PRIVILEGES = {
    "SELECT": "read the data",
    "SHOW VIEW": "dump views",
    "TRIGGER": "dump triggers",
    "EVENT": "dump events",
    "LOCK TABLES": "mysqldump's consistent start",
    "RELOAD": "FLUSH TABLES WITH READ LOCK for the snapshot's binary log position",
}
REPLICATION_CLIENT = ("REPLICATION CLIENT", "BINLOG MONITOR", "SUPER")
READ_ONLY_SWITCH = ("SUPER", "SYSTEM_VARIABLES_ADMIN", "READ_ONLY ADMIN")
DEFINER_PRIVILEGES = ("SUPER", "SET USER", "SET_USER_ID", "SET_ANY_DEFINER")
_GRANT = re.compile(r"^GRANT (?P<privs>.+?) ON (?P<on>\S+) TO ", re.IGNORECASE)


def global_privileges(grants: list[str]) -> set[str]:
    """The privileges granted ON *.* in SHOW GRANTS lines (ALL PRIVILEGES expanded to ALL)."""
    privileges: set[str] = set()
    for line in grants:
        match = _GRANT.match(line.strip())
        if not match or match.group("on") != "*.*":
            continue
        for privilege in re.sub(r"\([^)]*\)", "", match.group("privs")).split(","):
            privilege = privilege.strip().upper()
            privileges.add("ALL" if privilege in ("ALL", "ALL PRIVILEGES") else privilege)
    return privileges


def has_any(privileges: set[str], wanted) -> bool:
    return "ALL" in privileges or any(p in privileges for p in wanted)


# ----------------------------------------------------------------------------- preflight


def _finding(level: str, code: str, message: str, **details) -> dict:
    return {"level": level, "code": code, "message": message, **({"details": details} if details else {})}


def preflight_findings(source: dict, target: dict, options: dict) -> list[dict]:
    """Findings of the preflight, blockers first.

    source/target: what mysql_migration_preflight gathered (version, variables, tables,
    objects, grants, collations...). options: mode (dump|replication), databases,
    definers (refuse|rewrite), allow_non_innodb, resuming (an earlier run of this migration
    loaded units: the source's tables and views on the target are its own, not foreign data),
    target_free_bytes (None: unknown),
    replication (the replication account's grants and server facts) and storage_margin.
    """
    findings: list[dict] = []
    mode = options["mode"]
    src_version = parse_version(source["version"])
    tgt_version = parse_version(target["version"])

    missing_dbs = sorted(set(options["databases"]) - set(source["schemas"]))
    if missing_dbs:
        findings.append(_finding("blocker", "database_missing", f"not on the source: {', '.join(missing_dbs)}"))

    if src_version["version"] > tgt_version["version"] and src_version["flavour"] == tgt_version["flavour"]:
        findings.append(_finding("blocker", "version_downgrade",
                                 f"the target runs {tgt_version['text']}, older than the source's {src_version['text']}"))
    elif src_version["flavour"] != tgt_version["flavour"]:
        findings.append(_finding("warning", "flavour_change",
                                 f"{src_version['flavour']} {src_version['series']} to {tgt_version['flavour']} "
                                 f"{tgt_version['series']}: check the application against the target's SQL dialect"))

    privileges = global_privileges(source["grants"])
    missing = [p for p in SOURCE_PRIVILEGES if not has_any(privileges, (p,))]
    if not has_any(privileges, REPLICATION_CLIENT):
        missing.append("REPLICATION CLIENT (BINLOG MONITOR on MariaDB)")
    if options.get("cutover") and not has_any(privileges, READ_ONLY_SWITCH):
        missing.append("SYSTEM_VARIABLES_ADMIN (READ_ONLY ADMIN on MariaDB), to make the source read-only")
    if missing:
        findings.append(_finding("blocker", "source_privileges",
                                 f"the source account {source['user']} lacks: {', '.join(missing)}"))

    tables = [t for t in source["tables"] if t["type"] == "BASE TABLE"]
    non_innodb = [f"{t['schema']}.{t['name']} ({t['engine']})" for t in tables if (t["engine"] or "").lower() != "innodb"]
    if non_innodb:
        level = "warning" if options.get("allow_non_innodb") else "blocker"
        findings.append(_finding(level, "non_innodb",
                                 "not InnoDB (no consistent snapshot, no crash safety; RDS supports only InnoDB "
                                 f"fully): {', '.join(non_innodb)}; convert them or set migrate_db_allow_non_innodb"))
    no_pk = [f"{t['schema']}.{t['name']}" for t in tables if not t.get("primary_key")]
    if no_pk:
        findings.append(_finding("warning", "no_primary_key",
                                 f"no primary key (checksummed in one piece; slow under row-based replication): {', '.join(no_pk)}"))

    other_charsets = sorted({c for c in source.get("charsets", []) if c and not c.startswith("utf8mb4")})
    if other_charsets:
        findings.append(_finding("warning", "charsets", f"character sets other than utf8mb4 in use: {', '.join(other_charsets)}"))
    missing_collations = sorted(set(source.get("collations_used", [])) - set(target.get("collations", [])))
    if missing_collations:
        findings.append(_finding("blocker", "collations", f"collations the target does not have: {', '.join(missing_collations)}"))

    target_privileges = global_privileges(target["grants"])
    foreign_definers = sorted({o["definer"] for o in source["objects"]
                               if o.get("definer") and o["definer"] != target["user"]})
    if foreign_definers and not has_any(target_privileges, DEFINER_PRIVILEGES):
        objects = [f"{o['type'].lower()} {o['schema']}.{o['name']}" for o in source["objects"] if o.get("definer") in foreign_definers]
        if options["definers"] == "rewrite":
            findings.append(_finding("warning", "definers",
                                     f"definers {', '.join(foreign_definers)} rewritten to the target account {target['user']}: "
                                     f"{', '.join(objects)}"))
        else:
            findings.append(_finding("blocker", "definers",
                                     f"the target account {target['user']} has no SUPER (as on RDS) and cannot create "
                                     f"objects owned by {', '.join(foreign_definers)}: {', '.join(objects)}; "
                                     "set migrate_db_definers=rewrite to make the target account their definer"))

    # With the binary log on (RDS: automated backups), only SUPER may create a trigger or a
    # stored function unless log_bin_trust_function_creators is 1 (MySQL reference manual,
    # "Stored Program Binary Logging"; MariaDB error 1419): RDS's master user has no SUPER, so
    # the load would fail at the last unit. RDS sets it in the DB parameter group.
    creators = [f"{o['type'].lower()} {o['schema']}.{o['name']}" for o in source["objects"] if o["type"] in ("TRIGGER", "FUNCTION")]
    target_variables = target.get("variables") or {}
    if (creators and str(target_variables.get("log_bin", "OFF")).upper() in ("ON", "1")
            and str(target_variables.get("log_bin_trust_function_creators", "")).upper() in ("OFF", "0")
            and not has_any(target_privileges, ("SUPER",))):
        findings.append(_finding("blocker", "function_creators",
                                 f"the target logs binary logs and log_bin_trust_function_creators is OFF: {target['user']} "
                                 f"(no SUPER) cannot create {', '.join(creators)}; set it to 1 in the target's DB parameter "
                                 "group (database_parameters: log_bin_trust_function_creators: 1, the toolkit's default)"))

    if options.get("cutover"):
        # read_only does not stop a routine that runs as a definer holding SUPER (or READ_ONLY
        # ADMIN on MariaDB), nor an event: seen on MariaDB 10.11 (a SQL SECURITY DEFINER
        # procedure of root@localhost kept writing under read_only). MySQL's super_read_only,
        # which the cutover sets there, stops them; MariaDB before 11 has none.
        writers = [f"{o['type'].lower()} {o['schema']}.{o['name']} ({o['definer']})" for o in source["objects"]
                   if (o["type"] == "PROCEDURE" and o.get("security") == "DEFINER" and o.get("data_access") != "READS SQL DATA")
                   or o["type"] == "EVENT"]
        if writers and src_version["flavour"] == "mariadb":
            findings.append(_finding("warning", "read_only_bypass",
                                     "read_only will not stop these if their definer has SUPER or READ_ONLY ADMIN: "
                                     f"{', '.join(writers)}; keep the application from calling them during the cutover "
                                     "or make them SQL SECURITY INVOKER (the verification refuses the cutover if they write)"))

    resumable = {f"{t['schema']}.{t['name']}" for t in source["tables"]} if options.get("resuming") else set()
    foreign = sorted(f"{t['schema']}.{t['name']}" for t in target["tables"]
                     if t["schema"] in options["databases"] and f"{t['schema']}.{t['name']}" not in resumable)
    if foreign:
        findings.append(_finding("blocker", "target_not_empty",
                                 f"the target already holds tables this migration did not load: {', '.join(foreign[:10])}"
                                 f"{' ...' if len(foreign) > 10 else ''}; nothing is overwritten: empty them first"))

    size = sum((t.get("data_length") or 0) + (t.get("index_length") or 0) for t in tables)
    free = options.get("target_free_bytes")
    margin = options.get("storage_margin", 1.25)
    if free is None:
        findings.append(_finding("warning", "target_storage", "the target's free storage is unknown: not checked"))
    elif size * margin > free:
        findings.append(_finding("blocker", "target_storage",
                                 f"the data ({size / 2**30:.2f} GiB, x{margin} for indexes and logs) does not fit the "
                                 f"target's {free / 2**30:.2f} GiB free"))

    if mode == "replication":
        findings.extend(_replication_findings(source, target, src_version, tgt_version, options.get("replication") or {}))

    order = {"blocker": 0, "warning": 1, "info": 2}
    findings.sort(key=lambda f: order[f["level"]])
    return findings


def _replication_findings(source, target, src_version, tgt_version, replication) -> list[dict]:
    findings = []
    why = replication_supported(src_version, tgt_version)
    if why:
        findings.append(_finding("blocker", "replication_versions", why))
    variables = source["variables"]
    if str(variables.get("log_bin", "OFF")).upper() not in ("ON", "1"):
        findings.append(_finding("blocker", "binlog_off", "the source's binary log is off (log_bin): replication needs it"))
    binlog_format = str(variables.get("binlog_format", "")).upper()
    if binlog_format == "STATEMENT":
        findings.append(_finding("blocker", "binlog_format",
                                 "binlog_format is STATEMENT: set ROW (or MIXED) on the source for a faithful replica"))
    source_id = str(variables.get("server_id", "0"))
    if source_id in ("", "0"):
        findings.append(_finding("blocker", "server_id", "the source's server_id is 0: a replication source needs one"))
    elif source_id == str(target["variables"].get("server_id")):
        findings.append(_finding("blocker", "server_id", f"source and target share server_id {source_id}"))
    retention = binlog_retention_seconds(variables)
    if retention is not None and retention < 86400:
        findings.append(_finding("warning", "binlog_retention",
                                 f"the source keeps binary logs {retention} s: the copy must finish (and replication "
                                 "start) before the snapshot's position is purged"))
    if replication.get("error"):
        findings.append(_finding("blocker", "replication_account", f"the replication account cannot log in: {replication['error']}"))
    elif not has_any(global_privileges(replication.get("grants", [])), ("REPLICATION SLAVE",)):
        findings.append(_finding("blocker", "replication_account",
                                 f"the replication account {replication.get('user')} lacks REPLICATION SLAVE"))
    if not target.get("rds_procedures") and not has_any(global_privileges(target["grants"]), ("SUPER", "REPLICATION_SLAVE_ADMIN", "REPLICATION SLAVE ADMIN")):
        findings.append(_finding("blocker", "target_replication",
                                 f"the target has neither RDS's replication procedures nor a right for {target['user']} to configure replication"))
    return findings


def binlog_retention_seconds(variables: dict) -> int | None:
    """How long the server keeps binary logs (0: forever), from whichever variable it has."""
    seconds = variables.get("binlog_expire_logs_seconds")
    if seconds not in (None, ""):
        seconds = int(float(seconds))
        if seconds:
            return seconds
    days = variables.get("expire_logs_days")
    if days not in (None, ""):
        days = float(days)
        return int(days * 86400) if days else None
    return None


# ----------------------------------------------------------------------------- snapshot position

_DUMP_POSITION = re.compile(
    r"CHANGE (?:MASTER|REPLICATION SOURCE) TO (?:MASTER|SOURCE)_LOG_FILE\s*=\s*'(?P<file>[^']+)',\s*"
    r"(?:MASTER|SOURCE)_LOG_POS\s*=\s*(?P<pos>\d+)")
_MYDUMPER_POSITION = re.compile(r"SHOW MASTER STATUS:\s*\n\s*Log:\s*(?P<file>\S+)\s*\n\s*Pos:\s*(?P<pos>\d+)")


def snapshot_position(text: str) -> dict | None:
    """The binary log coordinates a dump was taken at: mysqldump's --master-data/--source-data
    comment or mydumper's metadata file. None when the text has none."""
    for pattern in (_DUMP_POSITION, _MYDUMPER_POSITION):
        match = pattern.search(text)
        if match:
            return {"file": match.group("file"), "position": int(match.group("pos"))}
    return None


# ----------------------------------------------------------------------------- definers

_DEFINER = re.compile(r"DEFINER\s*=\s*(?:`(?:[^`]|``)*`|'(?:[^']|'')*'|[\w$]+)\s*@\s*(?:`(?:[^`]|``)*`|'(?:[^']|'')*'|[\w.%$-]+)")


def rewrite_definers(text: str) -> tuple[str, int]:
    """Every DEFINER=user@host clause made DEFINER=CURRENT_USER; the count rewritten."""
    return _DEFINER.subn("DEFINER=CURRENT_USER", text)


# ----------------------------------------------------------------------------- mysqldump split

_SECTION = re.compile(
    r"^-- (?P<kind>Table structure for table|Dumping data for table|Temporary (?:table|view) structure for view|"
    r"Final view structure for view|Dumping events for database|Dumping routines for database|Current Database:) "
    r"[`'](?P<name>(?:[^`']|``)+)[`']")


class DumpSplitter:
    """Cuts a mysqldump file into load units, streaming.

    Units, in load order: `schema:<db>` (CREATE DATABASE, views' stand-in tables), one
    `table:<db>.<t>` a table (its DROP/CREATE and its rows: reloading a unit never
    duplicates a row), `post:<db>` (triggers, routines, events, the views): created after
    every row is in, so that no trigger fires on loaded rows. Every unit starts with the
    dump's header (session settings, foreign key checks off) and a USE of its database.

    open_unit(key) must return a writable text stream for a unit; it is called once a unit,
    the first time the unit gets a line.
    """

    def __init__(self, open_unit):
        self._open_unit = open_unit
        self._streams: dict[str, object] = {}
        self.order: list[str] = []
        self.header: list[str] = []
        self.footer_seen = False
        self._db: str | None = None
        self._unit: str | None = None
        self._in_header = True
        self._pending: list[str] = []
        self._after_data = False
        self._data_kind = ""

    def _write(self, unit: str, lines: list[str]) -> None:
        stream = self._streams.get(unit)
        if stream is None:
            stream = self._streams[unit] = self._open_unit(unit)
            self.order.append(unit)
            stream.writelines(self.header)
            if self._db is not None and not unit.startswith("schema:"):
                stream.write(f"USE {quote_ident(self._db)};\n")
        stream.writelines(lines)

    def feed(self, line: str) -> None:
        if line.startswith("-- Dump completed"):
            self.footer_seen = True
        # A section's title is a comment block: "--", "-- <title>", "--".
        if line.rstrip("\n") == "--":
            self._pending.append(line)
            return
        match = _SECTION.match(line)
        if match and self._pending:
            self._start_section(match.group("kind"), match.group("name").replace("``", "`"))
            self._pending.append(line)
            return
        if self._pending:
            lines, self._pending = self._pending, []
            self._emit(lines)
        self._emit([line])

    def _start_section(self, kind: str, name: str) -> None:
        self._in_header = False
        self._after_data = False
        if kind == "Current Database:":
            self._db = name
            self._unit = f"schema:{name}"
        elif self._db is None:
            # A dump of one database without --databases has no USE: the caller names it.
            raise ValueError("the dump has no 'Current Database' section: dump with --databases")
        elif kind in ("Table structure for table", "Dumping data for table"):
            self._unit = f"table:{self._db}.{name}"
            self._after_data = False
        elif kind.startswith("Temporary"):
            self._unit = f"schema:{self._db}"
        else:
            self._unit = f"post:{self._db}"
        self._data_kind = kind

    def _emit(self, lines: list[str]) -> None:
        if self._in_header:
            self.header.extend(lines)
            return
        unit = self._unit
        if unit.startswith("table:") and self._after_data:
            unit = f"post:{self._db}"
        self._write(unit, lines)
        if unit.startswith("table:") and self._data_kind == "Dumping data for table" and lines[-1].startswith("UNLOCK TABLES;"):
            # What follows a table's rows up to the next section is its triggers.
            self._after_data = True

    def close(self) -> list[str]:
        if self._pending:
            self._emit(self._pending)
            self._pending = []
        for stream in self._streams.values():
            stream.close()
        if not self.footer_seen:
            raise ValueError("the dump is incomplete: no '-- Dump completed' line")
        return self.order


def unit_order(units: list[str]) -> list[str]:
    """Schema units first, then tables, then post units (each kind in dump order)."""
    rank = {"schema": 0, "table": 1, "post": 2}
    return sorted(units, key=lambda unit: rank[unit.split(":", 1)[0]])


# ----------------------------------------------------------------------------- checksums

_BINARY_TYPES = ("binary", "varbinary", "tinyblob", "blob", "mediumblob", "longblob", "bit", "geometry", "point",
                 "linestring", "polygon", "multipoint", "multilinestring", "multipolygon", "geometrycollection")
_INTEGER_TYPES = ("tinyint", "smallint", "mediumint", "int", "integer", "bigint")


def column_expression(name: str, data_type: str) -> str:
    """A column as text that reads the same on MySQL and MariaDB (binary data as hex)."""
    column = quote_ident(name)
    data_type = data_type.lower()
    if data_type in _BINARY_TYPES:
        return f"HEX({column})"
    if data_type in ("float", "double", "real"):
        # Their text forms differ between servers: compare the value as a decimal.
        return f"CAST({column} AS DECIMAL(65,10))"
    if data_type == "json":
        return f"CAST({column} AS CHAR CHARACTER SET utf8mb4)"
    if data_type in ("char", "varchar", "tinytext", "text", "mediumtext", "longtext", "enum", "set"):
        return f"CONVERT({column} USING utf8mb4)"
    return f"CAST({column} AS CHAR)"


def row_digest_sql(columns: list[dict]) -> str:
    """SQL of one row's 60-bit digest: MD5 over every column (NULLs marked apart from '')."""
    values = ", ".join(column_expression(c["name"], c["type"]) for c in columns)
    nulls = ", ".join(f"ISNULL({quote_ident(c['name'])})" for c in columns)
    return f"CAST(CONV(LEFT(MD5(CONCAT_WS('#', {values}, CONCAT({nulls}))), 15), 16, 10) AS UNSIGNED)"


def chunk_bounds(low: int | None, high: int | None, chunk_rows: int) -> list[tuple[int | None, int | None]]:
    """Ranges of an integer key covering everything on both servers: the first is open below,
    the last open above, so that rows outside the source's range still land in a chunk."""
    if low is None or high is None or high - low < chunk_rows:
        return [(None, None)]
    starts = list(range(low, high + 1, chunk_rows))
    bounds = []
    for index, start in enumerate(starts):
        lower = None if index == 0 else start
        upper = None if index == len(starts) - 1 else starts[index + 1]
        bounds.append((lower, upper))
    return bounds


def chunk_query(schema: str, table: str, columns: list[dict], key: str | None, bounds) -> tuple[str, list]:
    """The count-and-sum query of one chunk, and its parameters."""
    where, params = [], []
    lower, upper = bounds
    if key and lower is not None:
        where.append(f"{quote_ident(key)} >= %s")
        params.append(lower)
    if key and upper is not None:
        where.append(f"{quote_ident(key)} < %s")
        params.append(upper)
    clause = f" WHERE {' AND '.join(where)}" if where else ""
    sql = f"SELECT COUNT(*), COALESCE(SUM({row_digest_sql(columns)}), 0) FROM {table_ref(schema, table)}{clause}"  # noqa: S608 (quoted identifiers)
    return sql, params


def chunk_key(table: dict) -> str | None:
    """The integer column that leads the primary key, if the table has one."""
    primary = table.get("primary_key") or []
    if not primary:
        return None
    types = {c["name"]: c["type"].lower() for c in table["columns"]}
    return primary[0] if types.get(primary[0]) in _INTEGER_TYPES else None


def compare_chunks(source: list[dict], target: list[dict]) -> list[dict]:
    """The chunks whose count or digest differ (each: bounds, source, target)."""
    mismatches = []
    for ours, theirs in zip(source, target, strict=True):
        if ours["count"] != theirs["count"] or ours["sum"] != theirs["sum"]:
            mismatches.append({"bounds": ours["bounds"], "source": {k: ours[k] for k in ("count", "sum")},
                               "target": {k: theirs[k] for k in ("count", "sum")}})
    return mismatches


# ----------------------------------------------------------------------------- changes since a verification
#
# The cutover re-checks only the chunks written since the full verification: the keys come from
# the binary logs of source and target between two positions, as mysqlbinlog prints them with
# --verbose --base64-output=DECODE-ROWS ("### UPDATE `shop`.`orders`" then "###   @1=5", @N
# being the column's ordinal position). Whatever cannot be told row by row (a statement, an
# event of a kind not known here, a row without its key) widens the re-check: to the table, or
# to every table. Nothing is narrowed on a guess.

def binlog_index(file_name: str) -> int:
    """The sequence number of a binary log file (mysql-bin.000012: 12)."""
    suffix = str(file_name).rsplit(".", 1)[-1]
    if not suffix.isdigit():
        raise ValueError(f"not a binary log file name: {file_name!r}")
    return int(suffix)


def position_reached(current: dict | None, wanted: dict) -> bool:
    """Whether binary log coordinates {file, position} are at or past the wanted ones."""
    if not current or not current.get("file"):
        return False
    return (binlog_index(current["file"]), int(current["position"])) >= (binlog_index(wanted["file"]), int(wanted["position"]))


def binlog_files_between(listed: list[str], start: str, stop: str) -> list[str]:
    """The binary log files from start to stop as the server lists them (SHOW BINARY LOGS);
    ValueError when the first is gone (purged), so that nothing is read short."""
    if start not in listed:
        raise ValueError(f"the binary log {start} is no longer on the server (purged)")
    if stop not in listed:
        raise ValueError(f"the binary log {stop} is not on the server")
    return listed[listed.index(start):listed.index(stop) + 1]


# Events that change no row of their own: the row events that follow a Table_map carry the rows.
_QUIET_EVENTS = {
    "start", "format_desc", "rotate", "stop", "gtid", "gtid_list", "binlog_checkpoint", "xid", "table_map",
    "annotate_rows", "rows_query", "previous-gtids", "anonymous_gtid", "heartbeat", "transaction_payload",
    "intvar", "rand", "user_var", "xa_prepare", "ignorable", "transaction_context", "view_change",
    "binlog",  # MariaDB's "Binlog checkpoint"
}
_ROW_EVENTS = {"write_rows", "update_rows", "delete_rows", "update_rows_partial"}
_EVENT_HEADER = re.compile(r"^#\d{6}\s+\d{1,2}:\d{2}:\d{2}\s+server id \d+\s+end_log_pos \d+(?:\s+CRC32 0x[0-9a-fA-F]+)?\s+(\S+)")
_ROW_START = re.compile(r"^### (?:INSERT INTO|UPDATE|DELETE FROM) `((?:[^`]|``)+)`\.`((?:[^`]|``)+)`\s*$")
_ROW_VALUE = re.compile(r"^###\s+@(\d+)=(.*)$")
_INTEGER_VALUE = re.compile(r"^(-?\d+)(?: \((\d+)\))?$")
_USE = re.compile(r"^use\s+`((?:[^`]|``)+)`", re.IGNORECASE)
_TRANSACTION_CONTROL = re.compile(r"^(BEGIN|COMMIT|ROLLBACK|START TRANSACTION|SAVEPOINT|RELEASE SAVEPOINT|XA )", re.IGNORECASE)


class BinlogChanges:
    """What a stretch of binary log changed in the compared databases.

    keys:   {(schema, table): {key values}} of tables chunked by an integer key;
    whole:  tables changed in a way no chunk can be told from (no key, a row without its key);
    unknown: why every table must be re-checked (a statement that may touch the databases, an
            event of a kind this reader does not know), empty when the rows say it all.
    """

    def __init__(self, databases: list[str], key_ordinals: dict[tuple[str, str], int | None]):
        self.databases = set(databases)
        self.key_ordinals = key_ordinals
        self.keys: dict[tuple[str, str], set[int]] = {}
        self.whole: set[tuple[str, str]] = set()
        self.unknown: list[str] = []
        self.events = 0
        self.rows = 0
        self._database = ""
        self._row_table: tuple[str, str] | None = None
        self._row_key_seen = True
        self._event = ""
        self._statement: list[str] = []

    # ------------------------------------------------------------------ reading
    def feed(self, text: str) -> BinlogChanges:
        for line in text.splitlines():
            self._line(line)
        self._end_event()
        return self

    def _line(self, line: str) -> None:
        header = _EVENT_HEADER.match(line)
        if header:
            self._end_event()
            # MariaDB's compressed events (log_bin_compress) and version 1 row events read alike.
            self._event = re.sub(r"_(v1|compressed)$", "", header.group(1).rstrip(":").lower())
            self.events += 1
            if self._event not in _QUIET_EVENTS and self._event not in _ROW_EVENTS and self._event != "query":
                self._note_unknown(f"a binary log event of a kind not read here ({header.group(1).rstrip(':')})")
            return
        if line.startswith("# at ") or (line.startswith("#") and not line.startswith("###")):
            return
        if line.startswith("###"):
            self._row_line(line)
        elif self._event == "query":
            self._statement.append(line)

    def _row_line(self, line: str) -> None:
        start = _ROW_START.match(line)
        if start:
            self._end_row()
            table = (start.group(1).replace("``", "`"), start.group(2).replace("``", "`"))
            self.rows += 1
            if table[0] not in self.databases:
                self._row_table = None
                return
            self._row_table, self._row_key_seen = table, False
            if table not in self.key_ordinals:
                self.whole.add(table)  # a table the verification did not know (made since)
                self._row_key_seen = True
            elif self.key_ordinals[table] is None:
                self.whole.add(table)
                self._row_key_seen = True
            return
        value = _ROW_VALUE.match(line)
        if not value or self._row_table is None or self._row_table in self.whole:
            return
        if int(value.group(1)) != self.key_ordinals.get(self._row_table):
            return
        number = _INTEGER_VALUE.match(value.group(2).strip())
        if not number:
            self.whole.add(self._row_table)  # a NULL or unreadable key: the whole table
            return
        # mysqlbinlog prints an integer both ways when it cannot tell the sign: keep both.
        found = self.keys.setdefault(self._row_table, set())
        found.update(int(group) for group in number.groups() if group is not None)
        self._row_key_seen = True

    def _end_row(self) -> None:
        if self._row_table is not None and not self._row_key_seen:
            self.whole.add(self._row_table)  # binlog_row_image=MINIMAL can leave the key out
        self._row_table, self._row_key_seen = None, True

    def _end_event(self) -> None:
        self._end_row()
        if self._event == "query" and self._statement:
            self._query(" ".join(self._statement))
        self._statement = []

    def _query(self, text: str) -> None:
        for statement in (part.strip() for part in text.split("/*!*/;")):
            use = _USE.match(statement)
            if use:
                self._database = use.group(1).replace("``", "`")
                continue
            if not statement or statement.upper().startswith(("SET ", "/*!", "DELIMITER")) or _TRANSACTION_CONTROL.match(statement):
                continue
            if self._database in self.databases or any(
                    re.search(rf"(?<![\w$]){re.escape(name)}(?![\w$])", statement, re.IGNORECASE) for name in self.databases):
                self._note_unknown(f"a statement in the binary log ({' '.join(statement.split())[:80]})")

    def _note_unknown(self, reason: str) -> None:
        if reason not in self.unknown:
            self.unknown.append(reason)


def chunk_index(bounds: list, key: int) -> int:
    """The chunk (of chunk_bounds) an integer key falls in."""
    for index, (lower, upper) in enumerate(bounds):
        if (lower is None or key >= lower) and (upper is None or key < upper):
            return index
    raise ValueError(f"key {key} falls in no chunk of {bounds}")


def chunks_to_recheck(baseline_table: dict | None, changes: BinlogChanges, table: tuple[str, str]) -> list[int] | None:
    """The chunks of a table to compare again at cutover: those that differed in the full
    verification and those written since. None: every chunk (the whole table)."""
    if baseline_table is None or baseline_table.get("recheck") == "all" or changes.unknown or table in changes.whole:
        return None
    bounds = baseline_table["bounds"]
    wanted = set(baseline_table.get("recheck") or [])
    wanted.update(chunk_index(bounds, key) for key in changes.keys.get(table, ()))
    return sorted(wanted)
