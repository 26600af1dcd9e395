"""The migration's pure rules (plugins/module_utils/mysql_migration.py)."""

import io

import pytest
from conftest import load

mm = load("plugins/module_utils/mysql_migration.py")


def server(**overrides):
    facts = {
        "version": "10.11.18-MariaDB-0+deb12u1-log", "user": "migrator@%", "schemas": ["shop"],
        "variables": {"server_id": "1", "log_bin": "ON", "binlog_format": "ROW", "expire_logs_days": "10"},
        "grants": ["GRANT SELECT, RELOAD, PROCESS, LOCK TABLES, BINLOG MONITOR, SHOW VIEW, EVENT, TRIGGER, "
                   "READ_ONLY ADMIN ON *.* TO `migrator`@`%` IDENTIFIED BY PASSWORD '*X'"],
        "tables": [{"schema": "shop", "name": "orders", "type": "BASE TABLE", "engine": "InnoDB", "primary_key": ["id"],
                    "data_length": 10 * 2**20, "index_length": 2**20}],
        "objects": [], "charsets": ["utf8mb4"], "collations_used": ["utf8mb4_unicode_ci"],
        "collations": ["utf8mb4_unicode_ci", "utf8mb4_general_ci"], "rds_procedures": [],
    }
    facts.update(overrides)
    return facts


def target(**overrides):
    facts = server(user="shop_admin@%", variables={"server_id": "2"}, tables=[], schemas=[],
                   grants=["GRANT SELECT, INSERT, CREATE, DROP, EXECUTE, TRIGGER ON *.* TO `shop_admin`@`%`"],
                   rds_procedures=["rds_set_external_master", "rds_start_replication"])
    facts.update(overrides)
    return facts


OPTIONS = {"mode": "dump", "databases": ["shop"], "definers": "refuse", "target_free_bytes": 20 * 2**30}


def codes(findings, level="blocker"):
    return {f["code"] for f in findings if f["level"] == level}


def test_a_clean_dump_has_no_blocker():
    assert codes(mm.preflight_findings(server(), target(), OPTIONS)) == set()


def test_non_innodb_tables_block_unless_allowed():
    tables = server()["tables"] + [{"schema": "shop", "name": "visits", "type": "BASE TABLE", "engine": "MyISAM",
                                    "primary_key": ["id"], "data_length": 0, "index_length": 0}]
    findings = mm.preflight_findings(server(tables=tables), target(), OPTIONS)
    assert "non_innodb" in codes(findings) and "shop.visits (MyISAM)" in findings[0]["message"]
    allowed = mm.preflight_findings(server(tables=tables), target(), dict(OPTIONS, allow_non_innodb=True))
    assert "non_innodb" in codes(allowed, "warning") and "non_innodb" not in codes(allowed)


def test_foreign_definers_block_without_super_and_pass_when_rewritten():
    objects = [{"type": "TRIGGER", "schema": "shop", "name": "stock", "definer": "root@localhost"}]
    assert "definers" in codes(mm.preflight_findings(server(objects=objects), target(), OPTIONS))
    assert "definers" in codes(mm.preflight_findings(server(objects=objects), target(), dict(OPTIONS, definers="rewrite")), "warning")
    with_super = target(grants=["GRANT ALL PRIVILEGES ON *.* TO `root`@`%`"])
    assert "definers" not in codes(mm.preflight_findings(server(objects=objects), with_super, OPTIONS))


def test_missing_source_privileges_are_named():
    findings = mm.preflight_findings(server(grants=["GRANT SELECT ON *.* TO `m`@`%`"]), target(), dict(OPTIONS, cutover=True))
    [blocker] = [f for f in findings if f["code"] == "source_privileges"]
    for privilege in ("RELOAD", "LOCK TABLES", "REPLICATION CLIENT", "READ_ONLY ADMIN"):
        assert privilege in blocker["message"]


def test_storage_version_collation_and_foreign_tables():
    small = mm.preflight_findings(server(), target(), dict(OPTIONS, target_free_bytes=5 * 2**20))
    assert "target_storage" in codes(small)
    unknown = mm.preflight_findings(server(), target(), dict(OPTIONS, target_free_bytes=None))
    assert "target_storage" in codes(unknown, "warning")
    older = mm.preflight_findings(server(), target(version="10.6.1-MariaDB"), OPTIONS)
    assert "version_downgrade" in codes(older)
    assert "collations" in codes(mm.preflight_findings(server(), target(collations=["utf8mb4_general_ci"]), OPTIONS))
    occupied = target(tables=[{"schema": "shop", "name": "orders", "type": "BASE TABLE"}])
    assert "target_not_empty" in codes(mm.preflight_findings(server(), occupied, OPTIONS))
    assert "target_not_empty" not in codes(mm.preflight_findings(server(), occupied, dict(OPTIONS, resuming=True)))


