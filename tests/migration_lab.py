"""Real database servers for the migration's tests and benchmark, in podman containers of
localhost/shop-backing:12 (Debian's MariaDB 10.11, mydumper, PyMySQL):

- the source: binary log on (ROW), the general query log in a table (what the tests read to
  prove the migration never wrote to it), accounts migrator (dump and read-only switch),
  repl (REPLICATION SLAVE) and shopapp (the shop: DML and EXECUTE only), seeded with
  tools/migration/seed.py;
- the target, standing in for RDS (binary log on, as with automated backups): its master account shop_admin has RDS's master privileges
  (no SUPER, so foreign definers are refused as on RDS) and RDS's replication procedures
  (mysql.rds_set_external_master, rds_start_replication, rds_stop_replication,
  rds_reset_external_master) and its configuration procedures (rds_set_configuration,
  rds_show_configuration: 'binlog retention hours' NULL at first), written here after the RDS
  user guide; it requires TLS
  (require_secure_transport, as the stack's RDS instance can), its certificate issued for its
  address by a CA of the lab's, which the migration is given as its CA bundle (a file URL);
- the migration host, driven by Ansible through the podman connection.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from helpers import podman

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools" / "migration"))
sys.path.insert(0, str(ROOT / "tools" / "emulator"))
from seed import seed_sql  # noqa: E402
from tls import MARIADB_SETTINGS, Authority, mariadb_install  # noqa: E402

IMAGE = "localhost/shop-backing:12"
PASSWORDS = {"migrator": "Migr4tor-pw", "repl": "Repl1cate-pw", "shopapp": "Sh0p-app-pw", "shop_admin": "Rds-m4ster-pw"}

SOURCE_SETUP = f"""
CREATE USER migrator@'%' IDENTIFIED BY '{PASSWORDS['migrator']}';
GRANT SELECT, SHOW VIEW, TRIGGER, EVENT, LOCK TABLES, RELOAD, BINLOG MONITOR, PROCESS, READ_ONLY ADMIN ON *.* TO migrator@'%';
CREATE USER repl@'%' IDENTIFIED BY '{PASSWORDS['repl']}';
GRANT REPLICATION SLAVE ON *.* TO repl@'%';
CREATE USER shopapp@'%' IDENTIFIED BY '{PASSWORDS['shopapp']}';
GRANT SELECT, INSERT, UPDATE, DELETE, EXECUTE ON shop.* TO shopapp@'%';
"""

# RDS's master user privileges (RDS user guide, "Master user account privileges", MariaDB
# flavour), and its replication procedures, run as root (SQL SECURITY DEFINER) as on RDS.
TARGET_SETUP = f"""
CREATE USER shop_admin@'%' IDENTIFIED BY '{PASSWORDS['shop_admin']}';
GRANT SELECT, INSERT, UPDATE, DELETE, CREATE, DROP, RELOAD, PROCESS, REFERENCES, INDEX, ALTER, SHOW DATABASES,
  CREATE TEMPORARY TABLES, LOCK TABLES, EXECUTE, REPLICATION SLAVE, BINLOG MONITOR, SLAVE MONITOR, CREATE VIEW, SHOW VIEW,
  CREATE ROUTINE, ALTER ROUTINE, CREATE USER, EVENT, TRIGGER ON *.* TO shop_admin@'%' WITH GRANT OPTION;
DELIMITER ;;
CREATE PROCEDURE mysql.rds_set_external_master(IN host_name VARCHAR(255), IN host_port INT,
  IN replication_user_name VARCHAR(255), IN replication_user_password VARCHAR(255),
  IN mysql_binary_log_file_name VARCHAR(255), IN mysql_binary_log_file_location BIGINT, IN ssl_encryption TINYINT)
SQL SECURITY DEFINER
BEGIN
  SET @rds_cmd = CONCAT('CHANGE MASTER TO MASTER_HOST=', QUOTE(host_name), ', MASTER_PORT=', host_port,
    ', MASTER_USER=', QUOTE(replication_user_name), ', MASTER_PASSWORD=', QUOTE(replication_user_password),
    ', MASTER_LOG_FILE=', QUOTE(mysql_binary_log_file_name), ', MASTER_LOG_POS=', mysql_binary_log_file_location,
    ', MASTER_SSL=', ssl_encryption, ', MASTER_USE_GTID=no');
  PREPARE rds_stmt FROM @rds_cmd; EXECUTE rds_stmt; DEALLOCATE PREPARE rds_stmt;
  SET @rds_cmd = NULL;
