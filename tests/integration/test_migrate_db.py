"""playbooks/migrate_db.yml against real servers (tests/migration_lab.py): a MariaDB source
seeded with the shop's schema, a MariaDB target standing in for RDS (its master account has
no SUPER; RDS's replication procedures), a migration host; the target's credentials and the
application's setting in the emulator, where the database role keeps them.

The tests run in order and share the servers: each starts from an empty target. The last one
reads the source's general query log: the migration's account never wrote to the source but
for the read-only switch.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import time

import pytest
from helpers import ROOT, VENV_BIN, podman, run_playbook
from migration_lab import PASSWORDS, Lab, Shop

STACK = "shop-local"
PARAMETER = f"/{STACK}/app/db-secret-name"
LEGACY = f"{STACK}/legacy-db"


@pytest.fixture(scope="module")
def lab():
    lab = Lab(prefix=f"migtest-{os.getpid()}")
    try:
        lab.start(orders=20000)
        yield lab
    finally:
        lab.stop()


@pytest.fixture(scope="module")
def aws(emulator, lab):
    """The stack's side: the RDS secret the database role keeps, the setting the web stack reads."""
    emulator.reset()
    emulator.client("secretsmanager").create_secret(Name=f"{STACK}/db", SecretString=json.dumps(lab.target_secret()))
    return emulator


@pytest.fixture
def migrate(aws, lab, tmp_path):
    """Run migrate_db.yml from an empty target; the application's setting on the old database."""
    lab.reset_target()
    aws.client("ssm").put_parameter(Name=PARAMETER, Value=LEGACY, Type="String", Overwrite=True)
    inventory = lab.inventory(tmp_path)

    def run(*args, **variables):
        extra = lab.variables(migrate_db_report_dir=str(tmp_path / "reports"), **variables)
        return run_playbook(aws, "playbooks/migrate_db.yml", "-i", str(inventory), *args, extra=extra, timeout=600)

    run.reports = tmp_path / "reports"
    return run


def parameter(aws) -> str:
    return aws.client("ssm").get_parameter(Name=PARAMETER)["Parameter"]["Value"]


def report(run) -> dict:
    [path] = sorted(run.reports.glob("*/report.json"))[-1:]
    return json.loads(path.read_text())


GOOD = {"migrate_db_host": "localhost", "migrate_db_source": {"host": "db1.internal", "user": "migrator", "password": "x"}}


@pytest.mark.parametrize(("variables", "message"), [
    ({"migrate_db_source": {"host": "db1.internal", "user": "migrator"}},
     "migrate_db_source must give host, user, password (the password from ansible-vault), or migrate_db_source_secret_name"),
    ({"migrate_db_mode": "replicate"}, "value of migrate_db_mode must be one of: dump, replication, got: replicate"),
    ({"migrate_db_mode": "replication"}, "migrate_db_replication must give user and password"),
    ({"migrate_db_databases": ["shop", "mysql"]}, "migrate_db_databases must be a non-empty list of database names"),
    ({"migrate_db_threads": 0, "migrate_db_checksum_chunk_rows": 10},
     "migrate_db_threads must be 1-64 (got 0)"),
    ({"migrate_db_threads": 0, "migrate_db_checksum_chunk_rows": 10},
     "migrate_db_checksum_chunk_rows must be at least 1000 (got 10)"),
    ({"migrate_db_target_ca_bundle_url": "truststore.pki.rds.amazonaws.com/global/global-bundle.pem"},
     "migrate_db_target_ca_bundle_url must be an http, https or file URL of a PEM CA bundle, or empty (got "
     "truststore.pki.rds.amazonaws.com/global/global-bundle.pem)"),
    ({"migrate_db_verification_max_age": 0, "migrate_db_target_binlog_retention_hours": -1},
     "migrate_db_verification_max_age must be at least 1 minute (got 0)"),
    ({"migrate_db_verification_max_age": 0, "migrate_db_target_binlog_retention_hours": -1},
     "migrate_db_target_binlog_retention_hours must be at least 1 (got -1)"),
    ({"migrate_db_host": "role_web"}, "migrate_db_host must match exactly one host of the inventory (the migration host); 'role_web' matches 0"),
])
def test_bad_settings_are_refused_before_any_connection(emulator, variables, message):
    emulator.reset()
    run = run_playbook(emulator, "playbooks/migrate_db.yml", extra={**GOOD, **variables}, timeout=120)
    assert run.rc != 0
    assert message in " ".join(run.output.split()), run.output[-3000:]
    assert emulator.calls_but_inventory() == {}