def test_replication_rules():
    options = dict(OPTIONS, mode="replication", replication={"user": "repl", "grants": ["GRANT REPLICATION SLAVE ON *.* TO `repl`@`%`"]})
    assert codes(mm.preflight_findings(server(), target(), options)) == set()
    off = server(variables={"server_id": "1", "log_bin": "OFF", "binlog_format": "STATEMENT", "expire_logs_days": "0.1"})
    findings = mm.preflight_findings(off, target(), options)
    assert {"binlog_off", "binlog_format"} <= codes(findings) and "binlog_retention" in codes(findings, "warning")
    assert "server_id" in codes(mm.preflight_findings(server(), target(variables={"server_id": "1"}), options))
    no_grant = dict(options, replication={"user": "repl", "grants": ["GRANT USAGE ON *.* TO `repl`@`%`"]})
    assert "replication_account" in codes(mm.preflight_findings(server(), target(), no_grant))
    mysql_target = target(version="8.4.3", collations=["utf8mb4_unicode_ci"])
    assert "replication_versions" in codes(mm.preflight_findings(server(), mysql_target, options))


@pytest.mark.parametrize(("source", "target", "supported"), [
    ("5.7.44", "8.0.36", True), ("8.0.36", "8.4.3", True), ("5.7.44", "8.4.3", False), ("8.4.3", "8.0.36", False),
    ("10.11.6-MariaDB", "8.4.3", False), ("10.6.1-MariaDB", "10.11.6-MariaDB", True),
])
def test_replication_between_versions(source, target, supported):
    assert (mm.replication_supported(mm.parse_version(source), mm.parse_version(target)) is None) is supported


def test_read_only_bypass_is_reported_for_a_cutover():
    objects = [{"type": "PROCEDURE", "schema": "shop", "name": "pay", "definer": "root@localhost", "security": "DEFINER",
                "data_access": "MODIFIES SQL DATA"},
               {"type": "FUNCTION", "schema": "shop", "name": "total", "definer": "root@localhost", "security": "DEFINER",
                "data_access": "READS SQL DATA"}]
    findings = mm.preflight_findings(server(objects=objects), target(), dict(OPTIONS, cutover=True, definers="rewrite"))
    [bypass] = [f for f in findings if f["code"] == "read_only_bypass"]
    assert "procedure shop.pay" in bypass["message"] and "total" not in bypass["message"]


def test_global_privileges_reads_show_grants():
    grants = ["GRANT SELECT, SHOW VIEW ON *.* TO `a`@`%`", "GRANT ALL PRIVILEGES ON `shop`.* TO `a`@`%`",
              "GRANT UPDATE (`name`) ON `shop`.`t` TO `a`@`%`"]
    assert mm.global_privileges(grants) == {"SELECT", "SHOW VIEW"}
    assert mm.has_any(mm.global_privileges(["GRANT ALL PRIVILEGES ON *.* TO `r`@`%` WITH GRANT OPTION"]), ("SUPER",))


@pytest.mark.parametrize(("text", "expected"), [
    ("-- CHANGE MASTER TO MASTER_LOG_FILE='mysql-bin.000003', MASTER_LOG_POS=1234;", ("mysql-bin.000003", 1234)),
    ("-- CHANGE REPLICATION SOURCE TO SOURCE_LOG_FILE='binlog.000002', SOURCE_LOG_POS=157;", ("binlog.000002", 157)),
    ("Started dump at: x\nSHOW MASTER STATUS:\n\tLog: mysql-bin.000001\n\tPos: 2575\n\tGTID:0-1-12\n", ("mysql-bin.000001", 2575)),
    ("-- no position here", None),
])
def test_snapshot_position(text, expected):
    position = mm.snapshot_position(text)
    assert (position and (position["file"], position["position"])) == expected or position == expected


def test_rewrite_definers():
    text = ("/*!50017 DEFINER=`root`@`localhost`*/ /*!50003 TRIGGER t */;\n"
            "CREATE DEFINER='app'@'10.%' PROCEDURE p() SELECT 1;\n"
            "CREATE ALGORITHM=UNDEFINED DEFINER=`we``ird`@`%` SQL SECURITY DEFINER VIEW v AS SELECT 1;")
    rewritten, count = mm.rewrite_definers(text)
    assert count == 3 and rewritten.count("DEFINER=CURRENT_USER") == 3 and "root" not in rewritten
    assert "SQL SECURITY DEFINER" in rewritten