END;;
CREATE TABLE mysql.rds_configuration (name VARCHAR(100) PRIMARY KEY, value VARCHAR(100) NULL, description VARCHAR(300));;
INSERT INTO mysql.rds_configuration VALUES ('binlog retention hours', NULL,
  'binlog retention hours specifies the duration in hours before binary logs are automatically deleted.');;
CREATE PROCEDURE mysql.rds_set_configuration(IN name VARCHAR(100), IN value INT) SQL SECURITY DEFINER
BEGIN
  UPDATE mysql.rds_configuration c SET c.value = value WHERE c.name = name;
END;;
CREATE PROCEDURE mysql.rds_show_configuration() SQL SECURITY DEFINER
BEGIN
  SELECT name, value, description FROM mysql.rds_configuration;
END;;
CREATE PROCEDURE mysql.rds_start_replication() SQL SECURITY DEFINER BEGIN START SLAVE; END;;
CREATE PROCEDURE mysql.rds_stop_replication() SQL SECURITY DEFINER BEGIN STOP SLAVE; END;;
CREATE PROCEDURE mysql.rds_reset_external_master() SQL SECURITY DEFINER BEGIN RESET SLAVE ALL; END;;
DELIMITER ;
GRANT EXECUTE ON PROCEDURE mysql.rds_set_external_master TO shop_admin@'%';
GRANT EXECUTE ON PROCEDURE mysql.rds_start_replication TO shop_admin@'%';
GRANT EXECUTE ON PROCEDURE mysql.rds_stop_replication TO shop_admin@'%';
GRANT EXECUTE ON PROCEDURE mysql.rds_reset_external_master TO shop_admin@'%';
GRANT EXECUTE ON PROCEDURE mysql.rds_set_configuration TO shop_admin@'%';
GRANT EXECUTE ON PROCEDURE mysql.rds_show_configuration TO shop_admin@'%';
"""

# Statements the migration's account may send to the source: reads, session settings, the
# snapshot's locks and transactions, and the read-only switch.
ALLOWED_ON_SOURCE = (
    "select", "show", "set session", "set names", "set character_set", "set sql_mode", "set sql_quote_show_create",
    "set time_zone", "set autocommit", "set @", "set option", "set wait_timeout", "set net_", "set global read_only",
    "/*m!100100 set ", "/*!40100 set", "/*!40101 set", "/*!40103 set", "/*!40014 set", "/*!", "flush tables", "flush /*!40101 local */ tables",
    "unlock tables", "start transaction", "begin", "commit", "rollback", "savepoint", "release savepoint", "use ",
    "lock tables", "set transaction", "set @@", "set session transaction", "checksum", "explain",
)


@dataclass
class Lab:
    prefix: str
    containers: dict[str, str] = field(default_factory=dict)
    addresses: dict[str, str] = field(default_factory=dict)
    ca_file: Path | None = None  # the target's CA certificate, on the control node

    # ------------------------------------------------------------------ containers
    def start(self, orders: int) -> None:
        for role in ("source", "target", "host"):
            name = f"{self.prefix}-{role}"
            podman("rm", "-f", name)
            podman("run", "-d", "--name", name, "--systemd=always", "--memory", "2g", "--label", "shop.test=migration",
                   IMAGE, check=True)
            self.containers[role] = name
        for role, name in self.containers.items():
            self.addresses[role] = podman("inspect", "-f", "{{.NetworkSettings.IPAddress}}", name, check=True).stdout.strip()
            self._wait_ready(name)
        # Buffer pools of 1 GiB, half the container's memory: RDS gives InnoDB 3/4 of the
        # instance's ({DBInstanceClassMemory*3/4}, RDS's default parameter group); MariaDB's own
        # default of 128 MiB made a 4 M-order load thrash (measured: benchmarks/migrate_db.py).
        self.configure("source", "server_id=1\nlog_bin=mysql-bin\nbinlog_format=ROW\ngeneral_log=1\nlog_output=TABLE\n"
                                 "innodb_flush_log_at_trx_commit=2\ninnodb_buffer_pool_size=1G\n")
        self._serve_tls("target")
        # A binary log with the replica's updates in it, as RDS keeps one once automated backups are
        # on (RDS user guide, "Configuring RDS for MySQL binary logging"): the cutover reads it for
        # writes made on the target itself. ROW here; RDS's default MIXED logs a statement run on the
        # target as a statement, which widens the cutover's re-check (unit tested). The stack's
        # parameter group sets log_bin_trust_function_creators (roles/database/defaults/main.yml):
        # without it the master user (no SUPER) cannot create a trigger with the binary log on.
        self.configure("target", f"server_id=2\ninnodb_flush_log_at_trx_commit=2\ninnodb_buffer_pool_size=1G\n"
                                 f"log_bin=mysql-bin\nlog_slave_updates=ON\n"
                                 f"binlog_format=ROW\nlog_bin_trust_function_creators=ON\n{MARIADB_SETTINGS}require_secure_transport=ON\n")
        self.sql("source", SOURCE_SETUP)
        self.sql("target", TARGET_SETUP)
        self.sql("source", seed_sql(orders))
        # The seed is not the migration's: only what comes after it is audited.
        self.sql("source", "SET GLOBAL general_log = OFF; TRUNCATE mysql.general_log; SET GLOBAL general_log = ON;")

    def _serve_tls(self, role: str) -> None:
        """A certificate for the server's address from the lab's CA, and the CA's certificate where
        the control node reads it (ca_bundle_url)."""
        authority = Authority()
        for file_name, content in authority.mariadb_files(self.addresses[role]).items():
            podman("exec", "-i", self.containers[role], "sh", "-c", mariadb_install(file_name), stdin=content, check=True)
        self.ca_file = Path(f"/tmp/{self.prefix}-{role}-ca.pem")
        self.ca_file.write_text(authority.ca_pem())

    @property
    def ca_bundle_url(self) -> str:
        return self.ca_file.as_uri()

    def _wait_ready(self, name: str) -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if podman("exec", name, "mariadb", "-e", "SELECT 1").returncode == 0:
                return
            time.sleep(0.5)
        raise RuntimeError(f"MariaDB in {name} did not start")

    def configure(self, role: str, settings: str) -> None:
        name = self.containers[role]
        podman("exec", name, "sh", "-c", f"printf '[mysqld]\\n{settings}' > /etc/mysql/mariadb.conf.d/95-lab.cnf "
                                         "&& systemctl disable --now redis-server && systemctl restart mariadb", check=True)
        self._wait_ready(name)

    def stop(self) -> None:
        for name in self.containers.values():
            podman("rm", "-f", "-t", "2", name)

    # ------------------------------------------------------------------ SQL
    def sql(self, role: str, statements: str, user: str | None = None, database: str = "") -> list[list[str]]:
        """Run SQL in a server's container (as root, or as one of the lab's accounts), rows back."""
        command = ["exec", "-i", self.containers[role], "mariadb", "--batch", "--skip-column-names"]
        if user:
            command += [f"-u{user}", f"-p{PASSWORDS[user]}", "-h127.0.0.1"]
        if database:
            command.append(database)
        result = podman(*command, stdin=statements)
        if result.returncode != 0:
            raise RuntimeError(f"SQL on the {role} failed: {result.stderr.strip()}")
        return [line.split("\t") for line in result.stdout.splitlines()]

    def value(self, role: str, query: str):
        rows = self.sql(role, query)
        return rows[0][0] if rows else None

    def counts(self, role: str) -> dict[str, int]:
        tables = [row[0] for row in self.sql(role, "SELECT TABLE_NAME FROM information_schema.TABLES "
                                                   "WHERE TABLE_SCHEMA = 'shop' AND TABLE_TYPE = 'BASE TABLE' ORDER BY 1")]
        return {table: int(self.value(role, f"SELECT COUNT(*) FROM shop.`{table}`")) for table in tables}

    def duplicates(self, role: str) -> int:
        """Rows of the keyless stock_movements that appear more than once."""
        return int(self.value(role, "SELECT COALESCE(SUM(n - 1), 0) FROM (SELECT COUNT(*) AS n FROM shop.stock_movements "
                                    "GROUP BY product_id, delta, reason, at HAVING n > 1) d"))

    def source_writes_by_migration(self) -> list[str]:
        """Statements the migration's account sent to the source that are not reads (the audit)."""
        statements = self.sql("source", "SELECT REPLACE(REPLACE(CONVERT(argument USING utf8mb4), '\\n', ' '), '\\t', ' ') "
                                        "FROM mysql.general_log WHERE user_host LIKE 'migrator[%' AND command_type = 'Query'")
        bad = []
        for (statement,) in statements:
            text = " ".join(statement.split()).lower()
            global_setting = "global" in text and not text.startswith(("set global read_only", "select @@global.", "show global"))
            if not text.startswith(ALLOWED_ON_SOURCE) or global_setting:
                bad.append(statement)
        return bad

    def reset_target(self) -> None:
        self.sql("target", "STOP SLAVE; RESET SLAVE ALL; DROP DATABASE IF EXISTS shop; DROP DATABASE IF EXISTS legacy;")
        podman("exec", self.containers["host"], "rm", "-rf", "/var/tmp/shop-migrate")

    # ------------------------------------------------------------------ Ansible
    def inventory(self, directory: Path) -> Path:
        path = directory / "migration-hosts.yml"
        path.write_text(
            "migration:\n  hosts:\n"
            f"    {self.containers['host']}:\n"
            "      ansible_connection: containers.podman.podman\n"
            "      ansible_python_interpreter: /usr/bin/python3\n"
            # Root's home spelt out: one podman exec less a task (inventories/local/group_vars/aws_ec2.yml).
            "      ansible_remote_tmp: /root/.ansible/tmp\n")
        return path

    def variables(self, **overrides) -> dict:
        return {
            "migrate_db_source": {"host": self.addresses["source"], "user": "migrator", "password": PASSWORDS["migrator"]},
            "migrate_db_replication": {"user": "repl", "password": PASSWORDS["repl"]},
            "migrate_db_install_packages": False,
            "migrate_db_target_ca_bundle_url": self.ca_bundle_url,
            "migrate_db_progress_interval": 5,
            **overrides,
        }

    def target_secret(self) -> dict:
        return {"engine": "mysql", "username": "shop_admin", "password": PASSWORDS["shop_admin"],
                "host": self.addresses["target"], "port": 3306, "dbname": "shop"}