def test_blockers_stop_the_run_before_any_write(migrate, lab, aws):
    lab.sql("source", "CREATE DATABASE IF NOT EXISTS legacy; "
                      "CREATE TABLE IF NOT EXISTS legacy.visits (id INT PRIMARY KEY, page VARCHAR(80)) ENGINE=MyISAM;")
    try:
        run = migrate(migrate_db_databases=["shop", "legacy"])  # definers: refuse (the default)
    finally:
        lab.sql("source", "DROP DATABASE legacy")
    assert run.rc != 0, run.output[-3000:]
    assert "MIGRATION BLOCKED (2 blocker(s), nothing written)" in run.output, run.output[-3000:]
    assert "legacy.visits (MyISAM)" in run.output
    assert "cannot create objects owned by root@localhost" in run.output
    assert lab.value("target", "SELECT COUNT(*) FROM information_schema.SCHEMATA WHERE SCHEMA_NAME IN ('shop', 'legacy')") == "0"
    assert podman("exec", lab.containers["host"], "test", "-e", f"/var/tmp/shop-migrate/{STACK}/dump.done").returncode != 0
    assert lab.value("source", "SELECT @@GLOBAL.read_only") == "0"
    blocked = report(migrate)
    assert blocked["outcome"] == "blocked"
    assert {f["code"] for f in blocked["preflight"]["findings"] if f["level"] == "blocker"} == {"non_innodb", "definers"}


def test_check_mode_shows_the_plan_and_touches_nothing(migrate, lab, aws):
    """The source's connection from a secret this time (host, username, password)."""
    source = lab.variables()["migrate_db_source"]
    aws.client("secretsmanager").create_secret(Name=LEGACY, SecretString=json.dumps(
        {"host": source["host"], "port": 3306, "username": source["user"], "password": source["password"]}))
    run = migrate("--check", migrate_db_definers="rewrite", migrate_db_mode="replication", migrate_db_cutover=True,
                  migrate_db_source={}, migrate_db_source_secret_name=LEGACY)
    assert run.rc == 0, run.output[-3000:]
    assert "check mode, nothing written: replication migration of shop" in run.output
    assert (f"verify every table while the source is writable; cutover: compare again what changed since that verification, "
            f"then set {PARAMETER} to {STACK}/db") in " ".join(run.output.split())
    assert lab.value("target", "SELECT COUNT(*) FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = 'shop'") == "0"
    assert podman("exec", lab.containers["host"], "test", "-e", "/var/tmp/shop-migrate").returncode != 0
    assert parameter(aws) == LEGACY
    assert lab.value("source", "SELECT @@GLOBAL.read_only") == "0"