DUMP = """-- MariaDB dump 10.19
/*!40101 SET NAMES utf8mb4 */;
/*!40014 SET @OLD_FOREIGN_KEY_CHECKS=@@FOREIGN_KEY_CHECKS, FOREIGN_KEY_CHECKS=0 */;
--
-- Position to start replication or point-in-time recovery from
--
-- CHANGE MASTER TO MASTER_LOG_FILE='mysql-bin.000001', MASTER_LOG_POS=42;

--
-- Current Database: `shop`
--

CREATE DATABASE /*!32312 IF NOT EXISTS*/ `shop`;
USE `shop`;

--
-- Table structure for table `items`
--

DROP TABLE IF EXISTS `items`;
CREATE TABLE `items` (`id` int NOT NULL, PRIMARY KEY (`id`));

--
-- Dumping data for table `items`
--

LOCK TABLES `items` WRITE;
INSERT INTO `items` VALUES (1),(2);
UNLOCK TABLES;
DELIMITER ;;
/*!50003 CREATE*/ /*!50017 DEFINER=`root`@`localhost`*/ /*!50003 TRIGGER t AFTER INSERT ON items FOR EACH ROW BEGIN
  SET @x = 1;
END */;;
DELIMITER ;

--
-- Temporary table structure for view `v`
--

DROP TABLE IF EXISTS `v`;
CREATE TABLE `v` (`id` tinyint NOT NULL);

--
-- Table structure for table `odd``name`
--

CREATE TABLE `odd``name` (`a` int);

--
-- Dumping routines for database 'shop'
--

CREATE PROCEDURE p() SELECT 1;

--
-- Final view structure for view `v`
--

CREATE VIEW v AS SELECT id FROM items;
-- Dump completed on 2026-11-25
"""


def split(text):
    files = {}

    class Unit(io.StringIO):
        def __init__(self, key):
            super().__init__()
            self.key = key

        def close(self):
            files[self.key] = self.getvalue()
            super().close()

    splitter = mm.DumpSplitter(Unit)
    for line in io.StringIO(text):
        splitter.feed(line)
    return mm.unit_order(splitter.close()), files


def test_mysqldump_is_cut_into_units_that_reload_alone():
    order, files = split(DUMP)
    assert order == ["schema:shop", "table:shop.items", "table:shop.odd`name", "post:shop"]
    schema, items, post = files["schema:shop"], files["table:shop.items"], files["post:shop"]
    assert "CREATE DATABASE" in schema and "CREATE TABLE `v`" in schema and not schema.count("USE `shop`;\n") > 1
    # Each unit starts with the dump's session settings and its database.
    assert items.startswith("-- MariaDB dump") and "FOREIGN_KEY_CHECKS=0" in items and "USE `shop`;" in items
    assert "DROP TABLE IF EXISTS `items`" in items and "INSERT INTO `items`" in items and "TRIGGER" not in items
    # Triggers, routines and views only once every row is in.
    assert "TRIGGER t AFTER INSERT" in post and "CREATE PROCEDURE p()" in post and "CREATE VIEW v" in post
    assert "CREATE TABLE `odd``name`" in files["table:shop.odd`name"]


def test_an_incomplete_dump_is_refused():
    with pytest.raises(ValueError, match="incomplete"):
        split(DUMP.replace("-- Dump completed on 2026-11-25\n", ""))


def test_chunk_bounds_cover_every_key_on_both_sides():
    assert mm.chunk_bounds(None, None, 10) == [(None, None)]
    assert mm.chunk_bounds(1, 5, 10) == [(None, None)]
    assert mm.chunk_bounds(1, 25, 10) == [(None, 11), (11, 21), (21, None)]


def test_chunk_query_and_key():
    table = {"schema": "shop", "name": "order_items", "primary_key": ["order_id", "line"],
             "columns": [{"name": "order_id", "type": "bigint"}, {"name": "line", "type": "smallint"},
                         {"name": "note", "type": "varchar"}, {"name": "blob", "type": "varbinary"},
                         {"name": "weight", "type": "double"}]}
    assert mm.chunk_key(table) == "order_id"
    sql, params = mm.chunk_query("shop", "order_items", table["columns"], "order_id", (11, 21))
    assert params == [11, 21] and "`order_id` >= %s AND `order_id` < %s" in sql
    assert "HEX(`blob`)" in sql and "CONVERT(`note` USING utf8mb4)" in sql and "ISNULL(`weight`)" in sql
    assert mm.chunk_key({"primary_key": ["sku"], "columns": [{"name": "sku", "type": "varchar"}]}) is None


def test_compare_chunks():
    source = [{"bounds": [None, 5], "count": 4, "sum": "10"}, {"bounds": [5, None], "count": 2, "sum": "7"}]
    target = [{"bounds": [None, 5], "count": 4, "sum": "10"}, {"bounds": [5, None], "count": 2, "sum": "8"}]
    assert mm.compare_chunks(source, target) == [{"bounds": [5, None], "source": {"count": 2, "sum": "7"},
                                                  "target": {"count": 2, "sum": "8"}}]
