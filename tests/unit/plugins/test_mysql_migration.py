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


# Written as MariaDB 10.11's mysqlbinlog --verbose --base64-output=DECODE-ROWS printed the lab's
# source: the shop's place_order (a trigger's rows among them), an update, a delete from the
# keyless table, and a statement on another database.
MARIADB_BINLOG = """\
/*!50530 SET @@SESSION.PSEUDO_SLAVE_MODE=1*/;
DELIMITER /*!*/;
# at 299272
#261203 21:34:48 server id 1  end_log_pos 0 CRC32 0x28d33ad9 \tStart: binlog v 4, server v 10.11.18-MariaDB-0+deb12u1-log created 261203
# at 299272
#261203 21:34:54 server id 1  end_log_pos 299314 CRC32 0x3ba8c241 \tGTID 0-1-24 trans
/*M!100001 SET @@session.gtid_seq_no=24*//*!*/;
START TRANSACTION
/*!*/;
# at 299314
# at 299461
#261203 21:34:54 server id 1  end_log_pos 299461 CRC32 0x7302680d \tAnnotate_rows:
#Q> INSERT INTO orders (customer_id, status, note) VALUES ( NAME_CONST('p_customer',1), 'new', 'x')
#261203 21:34:54 server id 1  end_log_pos 299522 CRC32 0x52ae271c \tTable_map: `shop`.`orders` mapped to number 26
# at 299522
#261203 21:34:54 server id 1  end_log_pos 299617 CRC32 0x6041e138 \tWrite_rows: table id 26 flags: STMT_END_F
### INSERT INTO `shop`.`orders`
### SET
###   @1=2001
###   @2=1
###   @5='Bestellung'
# Number of rows: 1
# at 299617
#261203 21:34:54 server id 1  end_log_pos 299648 CRC32 0xe1751dbc \tXid = 49
COMMIT/*!*/;
#261203 21:34:54 server id 1  end_log_pos 299973 CRC32 0x7bfe927d \tTable_map: `shop`.`order_items` mapped to number 33 (has triggers)
#261203 21:34:54 server id 1  end_log_pos 300160 CRC32 0x1f8bdb01 \tWrite_rows: table id 33
#261203 21:34:54 server id 1  end_log_pos 300548 CRC32 0x5bbdfbc0 \tUpdate_rows: table id 24
#261203 21:34:54 server id 1  end_log_pos 300609 CRC32 0x66b913bc \tWrite_rows: table id 30 flags: STMT_END_F
### INSERT INTO `shop`.`order_items`
### SET
###   @1=2001
###   @2=1
### UPDATE `shop`.`products`
### WHERE
###   @1=2
###   @6=1000000
### SET
###   @1=2
###   @6=999999
### INSERT INTO `shop`.`stock_movements`
### SET
###   @1=2
###   @2=-1 (4294967295)
### UPDATE `shop`.`orders`
### WHERE
###   @1=5
###   @5=NULL
### SET
###   @1=5
###   @5='x'
#261203 21:35:19 server id 1  end_log_pos 605 CRC32 0x3371b407 \tQuery\tthread_id=7\texec_time=0\terror_code=0\txid=10
SET TIMESTAMP=1796333719/*!*/;
use `mysql`/*!*/;
INSERT INTO mysql.rds_heartbeat2 (id, value) VALUES (1, 1796333719) ON DUPLICATE KEY UPDATE value = 1796333719
/*!*/;
#261203 21:35:19 server id 1  end_log_pos 647 CRC32 0x34da7b5d \tGtid list [0-1-28]
#261203 21:35:19 server id 1  end_log_pos 700 CRC32 0x34da7b5e \tBinlog checkpoint mysql-bin.000001
DELIMITER ;
# End of log file
ROLLBACK /* added by mysqlbinlog */;
"""

ORDINALS = {("shop", "orders"): 1, ("shop", "order_items"): 1, ("shop", "products"): 1, ("shop", "customers"): 1,
            ("shop", "stock_movements"): None}


def test_binlog_rows_give_the_changed_keys_of_each_table():
    changes = mm.BinlogChanges(["shop"], ORDINALS).feed(MARIADB_BINLOG)
    assert changes.keys == {("shop", "orders"): {2001, 5}, ("shop", "order_items"): {2001}, ("shop", "products"): {2}}
    # The keyless table is compared whole; a statement on another database changes nothing here.
    assert changes.whole == {("shop", "stock_movements")}
    assert changes.unknown == []
    assert changes.rows == 5


def test_what_the_rows_cannot_tell_widens_the_recheck():
    statement = ("#261203 21:35:19 server id 2  end_log_pos 605 CRC32 0x3371b407 \tQuery\tthread_id=7\texec_time=0\n"
                 "SET TIMESTAMP=1796333719/*!*/;\nuse `shop`/*!*/;\nUPDATE customers SET city = 'x' WHERE id = 3\n/*!*/;\n")
    changes = mm.BinlogChanges(["shop"], ORDINALS).feed(statement)
    assert changes.unknown == ["a statement in the binary log (UPDATE customers SET city = 'x' WHERE id = 3)"]
    qualified = statement.replace("use `shop`", "use `mysql`").replace("UPDATE customers", "UPDATE shop.customers")
    assert mm.BinlogChanges(["shop"], ORDINALS).feed(qualified).unknown
    begin = statement.replace("UPDATE customers SET city = 'x' WHERE id = 3", "BEGIN")
    assert mm.BinlogChanges(["shop"], ORDINALS).feed(begin).unknown == []
    odd = "#261203 21:35:19 server id 2  end_log_pos 605 CRC32 0x3371b407 \tIncident: lost events\n"
    assert mm.BinlogChanges(["shop"], ORDINALS).feed(odd).unknown == ["a binary log event of a kind not read here (Incident)"]
    # binlog_row_image=MINIMAL can log a row without its key; a table made since the verification.
    minimal = ("#261203 21:34:54 server id 1  end_log_pos 1 CRC32 0x1 \tUpdate_rows: table id 26 flags: STMT_END_F\n"
               "### UPDATE `shop`.`orders`\n### WHERE\n###   @2=7\n### SET\n###   @3=8\n"
               "### INSERT INTO `shop`.`coupons`\n### SET\n###   @1=1\n")
    changes = mm.BinlogChanges(["shop"], ORDINALS).feed(minimal)
    assert changes.whole == {("shop", "orders"), ("shop", "coupons")} and changes.unknown == []