def test_interrupted_dump_resumes_without_duplicates_and_cuts_over(migrate, lab, aws, tmp_path):
    """mysqldump, cutover (the source read-only for the whole copy); the load is killed once a
    table is in, in the middle of the next, the source is read-write again; the second run keeps the snapshot (the
    source has not changed since), keeps what was loaded, reloads what was cut short, verifies
    and cuts over."""
    loaded = f"/var/tmp/shop-migrate/{STACK}/loaded.list"
    extra = lab.variables(migrate_db_report_dir=str(migrate.reports), migrate_db_tool="mysqldump",
                          migrate_db_definers="rewrite", migrate_db_cutover=True)
    command = [str(VENV_BIN / "ansible-playbook"), "playbooks/migrate_db.yml", "-i", "inventories/local",
               "-i", str(lab.inventory(tmp_path)), "-e", json.dumps({"aws_endpoint_url": aws.url}), "-e", json.dumps(extra)]
    env = dict(os.environ, AWS_URL=aws.url, AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing",
               ANSIBLE_NOCOLOR="1", ANSIBLE_INVENTORY_CACHE_CONNECTION=str(aws.state_dir / "inventory-cache"))
    # Inside the migration host, once a table is in (the database and one table recorded), the
    # mysql client loading the next is killed.
    watcher = subprocess.Popen(
        ["podman", "exec", lab.containers["host"], "bash", "-c",
         f"for i in $(seq 20000); do if [ \"$(wc -l < {loaded} 2>/dev/null)\" -ge 2 ]; then pkill -x mysql && exit 0; fi; "
         "sleep 0.01; done; exit 1"],
        env=dict(os.environ, CONTAINERS_CONF=str(ROOT / "tools/podman/containers.conf")),
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        first = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
        output = first.stdout + first.stderr
        try:
            killed = watcher.wait(timeout=5)
        except subprocess.TimeoutExpired:
            killed = None  # the load never reached the point to kill
        assert killed == 0, output[-3000:]
    finally:
        watcher.kill()
    assert first.returncode != 0 and "MIGRATION ABORTED" in output, output[-3000:]
    cut_short = podman("exec", lab.containers["host"], "cat", loaded).stdout.split()
    assert 2 <= len(cut_short) < 7
    assert lab.value("source", "SELECT @@GLOBAL.read_only") == "0"

    # A cutover stopped by Ctrl-C skips the playbook's rescue: migrate_db_abort undoes its switch.
    lab.sql("source", "SET GLOBAL read_only = ON")
    podman("exec", lab.containers["host"], "touch", f"/var/tmp/shop-migrate/{STACK}/source-read-only", check=True)
    aborted = migrate(migrate_db_abort=True)
    assert aborted.rc == 0, aborted.output[-3000:]
    assert "the source is read-write again" in aborted.output
    assert lab.value("source", "SELECT @@GLOBAL.read_only") == "0"

    run = migrate(migrate_db_tool="mysqldump", migrate_db_definers="rewrite", migrate_db_cutover=True)
    assert run.rc == 0, run.output[-4000:]
    assert f"{len(cut_short)} already loaded by an earlier run" in " ".join(run.output.split())
    assert "verification: every table and object matches" in run.output
    assert lab.counts("target") == lab.counts("source")
    assert lab.duplicates("target") == lab.duplicates("source") == 0
    assert parameter(aws) == f"{STACK}/db"
    assert lab.value("source", "SELECT @@GLOBAL.read_only") == "1"  # the old database stays read-only
    # The dump (customer data) left the migration host with the cutover.
    assert podman("exec", lab.containers["host"], "test", "-e", f"/var/tmp/shop-migrate/{STACK}/dump.sql").returncode == 1
    done = report(migrate)
    assert done["outcome"] == "cut over" and done["verification"]["match"] and done["window_seconds"] > 0
    markdown = sorted(migrate.reports.glob("*/report.md"))[-1].read_text()
    assert "# Database migration of shop-local: cut over" in markdown and "| shop.orders | 20000 | 20000 | 1 | 1 | match |" in markdown
    lab.sql("source", "SET GLOBAL read_only = OFF")


@pytest.fixture
def managed_target(aws, lab):
    """The target's master password kept as RDS keeps one it manages: in a secret of its own that
    <stack>/db names (masterUserSecretArn), <stack>/db holding none."""
    secrets = aws.client("secretsmanager")
    settings = lab.target_secret()
    master = secrets.create_secret(Name=f"{STACK}/rds-managed-master", SecretString=json.dumps(
        {"username": settings["username"], "password": settings.pop("password")}))
    secrets.put_secret_value(SecretId=f"{STACK}/db", SecretString=json.dumps({**settings, "masterUserSecretArn": master["ARN"]}))
    yield
    secrets.put_secret_value(SecretId=f"{STACK}/db", SecretString=json.dumps(lab.target_secret()))
    secrets.delete_secret(SecretId=master["ARN"], ForceDeleteWithoutRecovery=True)


def test_replication_keeps_the_shops_writes_refuses_a_mismatch_and_cuts_over(migrate, lab, aws, managed_target):
    """mydumper; the shop writes to the source all along. A first run replicates; a row changed
    on the target makes the cutover refuse (source read-write again); once mended, the cutover
    verifies and switches with every write of the shop on the target. RDS manages the target's
    master password here: every step logs in with it, and the cutover points the application at
    its own account's secret (the web instances may not read RDS's)."""
    seeded = lab.counts("source")["orders"]
    shop = Shop(lab)
    shop.start()
    try:
        # Checksums in chunks of 1,000 key values: 4 for the 4,000 customers, 20 and more for orders.
        variables = {"migrate_db_mode": "replication", "migrate_db_definers": "rewrite", "migrate_db_tool": "mydumper",
                     "migrate_db_checksum_chunk_rows": 1000}
        run = migrate(**variables)
        assert run.rc == 0, run.output[-4000:]
        assert "load (mydumper, " in run.output
        assert report(migrate)["outcome"] == "replicating, ready to cut over"
        # Caught up: the orders the shop placed during the copy are on the target already.
        assert int(lab.value("target", "SELECT COUNT(*) FROM shop.orders")) > seeded

        assert "verification while the source is writable (taken now)" in " ".join(run.output.split()), run.output[-4000:]

        # Changed on the target after that verification: the cutover re-checks only what changed
        # since, which the target's binary log names, and refuses.
        lab.sql("target", "UPDATE shop.customers SET city = 'Tampered' WHERE id = 3")
        refused = migrate(**variables, migrate_db_cutover=True)
        assert refused.rc != 0 and "cutover refused" in refused.output, refused.output[-4000:]
        flat = " ".join(refused.output.split())
        assert "verification while the source is writable (taken by an earlier run, reused)" in flat, flat[-4000:]
        assert "shop.customers: 1 of 4 chunk(s) compared again (1000 rows on each side), MISMATCH in 1 chunk(s)" in flat, flat[-4000:]
        assert lab.value("source", "SELECT @@GLOBAL.read_only") == "0"
        assert parameter(aws) == LEGACY
        time.sleep(2)  # the shop writes again
    finally:
        writes = shop.stop()
    assert writes["ok"] > 0

    lab.sql("target", "UPDATE shop.customers t SET city = NULL WHERE id = 3")  # id 3: city NULL in the seed
    shop.start()
    try:
        time.sleep(2)
        run = migrate(**variables, migrate_db_cutover=True)
    finally:
        writes = shop.stop()
    assert run.rc == 0, run.output[-4000:]
    assert "verification at cutover: every table and object matches" in run.output
    assert writes["refused"] > 0, "the source never became read-only under the shop"
    counts = lab.counts("source")
    assert counts == lab.counts("target")
    assert counts["orders"] > seeded
    assert lab.duplicates("target") == 0
    assert parameter(aws) == f"{STACK}/db-app"
    assert lab.value("target", "SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE USER = 'system user'") == "0"
    done = report(migrate)
    assert done["outcome"] == "cut over" and 0 < done["window_seconds"] < 60
    # Only the chunks written since the verification were compared in the window: the shop's
    # (orders, items, products, stock) and the mended customer's, never every chunk.
    recheck = done["verification"]["recheck"]
    assert not recheck["every_chunk"] and recheck["events"]["source"] > 0 and recheck["events"]["target"] > 0, recheck
    assert 0 < recheck["chunks_compared"] < recheck["chunks"] / 2, recheck
    assert "shop.customers: 1 of 4 chunk(s) compared again (1000 rows on each side), match" in " ".join(run.output.split())
    # RDS would have purged its binary logs once backed up: the run kept them for the cutover.
    assert lab.value("target", "SELECT value FROM mysql.rds_configuration WHERE name = 'binlog retention hours'") == "24"
    lab.sql("source", "SET GLOBAL read_only = OFF")


def test_the_target_was_reached_over_tls_only(lab):
    """The target refuses plain connections (require_secure_transport, as the stack's RDS instance
    does): every connection of the runs above (modules, mysql, mydumper, myloader) was TLS,
    verified against the lab's CA given as migrate_db_target_ca_bundle_url."""
    assert lab.value("target", "SELECT @@require_secure_transport") == "1"
    accepted = lab.value("target", "SELECT VARIABLE_VALUE FROM information_schema.GLOBAL_STATUS WHERE VARIABLE_NAME = 'SSL_ACCEPTS'")
    assert int(accepted) > 0


def test_the_source_was_never_written_but_for_the_read_only_switch(lab):
    assert lab.value("source", "SELECT COUNT(*) FROM mysql.general_log WHERE user_host LIKE 'migrator[%'") != "0"
    assert lab.source_writes_by_migration() == []
    switched = lab.sql("source", "SELECT argument FROM mysql.general_log WHERE user_host LIKE 'migrator[%' "
                                 "AND argument LIKE 'SET GLOBAL read_only%'")
    assert {row[0] for row in switched} == {"SET GLOBAL read_only = ON", "SET GLOBAL read_only = OFF"}



APP_ACCOUNT_PLAY = """
- hosts: migration
  gather_facts: false
  tasks:
    - name: The application's account
      shop.aws.mysql_app_user:
        login: {host: "{{ target }}", user: shop_admin, password: "{{ admin_password }}", ssl_ca_pem: "{{ ca }}"}
        name: shop_app
        password: "{{ app_password }}"
        database: shop
      register: account
      no_log: true
    - name: Show it
      ansible.builtin.debug:
        msg: "account: {{ account | dict2items | selectattr('key', 'in', ['changed', 'created', 'password_changed', 'revoked']) | items2dict | to_json }}"
"""


def test_the_applications_account_is_made_kept_and_put_back(aws, lab, tmp_path):
    """shop.aws.mysql_app_user on the migration host against the RDS stand-in (TLS required, RDS's
    master privileges): the account is made with its privileges on one database and TLS required;
    a second run changes nothing; check mode reports a drift and leaves it; a run puts back a
    changed password and revokes what was added. No password reaches the output."""
    playbook = tmp_path / "app-account.yml"
    playbook.write_text(APP_ACCOUNT_PLAY)
    inventory = lab.inventory(tmp_path)

    password = "App-acc0unt-pw"  # noqa: S105 - the lab's, thrown away with it

    def run(*args):
        extra = {"target": lab.addresses["target"], "admin_password": PASSWORDS["shop_admin"], "ca": lab.ca_file.read_text(),
                 "app_password": password}
        done = run_playbook(aws, str(playbook), "-i", str(inventory), *args, extra=extra, timeout=300)
        assert done.rc == 0 and password not in done.output.split("PLAY [")[-1], done.output[-3000:]
        return " ".join(done.output.split("TASK [Show it]")[-1].split())  # the callback folds long lines

    def grants() -> list[str]:
        return sorted(re.sub(r" IDENTIFIED BY PASSWORD '[^']*'", "", row[0]) for row in lab.sql("target", "SHOW GRANTS FOR shop_app@'%'"))

    lab.sql("target", "DROP USER IF EXISTS shop_app@'%'")
    made = run()
    assert '"created": true' in made, made
    assert grants() == ["GRANT SELECT, INSERT, UPDATE, DELETE, CREATE, REFERENCES, INDEX, ALTER ON `shop`.* TO `shop_app`@`%`",
                        "GRANT USAGE ON *.* TO `shop_app`@`%` REQUIRE SSL"]
    assert '"changed": false' in run()
    lab.sql("target", "GRANT PROCESS ON *.* TO shop_app@'%'; GRANT DROP ON shop.* TO shop_app@'%';"
                      "ALTER USER shop_app@'%' IDENTIFIED BY 'Changed-beh1nd'")
    drifted = grants()
    checked = run("--check")
    assert '"changed": true' in checked and '"password_changed": true' in checked and "GRANT PROCESS ON *.*" in checked, checked
    assert grants() == drifted
    put_back = run()
    assert '"password_changed": true' in put_back and '"revoked": ["GRANT PROCESS ON *.* TO `shop_app`@`%` REQUIRE SSL"]' in put_back, put_back
    assert not any("PROCESS" in line or "DROP" in line for line in grants()), grants()
    assert '"changed": false' in run()