class Shop:
    """The shop writing to the source while the migration runs: place_order calls as shopapp,
    in a loop inside the source's container; every success and refusal is logged with its time."""

    def __init__(self, lab: Lab, log: str = "/tmp/shop-writes.log"):
        self.lab, self.log = lab, log
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        loop = (f"rm -f {self.log}; i=0; while [ ! -e /tmp/shop-stop ]; do i=$((i+1)); "
                f"if mariadb -ushopapp -p{PASSWORDS['shopapp']} -h127.0.0.1 shop "
                f"-e \"CALL place_order(1 + $i % 50, 1 + $i % 20, 1)\" 2>/dev/null; "
                f"then echo \"ok $(date +%s.%N)\" >> {self.log}; else echo \"refused $(date +%s.%N)\" >> {self.log}; fi; "
                "sleep 0.05; done")
        podman("exec", self.lab.containers["source"], "rm", "-f", "/tmp/shop-stop")
        env = dict(os.environ, CONTAINERS_CONF=str(ROOT / "tools/podman/containers.conf"))
        self.process = subprocess.Popen(["podman", "exec", self.lab.containers["source"], "bash", "-c", loop], env=env,
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def stop(self) -> dict:
        podman("exec", self.lab.containers["source"], "touch", "/tmp/shop-stop")
        if self.process:
            self.process.wait(timeout=30)
        lines = podman("exec", self.lab.containers["source"], "cat", self.log).stdout.split()
        events = list(zip(lines[::2], map(float, lines[1::2]), strict=True))
        return {"ok": sum(1 for kind, _ in events if kind == "ok"),
                "refused": sum(1 for kind, _ in events if kind == "refused"), "events": events}