def test_mysql8_binlog_event_names_are_read():
    mysql8 = ("#261203 21:34:54 server id 1  end_log_pos 125 CRC32 0x1 \tPrevious-GTIDs\n"
              "#261203 21:34:54 server id 1  end_log_pos 200 CRC32 0x1 \tAnonymous_GTID\tlast_committed=0\n"
              "#261203 21:34:54 server id 1  end_log_pos 270 CRC32 0x1 \tQuery\tthread_id=9\nBEGIN\n/*!*/;\n"
              "#261203 21:34:54 server id 1  end_log_pos 300 CRC32 0x1 \tRows_query\n# UPDATE orders SET note = 'y'\n"
              "#261203 21:34:54 server id 1  end_log_pos 330 CRC32 0x1 \tTable_map: `shop`.`orders` mapped to number 90\n"
              "#261203 21:34:54 server id 1  end_log_pos 400 CRC32 0x1 \tUpdate_rows: table id 90 flags: STMT_END_F\n"
              "### UPDATE `shop`.`orders`\n### WHERE\n###   @1=42\n### SET\n###   @1=43\n"
              "#261203 21:34:54 server id 1  end_log_pos 431 CRC32 0x1 \tXid = 12\nCOMMIT/*!*/;\n")
    changes = mm.BinlogChanges(["shop"], ORDINALS).feed(mysql8)
    assert changes.keys == {("shop", "orders"): {42, 43}} and changes.unknown == [] and changes.whole == set()


def test_chunks_to_recheck_are_those_written_since_and_those_that_differed():
    bounds = mm.chunk_bounds(1, 4000, 1000)
    baseline = {"key": "id", "ordinal": 1, "bounds": bounds, "recheck": [1]}
    changes = mm.BinlogChanges(["shop"], ORDINALS)
    changes.keys[("shop", "orders")] = {3, 3999, 250000}  # 250000: past the last bound, in the open last chunk
    assert mm.chunks_to_recheck(baseline, changes, ("shop", "orders")) == [0, 1, 3]
    assert mm.chunks_to_recheck(baseline, changes, ("shop", "customers")) == [1]
    assert mm.chunks_to_recheck({"recheck": "all"}, changes, ("shop", "orders")) is None
    assert mm.chunks_to_recheck(None, changes, ("shop", "orders")) is None
    changes.unknown.append("a statement")
    assert mm.chunks_to_recheck(baseline, changes, ("shop", "orders")) is None


def test_binlog_positions_and_files():
    assert mm.position_reached({"file": "mysql-bin.000012", "position": 4}, {"file": "mysql-bin.000011", "position": 900})
    assert not mm.position_reached({"file": "mysql-bin.000011", "position": 899}, {"file": "mysql-bin.000011", "position": 900})
    assert not mm.position_reached(None, {"file": "mysql-bin.000011", "position": 900})
    listed = ["mysql-bin-changelog.000007", "mysql-bin-changelog.000008", "mysql-bin-changelog.000009"]
    assert mm.binlog_files_between(listed, "mysql-bin-changelog.000008", "mysql-bin-changelog.000009") == listed[1:]
    with pytest.raises(ValueError, match="the binary log mysql-bin-changelog.000001 is no longer on the server"):
        mm.binlog_files_between(listed, "mysql-bin-changelog.000001", "mysql-bin-changelog.000009")


def test_a_target_logging_binary_logs_must_trust_function_creators():
    """RDS with automated backups logs binary logs; its master user has no SUPER: without
    log_bin_trust_function_creators the shop's trigger cannot be made (seen on the lab's target)."""
    objects = [{"type": "TRIGGER", "schema": "shop", "name": "order_items_stock", "definer": "shop_admin@%"}]
    variables = {"server_id": "2", "log_bin": "ON", "log_bin_trust_function_creators": "OFF"}
    findings = mm.preflight_findings(server(objects=objects), target(variables=variables),
                                     {"mode": "dump", "databases": ["shop"], "definers": "rewrite", "target_free_bytes": 2**40})
    blocker = [f for f in findings if f["code"] == "function_creators"]
    assert blocker and blocker[0]["level"] == "blocker"
    assert blocker[0]["message"].startswith("the target logs binary logs and log_bin_trust_function_creators is OFF: "
                                            "shop_admin@% (no SUPER) cannot create trigger shop.order_items_stock; set it to 1")
    trusted = dict(variables, log_bin_trust_function_creators="ON")
    assert not [f for f in mm.preflight_findings(server(objects=objects), target(variables=trusted),
                                                 {"mode": "dump", "databases": ["shop"], "definers": "rewrite",
                                                  "target_free_bytes": 2**40}) if f["code"] == "function_creators"]
