"""The local fleet end to end: the dynamic inventory, the live shop through the data plane
(CloudFront stand-in -> ALB -> instances -> MariaDB, Redis, the order topic and queue; a browser
placing an order), the ALB's failure answers, rolling AMI updates (a successful one under a
steady request loop through CloudFront, a failing one rolled back) and the patch playbook
stopping at a failing instance. An emulator of its own runs the fleet: every instance of the web
group is a podman container of the image baked for its AMI (needs podman, haproxy, nginx and
scripts/containers.sh; the browser test needs Debian's chromium and chromium-driver)."""

import concurrent.futures
import contextlib
import datetime
import json
import math
import os
import re
import socket
import ssl
import subprocess
import threading
import time
import urllib.parse
from pathlib import Path

import pytest
import spike_replay
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from helpers import (
    REALISTIC,
    ROOT,
    VENV_BIN,
    Emulator,
    derive_image,
    free_port,
    free_port_range,
    podman,
    register_container_ami,
    run_playbook,
)
from helpers import http_request as plain_request

pytestmark = pytest.mark.integration

PROJECT = "fleettest"
STACK = f"{PROJECT}-local"
GROUP = f"{STACK}-web"
REPOSITORY = "localhost/shop-web-fleettest"
# The floor is the desired capacity: an idle group never scales in while the other tests count on
# three instances (target tracking's low alarms would, after 15 quiet minutes, as on AWS). Each
# page costs 8 ms of CPU (the demo shop's page-cpu-ms), so that a load this machine can send
# keeps instances of a tenth of a CPU busy (the spike test).
EXTRA = {"stack_project": PROJECT, "compute_min_size": 3, "compute_desired_capacity": 3, "compute_max_size": 6,
         "web_image_container_repository": REPOSITORY,
         "compute_app_settings": {"static-base-url": "/static", "page-cpu-ms": "8"}}
ENV = {"SHOP_STACK": STACK}
# The origin lock: the ALB forwards only requests with the secret CloudFront adds. The tests that
# call the ALB directly send it too (its listener ports and the header, set once the stack is built).
ORIGIN: dict = {}


def http_request(url: str, method: str = "GET", headers: dict | None = None, **kwargs):
    """helpers.http_request; to the ALB's listeners with the origin secret, as CloudFront sends it."""
    if ORIGIN and urllib.parse.urlsplit(url).port in ORIGIN["ports"]:
        headers = {ORIGIN["name"]: ORIGIN["value"], **(headers or {})}
    return plain_request(url, method, headers, **kwargs)


def origin_secret(emulator) -> dict:
    return json.loads(emulator.client("secretsmanager").get_secret_value(SecretId=f"{STACK}/origin-verify")["SecretString"])


@pytest.fixture(scope="module")
def fleet(tmp_path_factory):
    # In realistic mode (helpers.REALISTIC): the bake and the rolling updates meet AWS's latencies,
    # throttling and lost answers as the build does.
    emulator = Emulator(port=free_port(), state_dir=tmp_path_factory.mktemp("fleet-emulator"), fleet=True,
                        options=(*REALISTIC, "--dataplane-ports", free_port_range()))
    emulator.start()
    try:
        # The stack and the bake need nothing of each other: both at once.
        with concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool:
            runs = list(pool.map(lambda playbook: run_playbook(emulator, playbook, extra=EXTRA, env=ENV, timeout=1200),
                                 ("site.yml", "playbooks/bake_ami.yml")))
        for run in runs:
            assert run.rc == 0, run.output[-5000:]
        # The group booted the fallback image (no container); the first rollout brings the baked one.
        run = roll(emulator, rollout_max_healthy_percentage=200)
        assert run.rc == 0, run.output[-5000:]
        # The release step of a deploy: the shop's static files into the bucket.
        run = run_playbook(emulator, "playbooks/release_static.yml", extra=EXTRA, env=ENV)
        assert run.rc == 0 and "static/shop.css" in run.output, run.output[-3000:]
        listeners = edge(emulator)["alb"]
        ORIGIN.update(name="X-Origin-Verify", value=origin_secret(emulator)["current"],
                      ports={int(urllib.parse.urlsplit(url).port) for url in listeners.values()})
        yield emulator
    finally:
        emulator.stop()
        tags = podman("images", "--filter", f"reference={REPOSITORY}", "--format", "{{.Repository}}:{{.Tag}}")
        for image in tags.stdout.split():
            podman("rmi", "-f", image)


def roll(emulator, **extra):
    return run_playbook(emulator, "playbooks/rolling_update.yml", extra={**EXTRA, **extra}, env=ENV, timeout=900)


def group(emulator) -> dict:
    return emulator.client("autoscaling").describe_auto_scaling_groups(AutoScalingGroupNames=[GROUP])["AutoScalingGroups"][0]


def in_service(emulator) -> list[dict]:
    return [i for i in group(emulator)["Instances"] if i["LifecycleState"] == "InService"]


def images_of(emulator, ids) -> set[str]:
    found = emulator.client("ec2").describe_instances(InstanceIds=list(ids))["Reservations"]
    return {i["ImageId"] for r in found for i in r["Instances"]}


def target_states(emulator) -> dict[str, str]:
    elb = emulator.client("elbv2")
    arn = elb.describe_target_groups(Names=[GROUP])["TargetGroups"][0]["TargetGroupArn"]
    return {d["Target"]["Id"]: d["TargetHealth"]["State"]
            for d in elb.describe_target_health(TargetGroupArn=arn)["TargetHealthDescriptions"]}


def published(emulator) -> str:
    return emulator.client("ssm").get_parameter(Name=f"/{STACK}/web/ami-id")["Parameter"]["Value"]


def publish_derived_image(emulator, name: str, files: dict[str, str]) -> str:
    """A new 'AMI' for the group: the current image with some files changed, published as a bake would."""
    current = emulator.client("ec2").describe_images(ImageIds=[published(emulator)])["Images"][0]
    source = {t["Key"]: t["Value"] for t in current["Tags"]}["ContainerImage"]
    target = f"{REPOSITORY}:{name}"
    derive_image(source, target, files)
    ami = register_container_ami(emulator.client("ec2"), target, f"{STACK}-web-{name}", STACK)
    emulator.client("ssm").put_parameter(Name=f"/{STACK}/web/ami-id", Value=ami, Type="String", Overwrite=True)
    return ami


def fleet_containers(emulator) -> set[str]:
    found = podman("ps", "--filter", f"label=shop.emulator={emulator.port}", "--filter", "label=shop.kind=instance",
                   "--format", "{{.Names}}")
    return set(found.stdout.split())


def inventory(emulator) -> dict:
    proc = subprocess.run([str(VENV_BIN / "ansible-inventory"), "-i", "inventories/local", "--list", "--flush-cache"],
                          cwd=ROOT, capture_output=True, text=True, check=True,
                          env={**os.environ, "AWS_URL": emulator.url, "SHOP_STACK": STACK,
                               "ANSIBLE_INVENTORY_CACHE_CONNECTION": str(emulator.state_dir / "inventory-cache")})
    return json.loads(proc.stdout, object_hook=lambda d: d["__ansible_unsafe"] if set(d) == {"__ansible_unsafe"} else d)


def test_inventory_groups_the_running_fleet(fleet):
    found = inventory(fleet)
    ids = sorted(i["InstanceId"] for i in in_service(fleet))
    assert len(ids) == 3
    assert sorted(found["role_web"]["hosts"]) == ids
    assert sorted(found["env_local"]["hosts"]) == ids
    assert sorted(found[f"asg_{GROUP.replace('-', '_')}"]["hosts"]) == ids
    ami = published(fleet)
    assert sorted(found[f"ami_{ami.replace('-', '_')}"]["hosts"]) == ids
    version = group(fleet)["LaunchTemplate"]["Version"]
    assert sorted(found[f"lt_version_{version}"]["hosts"]) == ids
    zones = {h: found["_meta"]["hostvars"][h]["fleet_az"] for h in ids}
    for zone in set(zones.values()):
        assert sorted(found[f"az_{zone.replace('-', '_')}"]["hosts"]) == sorted(h for h, z in zones.items() if z == zone)
    assert len(set(zones.values())) == 2, zones  # spread over both AZs
    assert found["_meta"]["hostvars"][ids[0]]["ansible_connection"] == "containers.podman.podman"
    assert "localhost" not in found["role_web"]["hosts"]


def test_every_instance_is_a_container_of_its_ami_reached_by_ansible(fleet):
    ids = {i["InstanceId"] for i in in_service(fleet)}
    assert fleet_containers(fleet) == ids
    run = run_playbook(fleet, "playbooks/maintenance/command.yml",
                       extra={**EXTRA, "maintenance_command": ["systemctl", "is-active", "nginx", "php8.2-fpm"]}, env=ENV)
    assert run.rc == 0, run.output[-3000:]
    for instance_id in ids:
        assert f"ok: [{instance_id}]" in run.output


def test_the_shop_reaches_its_database_over_verified_tls_only(fleet):
    """The parameter group requires TLS; the app, the relay and the release's setup connected with
    it (the pages the other tests load); a client without TLS is refused, and one that does not
    trust the stack's CA bundle cannot connect."""
    rds = f"emu{fleet.port}-rds-{STACK}-mysql"
    status = podman("exec", rds, "mysql", "-N", "-B", "-e",
                    "SELECT @@require_secure_transport; SHOW GLOBAL STATUS LIKE 'Ssl_accepts'", check=True).stdout.split()
    assert status[0] == "1" and int(status[2]) > 0, status
    instance_id = sorted(i["InstanceId"] for i in in_service(fleet))[0]
    config = json.loads(podman("exec", instance_id, "cat", "/etc/shop/app.json", check=True).stdout)
    assert config["database"]["ssl_ca"] == "/etc/shop/db-ca-bundle.pem"
    attempt = """$d = json_decode(file_get_contents('/etc/shop/app.json'), true)['database'];
$o = [PDO::ATTR_ERRMODE => PDO::ERRMODE_EXCEPTION];
if ($argv[1] === 'tls') { $o[PDO::MYSQL_ATTR_SSL_CA] = $d['ssl_ca']; $o[PDO::MYSQL_ATTR_SSL_VERIFY_SERVER_CERT] = true; }
if ($argv[1] === 'untrusted') { $o[PDO::MYSQL_ATTR_SSL_CA] = '/etc/ssl/certs/ca-certificates.crt'; $o[PDO::MYSQL_ATTR_SSL_VERIFY_SERVER_CERT] = true; }
try { $db = new PDO("mysql:host={$d['host']};port={$d['port']};dbname={$d['name']}", $d['user'], $d['password'], $o);
      echo $db->query("SHOW SESSION STATUS LIKE 'Ssl_version'")->fetch()[1]; }
catch (PDOException $e) { echo 'refused: ', $e->getMessage(); }"""
    answers = {how: podman("exec", instance_id, "php", "-r", attempt, how).stdout for how in ("tls", "plain", "untrusted")}
    assert answers["tls"].startswith("TLSv1."), answers
    # The same account without TLS: MariaDB (the stand-in) answers 1045, as RDS for MariaDB does;
    # RDS for MySQL answers 3159 "Connections using insecure transport are prohibited" (RDS User
    # Guide, "Requiring SSL/TLS for all connections" of each engine).
    assert answers["plain"].startswith("refused: SQLSTATE[HY000] [1045] Access denied"), answers
    assert answers["untrusted"] == "refused: SQLSTATE[HY000] [2002] Cannot connect to MySQL using SSL", answers


def test_a_backup_is_restored_beside_the_live_database_compared_served_from_and_discarded(fleet):
    """An AWS Backup recovery point of the live instance (an on-demand job, as the daily plan
    makes) is restored by playbooks/restore_db.yml into <stack>-mysql-restore with the data of
    the moment; the comparison on a web instance finds the one table written since; pointed at,
    the shop serves from it; a discard is refused while the app reads it, and done after. The
    master password is rotated after the backup (the shop then connects as the master user: the
    master's rotation with the fleet): the restored instance is given the current one."""
    rds_client, backup = fleet.client("rds"), fleet.client("backup")
    live = rds_client.describe_db_instances(DBInstanceIdentifier=f"{STACK}-mysql")["DBInstances"][0]
    account = live["DBInstanceArn"].split(":")[4]
    job = backup.start_backup_job(BackupVaultName=f"{STACK}-backup", ResourceArn=live["DBInstanceArn"],
                                  IamRoleArn=f"arn:aws:iam::{account}:role/{STACK}-backup")
    # Written after the backup: on the live instance only.
    rds = f"emu{fleet.port}-rds-{STACK}-mysql"
    podman("exec", rds, "mysql", "-e", "INSERT INTO shop.products VALUES ('RESTORE-PROBE', 'Sold after the backup', 1)",
           check=True)
    secrets = fleet.client("secretsmanager")
    before = json.loads(secrets.get_secret_value(SecretId=f"{STACK}/db")["SecretString"])["password"]
    rotated = run_playbook(fleet, "playbooks/rotate_db_password.yml", extra={**EXTRA, "rotate_db_account": "master"}, env=ENV)
    assert rotated.rc == 0 and "app_refresh | Re-read the database credentials" in rotated.output, rotated.output[-3000:]
    assert json.loads(secrets.get_secret_value(SecretId=f"{STACK}/db")["SecretString"])["password"] != before
    try:
        restore_compare_serve_discard(fleet, job, live)
    finally:  # the other tests' shop offers what it offered
        podman("exec", rds, "mysql", "-e", "DELETE FROM shop.products WHERE sku = 'RESTORE-PROBE'", check=True)


def restore_compare_serve_discard(fleet, job: dict, live: dict) -> None:
    rds_client, backup = fleet.client("rds"), fleet.client("backup")
    shop_page = f"{edge(fleet)['alb']['80']}/"  # the ALB (with the origin secret): no cache between
    assert b"Sold after the backup" in http_request(shop_page).body

    run = run_playbook(fleet, "playbooks/restore_db.yml", extra=EXTRA, env=ENV, timeout=900)
    assert run.rc == 0, run.output[-5000:]
    assert f"{STACK}-mysql-restore holds the recovery point {job['RecoveryPointArn']}" in " ".join(run.output.split())
    restored = rds_client.describe_db_instances(DBInstanceIdentifier=f"{STACK}-mysql-restore")["DBInstances"][0]
    assert restored["MultiAZ"] is False and restored["DBParameterGroups"][0]["DBParameterGroupName"] == f"{STACK}-mysql"
    tags = {t["Key"]: t["Value"] for t in restored["TagList"]}
    assert tags["RestoredFrom"] == job["RecoveryPointArn"] and tags["Stack"] == STACK
    copy = f"emu{fleet.port}-rds-{STACK}-mysql-restore"
    skus = podman("exec", copy, "mysql", "-N", "-e", "SELECT sku FROM shop.products", check=True).stdout.split()
    assert skus and "RESTORE-PROBE" not in skus, skus
    report = json.loads(Path(re.search(r"report: (\S+/report\.json)", run.output)[1]).read_text())
    verdicts = {t["table"]: t["match"] for t in report["tables"]}
    assert verdicts.pop("shop.products") is False and verdicts and all(verdicts.values()), report["tables"]
    assert report["recovery_point"]["arn"] == job["RecoveryPointArn"]
    secret = json.loads(fleet.client("secretsmanager").get_secret_value(SecretId=f"{STACK}/db-restore")["SecretString"])
    assert secret["host"] == restored["Endpoint"]["Address"] and secret["password"] not in run.output

    # Again, requiring a match: the same instance (not restored twice), and a refusal that says why.
    run = run_playbook(fleet, "playbooks/restore_db.yml", extra={**EXTRA, "restore_db_require_match": True}, env=ENV)
    assert run.rc != 0
    assert "restore_db_require_match is true and 1 table(s) or object(s) of the restored instance differ" in \
        " ".join(run.output.split()), run.output[-3000:]
    assert len(backup.list_recovery_points_by_resource(ResourceArn=live["DBInstanceArn"])["RecoveryPoints"]) == 1

    # The shop served from the restored instance: the row written since is not offered.
    run = run_playbook(fleet, "playbooks/restore_db.yml", extra={**EXTRA, "restore_db_point_app": True}, env=ENV)
    assert run.rc == 0, run.output[-5000:]
    for instance in in_service(fleet):
        config = json.loads(podman("exec", instance["InstanceId"], "cat", "/etc/shop/app.json", check=True).stdout)
        assert config["database"]["host"] == restored["Endpoint"]["Address"], instance["InstanceId"]
    page = http_request(shop_page)
    assert page.status == 200 and b"Sold after the backup" not in page.body and b'class="product"' in page.body

    run = run_playbook(fleet, "playbooks/restore_db.yml", extra={**EXTRA, "restore_db_discard": True}, env=ENV)
    assert run.rc != 0 and f"The application reads {STACK}/db-restore, the restored instance's secret" in \
        " ".join(run.output.split()), run.output[-3000:]
    # Pointed back (what site.yml does), the restored instance goes.
    fleet.client("ssm").put_parameter(Name=f"/{STACK}/app/db-secret-name", Value=f"{STACK}/db", Overwrite=True)
    for instance in in_service(fleet):
        podman("exec", instance["InstanceId"], "systemctl", "restart", "shop-configure", check=True)
    assert b"Sold after the backup" in http_request(shop_page).body
    run = run_playbook(fleet, "playbooks/restore_db.yml", extra={**EXTRA, "restore_db_discard": True}, env=ENV)
    assert run.rc == 0, run.output[-3000:]
    assert not rds_client.describe_db_instances(Filters=[{"Name": "db-instance-id",
                                                          "Values": [f"{STACK}-mysql-restore"]}])["DBInstances"]
    with pytest.raises(fleet.client("secretsmanager").exceptions.ResourceNotFoundException):
        fleet.client("secretsmanager").describe_secret(SecretId=f"{STACK}/db-restore")



def cart_of(page: bytes) -> dict[str, int]:
    return {sku: int(count) for sku, count in re.findall(r"<li>([A-Z0-9-]+) x (\d+)</li>", page.decode())}


def shopper(url: str, items: dict[str, int]) -> str:
    """A visitor who put ``items`` in the cart: their session cookie."""
    cookie = plain_request(f"{url}/").headers["set-cookie"].split(";")[0]
    for sku, count in items.items():
        for _ in range(count):
            added = plain_request(f"{url}/", "POST", {"Cookie": cookie, "Content-Type": "application/x-www-form-urlencoded"},
                                  body=f"sku={sku}".encode())
            assert added.status in (200, 303), added
    return cookie


def look_at_carts(url: str, carts: dict[str, dict], answers: list, stop: threading.Event) -> None:
    """Each shopper (cookie) looks at the cart until ``stop``: (status, cart as expected) per page."""
    while not stop.is_set():
        for cookie, items in carts.items():
            try:
                page = plain_request(url, headers={"Cookie": cookie}, timeout=10)
                answers.append((page.status, cart_of(page.body) == items))
            except OSError as error:
                answers.append((repr(error), False))
        time.sleep(0.05)


def redis_cli(container: str, *command: str, token: str = "", tls_on: bool = True) -> str:
    env = ["--env", f"REDISCLI_AUTH={token}"] if token else []
    return podman("exec", *env, container, "redis-cli", *(["--tls", "--insecure"] if tls_on else []), *command).stdout.strip()


def run_while_shoppers_look(fleet, playbook: str, probe: str, *carts: dict[str, int]):
    """The playbook run while shoppers with these carts look at them through CloudFront; the run
    succeeds and every page they get is a 200 with their cart intact."""
    url = edge(fleet)["cdn"]["https"]
    looked = {shopper(url, items): items for items in carts}
    answers: list[tuple] = []
    stop = threading.Event()
    visitor = threading.Thread(target=look_at_carts, args=(f"{url}/?probe={probe}", looked, answers, stop))
    visitor.start()
    try:
        run = run_playbook(fleet, playbook, extra=EXTRA, env=ENV)
        time.sleep(2)
    finally:
        stop.set()
        visitor.join()
    assert run.rc == 0, run.output[-4000:]
    assert len(answers) > 30 and {a for a in answers if a != (200, True)} == set(), \
        [a for a in answers if a != (200, True)][:5]
    return run


def test_carts_survive_a_failover_of_the_session_store_while_the_shop_serves(fleet):
    url = edge(fleet)["cdn"]["https"]
    cache = fleet.client("elasticache")
    group_id = f"{STACK}-redis"

    def roles() -> dict[str, str]:
        found = cache.describe_replication_groups(ReplicationGroupId=group_id)["ReplicationGroups"][0]
        return {m["CacheClusterId"]: m["CurrentRole"] for m in found["NodeGroups"][0]["NodeGroupMembers"]}

    before = roles()
    primary = next(m for m, role in before.items() if role == "primary")
    replica = next(m for m, role in before.items() if role == "replica")
    carts = {shopper(url, items): items for items in ({"TEE-001": 1}, {"MUG-001": 2}, {"CAP-001": 1, "TEE-001": 3})}
    for cookie, items in carts.items():
        assert cart_of(plain_request(f"{url}/", headers={"Cookie": cookie}).body) == items
    # The store asks for TLS and the token: plain TCP and an unauthenticated client get nothing.
    token = json.loads(fleet.client("secretsmanager").get_secret_value(SecretId=f"{STACK}/redis-auth")["SecretString"])["token"]
    container = f"emu{fleet.port}-cache-{primary}"
    assert redis_cli(container, "PING", token=token) == "PONG"
    assert redis_cli(container, "PING").startswith("NOAUTH")
    assert redis_cli(container, "PING", token=token, tls_on=False) != "PONG"
    sessions = int(redis_cli(container, "DBSIZE", token=token))
    assert sessions >= len(carts)
    # Shoppers look at their carts all along while the primary fails over to the replica.
    answers: list[tuple] = []
    stop = threading.Event()
    visitor = threading.Thread(target=look_at_carts, args=(f"{url}/?probe=failover", carts, answers, stop))
    visitor.start()
    try:
        time.sleep(2)
        cache.test_failover(ReplicationGroupId=group_id, NodeGroupId="0001")
        wait_for(lambda: roles() == {primary: "replica", replica: "primary"}, timeout=120)
        # The primary endpoint's name resolves to the new primary in the instances.
        new_address = podman("inspect", "--format", "{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}",
                             f"emu{fleet.port}-cache-{replica}").stdout.strip()
        endpoint = cache.describe_replication_groups(ReplicationGroupId=group_id)["ReplicationGroups"][0][
            "NodeGroups"][0]["PrimaryEndpoint"]["Address"]
        instance = in_service(fleet)[0]["InstanceId"]
        wait_for(lambda: podman("exec", instance, "getent", "hosts", endpoint).stdout.split()[:1] == [new_address],
                 timeout=60)
        time.sleep(3)
    finally:
        stop.set()
        visitor.join()
    assert len(answers) > 30 and {a for a in answers if a != (200, True)} == set(), \
        [a for a in answers if a != (200, True)][:5]
    # The new primary holds every session and takes writes; the old one follows it.
    new_primary = f"emu{fleet.port}-cache-{replica}"
    assert "role:master" in redis_cli(new_primary, "INFO", "replication", token=token)
    assert "role:slave" in redis_cli(container, "INFO", "replication", token=token)
    cookie = next(iter(carts))
    plain_request(f"{url}/", "POST", {"Cookie": cookie, "Content-Type": "application/x-www-form-urlencoded"},
                  body=b"sku=CAP-001")
    assert cart_of(plain_request(f"{url}/", headers={"Cookie": cookie}).body) == {**carts[cookie], "CAP-001": 1}
    assert int(redis_cli(new_primary, "DBSIZE", token=token)) >= sessions


def test_the_redis_token_rotates_while_shoppers_keep_their_carts(fleet):
    secrets = fleet.client("secretsmanager")

    def token() -> dict:
        return json.loads(secrets.get_secret_value(SecretId=f"{STACK}/redis-auth")["SecretString"])

    before = token()["token"]
    run = run_while_shoppers_look(fleet, "playbooks/rotate_cache_token.yml", "token", {"MUG-001": 1}, {"TEE-001": 2})
    after = token()
    assert set(after) == {"token"} and after["token"] != before and len(after["token"]) == 64
    assert before not in run.output and after["token"] not in run.output
    # Every node asks for the new token only.
    for member in fleet.client("elasticache").describe_replication_groups(
            ReplicationGroupId=f"{STACK}-redis")["ReplicationGroups"][0]["MemberClusters"]:
        container = f"emu{fleet.port}-cache-{member}"
        assert redis_cli(container, "PING", token=after["token"]) == "PONG"
        assert redis_cli(container, "PING", token=before) != "PONG"


def test_the_shop_moves_to_its_own_database_account_while_it_serves(fleet):
    """playbooks/database_app_user.yml while shoppers look at their carts: the account shop_app is
    made from a web instance with only its privileges on the shop's database and TLS required, the
    fleet switches to it, and no page fails; a second run finds it as it must be. The master's
    password is in no web instance's settings any more, RDS manages it from then on (<stack>/db
    names RDS's secret, on the rotation schedule asked), and site.yml keeps the application's
    secret published."""
    rds = f"emu{fleet.port}-rds-{STACK}-mysql"
    secrets = fleet.client("secretsmanager")
    toolkit_master = json.loads(secrets.get_secret_value(SecretId=f"{STACK}/db")["SecretString"])["password"]
    run = run_while_shoppers_look(fleet, "playbooks/database_app_user.yml", "app-account", {"TEE-001": 1})
    said = " ".join(run.output.split())  # the callback folds long lines
    assert "shop_app: created; ALTER, CREATE, DELETE, INDEX, INSERT, REFERENCES, SELECT, UPDATE on shop.*, nothing else; " \
           "TLS required" in said, run.output[-3000:]
    grants = podman("exec", rds, "mysql", "-N", "-B", "-e", "SHOW GRANTS FOR shop_app@'%'", check=True).stdout
    assert "GRANT SELECT, INSERT, UPDATE, DELETE, CREATE, REFERENCES, INDEX, ALTER ON `shop`.* TO `shop_app`@`%`" in grants, grants
    assert "REQUIRE SSL" in grants and grants.count("GRANT ") == 2, grants
    app = json.loads(secrets.get_secret_value(SecretId=f"{STACK}/db-app")["SecretString"])
    master = json.loads(secrets.get_secret_value(SecretId=f"{STACK}/db")["SecretString"])
    assert app["provisioned"] is True and app["username"] == "shop_app" and app["host"] == master["host"]
    assert fleet.client("ssm").get_parameter(Name=f"/{STACK}/app/db-secret-name")["Parameter"]["Value"] == f"{STACK}/db-app"
    for instance in in_service(fleet):
        config = podman("exec", instance["InstanceId"], "cat", "/etc/shop/app.json", check=True).stdout
        assert json.loads(config)["database"]["user"] == "shop_app" and toolkit_master not in config
    # The master password is RDS's now, in its own secret, rotated every 7 days (the default).
    arn = master_secret_arn(fleet)
    managed = json.loads(secrets.get_secret_value(SecretId=arn)["SecretString"])
    assert master["masterUserSecretArn"] == arn and "password" not in master and managed["username"] == "shop_admin"
    assert managed["password"] != toolkit_master and rotation_days(fleet, arn) == 7
    assert app["password"] not in run.output and toolkit_master not in run.output and managed["password"] not in run.output
    # A privilege added and a password changed behind the toolkit's back are put back (logged in
    # with RDS's master password, which the database took); the rotation schedule asked is set.
    podman("exec", rds, "mysql", "-e", "GRANT PROCESS ON *.* TO shop_app@'%'; GRANT DROP ON shop.* TO shop_app@'%'", check=True)
    again = run_playbook(fleet, "playbooks/database_app_user.yml",
                         extra={**EXTRA, "database_master_password_rotation_days": 30}, env=ENV)
    assert again.rc == 0, again.output[-3000:]
    said = " ".join(again.output.split())
    assert "shop_app: exists; ALTER, CREATE" in said and "(revoked: GRANT PROCESS ON *.* TO `shop_app`@`%`" in said, said[-3000:]
    grants = podman("exec", rds, "mysql", "-N", "-B", "-e", "SHOW GRANTS FOR shop_app@'%'", check=True).stdout
    assert "PROCESS" not in grants and "DROP" not in grants, grants
    assert rotation_days(fleet, arn) == 30 and master_secret_arn(fleet) == arn
    # site.yml from now on: the database role publishes the application's secret (the secret says
    # so), the web role may no longer read the master's, and the schedule is the inventory's.
    site = run_playbook(fleet, "site.yml", "--tags", "role::security,role::database,role::compute", extra=EXTRA, env=ENV)
    published = site.output.split("settings | Publish the web stack's settings as SSM parameters]")[-1].lstrip("*\n ")
    assert site.rc == 0 and published.startswith("ok: [localhost]"), site.output[-3000:]
    assert rotation_days(fleet, arn) == 7
    policy = fleet.client("iam").get_role_policy(RoleName=f"{STACK}-web", PolicyName="stack-read")["PolicyDocument"]
    readable = next(s["Resource"] for s in policy["Statement"] if s["Sid"] == "ReadOwnSecret")
    assert sorted(arn.split(":secret:")[1] for arn in readable) == [
        f"{STACK}/db-app-??????", f"{STACK}/db-restore-??????", f"{STACK}/redis-auth-??????"], readable


def test_the_database_password_rotates_while_the_shop_serves(fleet):
    """playbooks/rotate_db_password.yml while shoppers load pages that read the catalogue: the
    application's own account takes the new password (set from a web instance), the pages refused
    meanwhile have their instance re-read the secret (shop-credentials.socket) and connect again,
    and no page fails; the old password is refused after, and no password is in the run's output."""
    secrets = fleet.client("secretsmanager")

    def credentials() -> dict:
        return json.loads(secrets.get_secret_value(SecretId=f"{STACK}/db-app")["SecretString"])

    before = credentials()
    run = run_while_shoppers_look(fleet, "playbooks/rotate_db_password.yml", "db-password", {"CAP-001": 2}, {"MUG-001": 1})
    after = credentials()
    assert after["password"] != before["password"] and len(after["password"]) == 32
    assert {k: v for k, v in after.items() if k != "password"} == {k: v for k, v in before.items() if k != "password"}
    stages = sorted(sorted(labels) for labels in secrets.describe_secret(SecretId=f"{STACK}/db-app")["VersionIdsToStages"].values())
    assert ["AWSCURRENT"] in stages and ["AWSPREVIOUS"] in stages and not any("AWSPENDING" in s for s in stages), stages
    assert before["password"] not in run.output and after["password"] not in run.output
    # The server takes the new password only, and the pages that met the change asked their
    # instance for fresh credentials (the socket's units ran) before the playbook refreshed them.
    instance_id = sorted(i["InstanceId"] for i in in_service(fleet))[0]
    attempt = """$d = json_decode(file_get_contents('/etc/shop/app.json'), true)['database'];
$o = [PDO::ATTR_ERRMODE => PDO::ERRMODE_EXCEPTION, PDO::MYSQL_ATTR_SSL_CA => $d['ssl_ca']];
try { new PDO("mysql:host={$d['host']};port={$d['port']};dbname={$d['name']}", $d['user'], $argv[1], $o); echo 'accepted'; }
catch (PDOException $e) { echo 'refused: ', $e->getMessage(); }"""
    assert podman("exec", instance_id, "php", "-r", attempt, after["password"]).stdout == "accepted"
    assert podman("exec", instance_id, "php", "-r", attempt, before["password"]).stdout.startswith(
        "refused: SQLSTATE[HY000] [1045] Access denied")
    asked = "".join(podman("exec", i["InstanceId"], "journalctl", "--no-pager", "-o", "cat", "-u", "shop-credentials@*").stdout
                    for i in in_service(fleet))
    assert "shop-configure: " in asked, asked[-2000:]
    for instance in in_service(fleet):
        logs = podman("exec", instance["InstanceId"], "sh", "-c", "journalctl --no-pager -o cat; cat /var/log/shop/*.log 2>/dev/null")
        assert before["password"] not in logs.stdout and after["password"] not in logs.stdout


def test_rds_rotates_the_master_password_it_manages(fleet):
    """rotate_db_password.yml -e rotate_db_account=master once RDS manages the master password: RDS
    rotates it (a new current version of its secret, the former previous), the database takes
    it, the stack's secret still names RDS's, and the shop, on its own account, keeps serving."""
    secrets = fleet.client("secretsmanager")
    arn = master_secret_arn(fleet)
    before = json.loads(secrets.get_secret_value(SecretId=arn)["SecretString"])["password"]
    run = run_playbook(fleet, "playbooks/rotate_db_password.yml", extra={**EXTRA, "rotate_db_account": "master"}, env=ENV)
    said = " ".join(run.output.split())
    assert run.rc == 0 and "Have RDS rotate the master password it manages" in said, run.output[-3000:]
    after = json.loads(secrets.get_secret_value(SecretId=arn)["SecretString"])["password"]
    assert after != before and before not in run.output and after not in run.output
    stages = sorted(sorted(s) for s in secrets.describe_secret(SecretId=arn)["VersionIdsToStages"].values() if s)
    assert stages == [["AWSCURRENT"], ["AWSPREVIOUS"]], stages
    assert json.loads(secrets.get_secret_value(SecretId=f"{STACK}/db")["SecretString"])["masterUserSecretArn"] == arn
    rds = f"emu{fleet.port}-rds-{STACK}-mysql"

    def takes(password: str) -> bool:
        """The master account's stored hash is the password's (MariaDB's PASSWORD(), mysql_native_password)."""
        query = f"SELECT COUNT(*) FROM mysql.user WHERE User = 'shop_admin' AND authentication_string = PASSWORD('{password}')"
        return podman("exec", rds, "mysql", "-N", "-B", "-e", query, check=True).stdout.strip() == "1"

    wait_for(lambda: takes(after), timeout=30)
    assert not takes(before)
    assert http_request(f"{edge(fleet)['alb']['80']}/").status == 200


def master_secret_arn(emulator) -> str:
    """The secret RDS keeps the master password of the stack's instance in."""
    found = emulator.client("rds").describe_db_instances(DBInstanceIdentifier=f"{STACK}-mysql")["DBInstances"][0]
    return found["MasterUserSecret"]["SecretArn"]


def rotation_days(emulator, arn: str) -> int:
    return emulator.client("secretsmanager").describe_secret(SecretId=arn)["RotationRules"]["AutomaticallyAfterDays"]


def edge(emulator) -> dict:
    """The stack's distribution and ALB on the data plane: their local URLs."""
    listing = emulator.dataplane()
    cloudfront = emulator.client("cloudfront")
    domain = next(d["DomainName"] for d in cloudfront.list_distributions()["DistributionList"]["Items"]
                  if d["Comment"].startswith(STACK))
    alb = emulator.client("elbv2").describe_load_balancers(Names=[STACK])["LoadBalancers"][0]
    return {"cdn": listing["distributions"][domain], "alb": listing["load_balancers"][alb["DNSName"]]["listeners"],
            "alb_dns": alb["DNSName"], "alb_arn": alb["LoadBalancerArn"]}


def access_log(instance_id: str) -> list[dict]:
    """The instance's nginx access log (JSON lines: the headers the ALB added among them)."""
    text = podman("exec", instance_id, "cat", "/var/log/nginx/access.log", check=True).stdout
    return [json.loads(line) for line in text.splitlines() if line.strip()]


@contextlib.contextmanager
def slow_catalogue(emulator, seconds: int):
    """The catalogue's table locked for ``seconds``: the shop's pages wait on the database
    (its health check, SELECT 1, does not)."""
    rds = f"emu{emulator.port}-rds-{STACK}-mysql"
    holder = subprocess.Popen(["podman", "exec", rds, "mysql", "-e",  # noqa: S607
                               f"LOCK TABLES shop.products WRITE; SELECT SLEEP({seconds}); UNLOCK TABLES;"],
                              env={**os.environ, "CONTAINERS_CONF": str(ROOT / "tools/podman/containers.conf")},
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        time.sleep(1)  # the lock is held
        yield
    finally:
        holder.wait(timeout=seconds + 30)


def visit(url: str, answers: list, stop: threading.Event, pause: float) -> None:
    """A visitor requesting ``url`` until ``stop``: each answer's status, or the error, in ``answers``."""
    while not stop.is_set():
        try:
            answers.append(http_request(url, timeout=20).status)
        except OSError as error:
            answers.append(repr(error))
        time.sleep(pause)


def wait_for(predicate, timeout: float = 60, step: float = 0.5):
    """The predicate's first true answer; a refused connection counts as not yet (a proxy reloading)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            found = predicate()
        except OSError:
            found = None
        if found:
            return found
        time.sleep(step)
    raise AssertionError(f"not true within {timeout} s: {predicate.__doc__ or predicate}")


def test_static_files_come_from_the_bucket_through_the_cdn_only(fleet):
    urls = edge(fleet)["cdn"]
    expected = (ROOT / "app/demo-shop/public/static/shop.css").read_bytes()
    first = http_request(f"{urls['https']}/static/shop.css")
    second = http_request(f"{urls['https']}/static/shop.css")
    assert first.status == second.status == 200 and first.body == second.body == expected
    assert first.headers["content-type"] == "text/css" and first.headers["cache-control"] == "public, max-age=300"
    assert (first.headers["x-cache"], second.headers["x-cache"]) == ("Miss from cloudfront", "Hit from cloudfront")
    assert second.headers["via"].endswith(".cloudfront.net (CloudFront)")
    gzipped = http_request(f"{urls['https']}/static/shop.css", headers={"Accept-Encoding": "gzip"})
    assert gzipped.headers.get("content-encoding") == "gzip"  # Compress with CachingOptimized
    # The viewer protocol policy: HTTP is redirected to HTTPS.
    plain = http_request(f"{urls['http']}/static/shop.css")
    assert plain.status == 301 and plain.headers["location"] == f"{urls['https']}/static/shop.css"
    # Only the distribution reads the bucket (OAC): a direct anonymous read is refused, path or host style.
    direct = http_request(f"{fleet.url}/{STACK}-static/static/shop.css")
    virtual = http_request(f"{fleet.url}/static/shop.css", headers={"Host": f"{STACK}-static.s3.us-east-1.amazonaws.com"})
    assert direct.status == virtual.status == 403 and b"<Code>AccessDenied</Code>" in direct.body
    # A file the bucket lacks: S3's answer, through the distribution.
    assert http_request(f"{urls['https']}/static/missing.css").headers["x-cache"] == "Error from cloudfront"


def test_the_alb_forwards_to_every_healthy_target_with_its_headers(fleet):
    ids = sorted(i["InstanceId"] for i in in_service(fleet))
    urls = edge(fleet)
    for number in range(9):
        assert http_request(f"{urls['alb']['80']}/?probe=alb-{number}").status == 200
    lines = {i: [line for line in access_log(i) if "probe=alb-" in line["uri"]] for i in ids}
    assert sorted(len(found) for found in lines.values()) == [3, 3, 3], lines  # round robin over three
    line = lines[ids[0]][0]
    assert line["forwarded_proto"] == "http" and line["forwarded_port"] == "80"
    assert line["forwarded_for"] == "127.0.0.1"
    assert re.fullmatch(r"Root=1-[0-9a-f]{8}-[0-9a-f]{24}", line["trace_id"]), line
    assert len({found["trace_id"] for entries in lines.values() for found in entries}) == 9  # one per request
    assert http_request(f"{urls['alb']['80']}/").headers["server"] != "awselb/2.0"  # the target's answer
    # Through CloudFront: not cached (CachingDisabled), the viewer's address first, the ALB's DNS
    # name as Host (AllViewerExceptHostHeader), CloudFront's Via towards the origin.
    through = http_request(f"{urls['cdn']['https']}/?probe=cdn")
    assert through.status == 200 and through.headers["x-cache"] == "Miss from cloudfront"
    # The managed SecurityHeadersPolicy's headers on what CloudFront answers, not on the ALB's.
    assert (through.headers["strict-transport-security"], through.headers["x-content-type-options"],
            through.headers["x-frame-options"], through.headers["referrer-policy"]) == (
        "max-age=31536000", "nosniff", "SAMEORIGIN", "strict-origin-when-cross-origin")
    assert "strict-transport-security" not in http_request(f"{urls['alb']['80']}/").headers
    (line,) = [line for i in ids for line in access_log(i) if "probe=cdn" in line["uri"]]
    assert line["host"] == urls["alb_dns"] and line["forwarded_for"] == "127.0.0.1, 127.0.0.1"  # viewer, stand-in


def test_the_alb_refuses_what_cloudfront_did_not_send_and_the_origin_secret_rotates_without_a_refused_request(fleet):
    urls = edge(fleet)
    before = origin_secret(fleet)["current"]
    # Straight to the ALB: without the header, or with a wrong value, 403 from the ALB itself.
    for headers in ({}, {"X-Origin-Verify": "guessed"}):
        refused = plain_request(f"{urls['alb']['80']}/", headers=headers)
        assert refused.status == 403 and refused.body == b"Forbidden" and refused.headers["server"] == "awselb/2.0"
    assert plain_request(f"{urls['alb']['80']}/", headers={"X-Origin-Verify": before}).status == 200
    # A viewer cannot pass CloudFront a value of its own: CloudFront's replaces it.
    assert plain_request(f"{urls['cdn']['https']}/", headers={"X-Origin-Verify": "guessed"}).status == 200
    # The rotation, with shoppers through CloudFront all along.
    statuses: list[int] = []
    stop = threading.Event()

    def shop():
        while not stop.is_set():
            try:
                statuses.append(plain_request(f"{urls['cdn']['https']}/?probe=rotation", timeout=10).status)
            except OSError as error:
                statuses.append(repr(error))
            time.sleep(0.05)

    visitor = threading.Thread(target=shop)
    visitor.start()
    try:
        run = run_playbook(fleet, "playbooks/rotate_origin_secret.yml", extra=EXTRA, env=ENV)
    finally:
        stop.set()
        visitor.join()
    assert run.rc == 0, run.output[-4000:]
    after = origin_secret(fleet)
    assert set(after) == {"current"} and after["current"] != before and len(after["current"]) == 40
    assert before not in run.output and after["current"] not in run.output
    assert len(statuses) > 50 and set(statuses) == {200}, [s for s in statuses if s != 200][:5]
    # The old value is refused now, the new one forwarded, and CloudFront sends the new one.
    assert plain_request(f"{urls['alb']['80']}/", headers={"X-Origin-Verify": before}).status == 403
    assert plain_request(f"{urls['alb']['80']}/", headers={"X-Origin-Verify": after["current"]}).status == 200
    assert plain_request(f"{urls['cdn']['https']}/").status == 200
    ORIGIN["value"] = after["current"]


def test_the_alb_answers_502_503_504_and_redirects_as_aws_does(fleet):
    urls = edge(fleet)
    ids = sorted(i["InstanceId"] for i in in_service(fleet))
    # 504: no answer within the idle timeout while the database holds the page. The timeout is
    # lowered to 5 s for this test only: elsewhere a page slowed by a loaded machine must not fail.
    elb = fleet.client("elbv2")

    def idle(seconds: int) -> list[dict]:
        return [{"Key": "idle_timeout.timeout_seconds", "Value": str(seconds)}]

    elb.modify_load_balancer_attributes(LoadBalancerArn=urls["alb_arn"], Attributes=idle(5))
    try:
        wait_for(lambda: fleet.dataplane()["load_balancers"][urls["alb_dns"]]["idle_timeout"] == 5)
        with slow_catalogue(fleet, 9):
            late = http_request(f"{urls['alb']['80']}/")
    finally:
        elb.modify_load_balancer_attributes(LoadBalancerArn=urls["alb_arn"], Attributes=idle(60))
    assert late.status == 504 and late.headers["server"] == "awselb/2.0" and b"504 Gateway Time-out" in late.body
    vpc = elb.describe_load_balancers(Names=[STACK])["LoadBalancers"][0]["VpcId"]
    empty = elb.create_target_group(Name=f"{PROJECT}-empty", Protocol="HTTP", Port=80, VpcId=vpc,
                                    TargetType="instance")["TargetGroups"][0]["TargetGroupArn"]
    web = elb.describe_target_groups(Names=[GROUP])["TargetGroups"][0]["TargetGroupArn"]
    listener = elb.create_listener(LoadBalancerArn=urls["alb_arn"], Protocol="HTTP", Port=8080,
                                   DefaultActions=[{"Type": "forward", "TargetGroupArn": empty}])["Listeners"][0]["ListenerArn"]
    try:
        elb.create_rule(ListenerArn=listener, Priority=10, Conditions=[{"Field": "path-pattern", "Values": ["/old/*"]}],
                        Actions=[{"Type": "redirect", "RedirectConfig": {"Protocol": "HTTP", "Port": "80", "Path": "/new/#{path}",
                                                                         "StatusCode": "HTTP_301"}}])
        elb.create_rule(ListenerArn=listener, Priority=20, Conditions=[{"Field": "path-pattern", "Values": ["/shop*"]}],
                        Actions=[{"Type": "forward", "TargetGroupArn": web}])
        elb.create_rule(ListenerArn=listener, Priority=30, Conditions=[
            {"Field": "http-header", "HttpHeaderConfig": {"HttpHeaderName": "X-Maintenance", "Values": ["on"]}}],
            Actions=[{"Type": "fixed-response", "FixedResponseConfig": {"StatusCode": "418", "ContentType": "text/plain",
                                                                        "MessageBody": "down for maintenance"}}])
        port8080 = wait_for(lambda: fleet.dataplane()["load_balancers"][urls["alb_dns"]]["listeners"].get("8080"))
        # 503: the listener's target group has no registered target.
        unavailable = wait_for(lambda: (a := http_request(f"{port8080}/")).status == 503 and a)
        assert b"503 Service Temporarily Unavailable" in unavailable.body
        moved = wait_for(lambda: (a := http_request(f"{port8080}/old/page?x=1")).status == 301 and a)
        assert moved.headers["location"] == f"{urls['alb']['80']}/new/old/page?x=1"
        assert http_request(f"{port8080}/shop?probe=port-8080").status == 200
        assert [line["forwarded_port"] for i in ids for line in access_log(i) if "probe=port-8080" in line["uri"]] == ["8080"]
        teapot = http_request(f"{port8080}/anything", headers={"X-Maintenance": "on"})
        assert teapot.status == 418 and teapot.body == b"down for maintenance"
    finally:
        elb.delete_listener(ListenerArn=listener)
        elb.delete_target_group(TargetGroupArn=empty)
    # HTTPS with the listener's certificate (from ACM) and its policy's minimum TLS version.
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(x509.oid.NameOID.COMMON_NAME, "shop.example.com")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now)
            .not_valid_after(now + datetime.timedelta(days=30)).sign(key, hashes.SHA256()))
    certificate = fleet.client("acm").import_certificate(
        Certificate=cert.public_bytes(serialization.Encoding.PEM),
        PrivateKey=key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
                                     serialization.NoEncryption()))["CertificateArn"]
    secure = elb.create_listener(LoadBalancerArn=urls["alb_arn"], Protocol="HTTPS", Port=8443,
                                 SslPolicy="ELBSecurityPolicy-TLS13-1-2-2021-06", Certificates=[{"CertificateArn": certificate}],
                                 DefaultActions=[{"Type": "forward", "TargetGroupArn": web}])["Listeners"][0]["ListenerArn"]
    try:
        port8443 = wait_for(lambda: fleet.dataplane()["load_balancers"][urls["alb_dns"]]["listeners"].get("8443"))
        assert port8443.startswith("https://")
        wait_for(lambda: http_request(f"{port8443}/?probe=tls").status == 200)
        assert {line["forwarded_proto"] for i in ids for line in access_log(i) if "probe=tls" in line["uri"]} == {"https"}
        host, port = port8443.removeprefix("https://").split(":")
        with socket.create_connection((host, int(port)), timeout=10) as raw:
            context = ssl._create_unverified_context()  # noqa: S323 - the test's own self-signed certificate
            with context.wrap_socket(raw) as tls:
                served = x509.load_der_x509_certificate(tls.getpeercert(binary_form=True))
        assert served.subject == name
    finally:
        elb.delete_listener(ListenerArn=secure)
    # Deregistered targets drain: the requests they hold finish; new ones find no target (503)
    # until the targets are registered again and pass their health checks.
    targets = [{"Id": i, "Port": 80} for i in ids]
    with concurrent.futures.ThreadPoolExecutor(max_workers=3) as pool, slow_catalogue(fleet, 4):
        held = [pool.submit(http_request, f"{urls['alb']['80']}/?probe=held-{n}") for n in range(3)]
        time.sleep(0.5)
        elb.deregister_targets(TargetGroupArn=web, Targets=targets)
        try:
            wait_for(lambda: http_request(f"{urls['alb']['80']}/health").status == 503, timeout=15)
            finished = [future.result() for future in held]
        finally:
            elb.register_targets(TargetGroupArn=web, Targets=targets)
    assert [a.status for a in finished] == [200] * 3, [(a.status, a.body[:200]) for a in finished]
    assert all(b"Demo shop" in a.body for a in finished)  # served to the end by the draining targets
    wait_for(lambda: set(target_states(fleet).values()) == {"healthy"}, timeout=60)
    # The data plane follows the targets' health within a pass or two: all three serve again.
    wait_for(lambda: all(http_request(f"{urls['alb']['80']}/health").status == 200 for _ in range(3)), timeout=30)
    # 502, then none: a target whose web server stops fails its requests until its health checks
    # mark it unhealthy (2 x 5 s), then the others take them all.
    stopped = ids[0]
    podman("exec", stopped, "systemctl", "stop", "nginx", check=True)
    try:
        codes = [http_request(f"{urls['alb']['80']}/health").status for _ in range(6)]
        assert 502 in codes and set(codes) <= {200, 502}, codes
        wait_for(lambda: target_states(fleet)[stopped] == "unhealthy", timeout=60)
        # Once the data plane has followed (a pass or two), every request goes to the other two.
        wait_for(lambda: [http_request(f"{urls['alb']['80']}/health").status for _ in range(12)] == [200] * 12,
                 timeout=30)
    finally:
        podman("exec", stopped, "systemctl", "start", "nginx", check=True)
    wait_for(lambda: target_states(fleet)[stopped] == "healthy", timeout=60)


def submit(browser, button) -> None:
    """Click a form's button and wait for the next page."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions
    from selenium.webdriver.support.ui import WebDriverWait

    page = browser.find_element(By.TAG_NAME, "html")
    button.click()
    WebDriverWait(browser, 30).until(expected_conditions.staleness_of(page))


def test_a_visitor_orders_in_a_browser_through_cloudfront(fleet, tmp_path):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By

    urls = edge(fleet)
    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--ignore-certificate-errors", f"--user-data-dir={tmp_path / 'chromium'}", "--window-size=1000,700"):
        options.add_argument(flag)
    browser = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
    try:
        browser.get(urls["cdn"]["http"] + "/")  # the viewer protocol policy sends it to HTTPS
        assert browser.current_url == urls["cdn"]["https"] + "/"
        products = browser.find_elements(By.CSS_SELECTOR, "tr.product")
        assert [p.find_element(By.TAG_NAME, "td").text for p in products] == ["Cap", "Mug", "T-shirt"]
        for _ in range(2):  # each click posts a form, then the page comes back (303)
            submit(browser, browser.find_elements(By.CSS_SELECTOR, "tr.product")[1].find_element(By.TAG_NAME, "button"))
        assert [li.text for li in browser.find_elements(By.CSS_SELECTOR, "#cart li")] == ["MUG-001 x 2"]
        # The stylesheet came through the CDN: the page's link resolves on the distribution.
        styled = browser.execute_script("return getComputedStyle(document.body).maxWidth") != "none"
        submit(browser, browser.find_element(By.ID, "checkout"))
        placed = browser.find_element(By.ID, "order-placed").text
        order_id = int(re.search(r"Order #(\d+) placed", placed).group(1))
        screenshot = Path(os.environ.get("SHOP_SCREENSHOT_DIR", tmp_path)) / "live-shop.png"
        screenshot.parent.mkdir(parents=True, exist_ok=True)
        browser.save_screenshot(str(screenshot))
    finally:
        browser.quit()
    assert screenshot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and screenshot.stat().st_size > 10_000
    assert styled  # shop.css (max-width: 40em) reached the browser
    again = http_request(f"{urls['cdn']['https']}/static/shop.css")
    assert again.headers["x-cache"] == "Hit from cloudfront"
    # The order row in the database (the RDS stand-in) ...
    rds = f"emu{fleet.port}-rds-{STACK}-mysql"
    row = podman("exec", rds, "mysql", "-N", "-B", "-e",
                 f"SELECT total_cents, JSON_EXTRACT(items, '$[0].sku') FROM shop.orders WHERE id = {order_id}", check=True)
    assert row.stdout.split() == ["2400", '"MUG-001"'], row.stdout
    # ... and its message on the order queue, through the topic, published by an instance's relay.
    sqs = fleet.client("sqs")
    queue = sqs.get_queue_url(QueueName=f"{STACK}-orders")["QueueUrl"]

    def received():
        for message in sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10, WaitTimeSeconds=1).get("Messages", []):
            event = json.loads(json.loads(message["Body"])["Message"])
            if event.get("order_id") == order_id:
                return event
        return None

    event = wait_for(received, timeout=60)
    assert event["type"] == "order-placed" and event["total_cents"] == 2400
    assert event["items"] == [{"sku": "MUG-001", "quantity": 2, "price_cents": 1200}]


def test_rolling_update_keeps_the_minimum_healthy(fleet):
    before = {i["InstanceId"] for i in in_service(fleet)}
    ami = publish_derived_image(fleet, "v2", {"/etc/shop-image-version": "v2\n"})
    samples, stop = [], threading.Event()
    shop, answers = edge(fleet)["cdn"]["https"] + "/", []

    def sample():
        while not stop.is_set():
            samples.append(list(target_states(fleet).values()).count("healthy"))
            time.sleep(0.5)

    # A steady visitor through CloudFront and the ALB all along the rollout.
    threads = [threading.Thread(target=sample), threading.Thread(target=visit, args=(shop, answers, stop, 0.05))]
    for thread in threads:
        thread.start()
    try:
        # Terminate-then-launch batches: one instance of three at a time may be out.
        run = roll(fleet, rollout_min_healthy_percentage=66, rollout_max_healthy_percentage=100)
    finally:
        stop.set()
        for thread in threads:
            thread.join()
    assert run.rc == 0, run.output[-5000:]
    failed = [a for a in answers if a != 200]
    assert len(answers) > 100 and not failed, (len(answers), failed[:20])
    assert "InProgress 33%" in run.output and "Successful 100%" in run.output
    minimum = math.ceil(3 * 66 / 100)
    assert len(samples) > 20 and min(samples) >= minimum, samples
    assert minimum in samples, samples  # the batches were seen: one instance out at a time
    after = {i["InstanceId"] for i in in_service(fleet)}
    assert len(after) == 3 and not after & before
    assert images_of(fleet, after) == {ami}
    assert set(target_states(fleet).items()) >= {(i, "healthy") for i in after}
    assert fleet_containers(fleet) == after


def test_failing_refresh_rolls_back_and_the_old_ami_keeps_serving(fleet):
    serving = published(fleet)
    version = group(fleet)["LaunchTemplate"]["Version"]
    current = podman("inspect", "--format", "{{.ImageName}}", next(iter(fleet_containers(fleet)))).stdout.strip()
    release = podman("run", "--rm", "--entrypoint", "readlink", current, "-f", "/srv/shop/current").stdout.strip()
    bad = publish_derived_image(fleet, "broken", {f"{release}/public/health.php": "<?php http_response_code(500);\n"})
    run = roll(fleet)
    assert run.rc != 0, run.output[-5000:]
    assert "ROLLOUT FAILED" in run.output and "RollbackSuccessful" in run.output, run.output[-5000:]
    after = in_service(fleet)
    assert len(after) == 3
    assert images_of(fleet, [i["InstanceId"] for i in after]) == {serving} != {bad}
    assert group(fleet)["LaunchTemplate"]["Version"] == version
    assert published(fleet) == serving
    states = target_states(fleet)
    assert all(states[i["InstanceId"]] == "healthy" for i in after), states


def test_patch_stops_at_the_failing_instance_and_leaves_the_others_in_service(fleet):
    ids = sorted(i["InstanceId"] for i in in_service(fleet))
    first, broken, last = ids
    # apt cannot update on this one: its patch fails after it left service.
    podman("exec", broken, "sh", "-c",
           "echo 'deb http://127.0.0.1:9/debian bookworm main' > /etc/apt/sources.list.d/broken.list", check=True)
    run = run_playbook(fleet, "playbooks/maintenance/patch.yml", extra={**EXTRA, "maintenance_reboot": False, "maintenance_apt_retries": 1},
                       env=ENV, timeout=900)
    assert run.rc != 0
    assert f"{broken} (" in run.output and "stays in Standby, out of service" in run.output
    upgraded = [line for line in run.output.split("TASK [")[1:] if line.startswith("shop.aws.maintenance : patch | Upgrade")]
    assert any(f"[{first}]" in block for block in upgraded)
    assert not any(f"[{last}]" in block for block in upgraded), "the run went on past the failing batch"
    lifecycle = {i["InstanceId"]: i["LifecycleState"] for i in group(fleet)["Instances"]}
    assert {first: "InService", broken: "Standby", last: "InService"}.items() <= lifecycle.items(), lifecycle
    # At its minimum size the group could not decrement: it launched a stand-in (leave_service.yml).
    stand_ins = set(lifecycle) - {first, broken, last}
    assert len(stand_ins) == 1 and lifecycle[stand_ins.pop()] == "InService", lifecycle
    states = target_states(fleet)
    assert states[first] == "healthy" and states[last] == "healthy"
    assert states.get(broken, "unused") in ("unused", "draining")


def test_logs_are_collected_per_instance_and_zone(fleet, tmp_path):
    # The fleet changed since the inventory was cached (the patch test's stand-in): read it afresh.
    run = run_playbook(fleet, "playbooks/maintenance/collect_logs.yml", "--flush-cache",
                       extra={**EXTRA, "maintenance_logs_dir": str(tmp_path)}, env=ENV)
    assert run.rc == 0, run.output[-3000:]
    (run_dir,) = list(tmp_path.iterdir())
    hosts = inventory(fleet)["_meta"]["hostvars"]
    expected = {f"{h}_{v['fleet_az']}" for h, v in hosts.items() if h.startswith("i-")}
    assert {p.name for p in run_dir.iterdir()} == expected
    for folder in run_dir.iterdir():
        assert (folder / "var/log/nginx/access.log").is_file()
        assert (folder / "var/tmp/shop-journal.txt.gz").stat().st_size > 0


def test_a_promotion_spike_through_cloudfront_scales_the_group_out_and_back_in_with_the_alerts_notified(fleet, tmp_path):
    """A promotion spike replayed with Locust through CloudFront (benchmarks/spike_replay.py,
    scaled down): each instance's container bounded to a tenth of a CPU, so that the load drives
    the CPU policy; the fleet starts and stops containers as the group's size changes, and the
    monitoring role's alarm notifies the alert topic. At 30 times AWS's pace (the emulator's
    clock), so that a minute of CloudWatch is 2 s here."""
    autoscaling, cloudwatch = fleet.client("autoscaling"), fleet.client("cloudwatch")
    # The operator sets a CPU target of 40 % (a converge of the compute role).
    run = run_playbook(fleet, "site.yml", "--tags", "role::compute", extra={**EXTRA, "compute_target_cpu": 40}, env=ENV)
    assert run.rc == 0, run.output[-5000:]
    policy = next(p for p in autoscaling.describe_policies(AutoScalingGroupName=GROUP)["ScalingPolicies"]
                  if p["PolicyName"] == f"{GROUP}-cpu")
    owned = {a["AlarmName"]: a for a in cloudwatch.describe_alarms(
        AlarmNames=[a["AlarmName"] for a in policy["Alarms"]])["MetricAlarms"]}
    high = next(a for n, a in owned.items() if n.startswith(f"TargetTracking-{GROUP}-AlarmHigh-"))
    low = next(a for n, a in owned.items() if n.startswith(f"TargetTracking-{GROUP}-AlarmLow-"))
    assert (high["Threshold"], high["EvaluationPeriods"], high["Namespace"], high["MetricName"]) == (
        40.0, 3, "AWS/EC2", "CPUUtilization")
    assert (low["Threshold"], low["EvaluationPeriods"]) == (36.0, 15)
    assert high["Dimensions"] == [{"Name": "AutoScalingGroupName", "Value": GROUP}]

    # An on-call queue subscribed to the alert topic reads the alarms' notifications back.
    sns, sqs = fleet.client("sns"), fleet.client("sqs")
    topic = next(t["TopicArn"] for t in sns.list_topics()["Topics"] if t["TopicArn"].endswith(f":{STACK}-alerts"))
    queue = sqs.create_queue(QueueName=f"{PROJECT}-on-call")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn, Attributes={"RawMessageDelivery": "true"})

    standby = {i["InstanceId"] for i in group(fleet)["Instances"] if i["LifecycleState"] == "Standby"}  # the patch test's
    # Small instances: a tenth of a CPU of this machine each (the metric is a container's use of
    # its quota), the running ones at once and those to come.
    serving = sorted(i["InstanceId"] for i in in_service(fleet))
    bounded = fleet.bound_cpus(0.05)["applied"]
    assert set(bounded) >= set(serving) and set(bounded.values()) == {"0.1"}
    shop = spike_replay.Shop(fleet, STACK)
    # Shoppers at one page a second: a baseline of 4, then 10x for the spike (an instance of a
    # tenth of a CPU serves about 10 pages/s at 100 %, benchmarks/spike_replay.py measured: the
    # spike needs the group's maximum).
    phases = {"baseline": 2, "ramp": 3, "hold": 30, "decay": 3, "tail": 2}
    points = spike_replay.profile(4, phases, 10, 30)
    # A light steady visitor besides: the requests policy has data until the group is back at its
    # floor (every policy must agree to scale in), and nothing may fail.
    answers, stop = [], threading.Event()
    visitor = threading.Thread(target=visit, args=(edge(fleet)["cdn"]["https"] + "/", answers, stop, 0.3))
    visitor.start()
    started = fleet.clock(30)["epoch"]
    try:
        replayed = spike_replay.replay(shop, points, tmp_path / "spike", "target tracking")
        sizes = [s["desired"] for s in replayed["samples"]]
        assert sizes[0] == 3 and max(sizes) == 6, sizes
        # Every new instance boots (at a tenth of a CPU), passes its health checks and serves.
        if max(s["healthy"] for s in replayed["samples"]) < 6:
            wait_for(lambda: list(target_states(fleet).values()).count("healthy") == 6, timeout=300, step=1)
        # At the maximum for 15 minutes: the monitoring role's alarm tells the alert topic.
        alert = wait_for(lambda: next((n for n in fleet.notifications() if n["message"]["AlarmName"] == f"{STACK}-asg-at-max"
                                       and n["message"]["NewStateValue"] == "ALARM"), None), timeout=120, step=1)
        # Quiet again: after 15 minutes under 90 % of the target (and every policy agreeing), the
        # group scales in to its floor; the instances drain first.
        wait_for(lambda: group(fleet)["DesiredCapacity"] == 3, timeout=300, step=1)
        assert cloudwatch.describe_alarms(AlarmNames=[low["AlarmName"]])["MetricAlarms"][0]["StateValue"] == "ALARM"
        wait_for(lambda: fleet_containers(fleet) - standby == {i["InstanceId"] for i in in_service(fleet)}, timeout=120, step=1)
    finally:
        stop.set()
        visitor.join()
        # The minute under way is published once it ends: let it end before slowing the clock.
        ended = fleet.clock()["epoch"]
        wait_for(lambda: fleet.clock()["epoch"] >= (ended // 60 + 1) * 60 + 10, timeout=30, step=0.5)
        fleet.clock(1)
    assert alert["topic"].endswith(f":{STACK}-alerts")
    assert alert["subject"] == f'ALARM: "{STACK}-asg-at-max" in us-east-1'
    assert alert["message"]["OldStateValue"] in ("OK", "INSUFFICIENT_DATA")
    assert "Threshold Crossed: 15 out of the last 15 datapoints" in alert["message"]["NewStateReason"]
    received = [json.loads(m["Body"]) for m in sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10)["Messages"]]
    assert {"AlarmName": f"{STACK}-asg-at-max", "NewStateValue": "ALARM"}.items() <= next(
        m for m in received if m["AlarmName"] == f"{STACK}-asg-at-max").items()
    # Nobody saw a failure: not Locust's shoppers (no 5xx, no timeout), not the visitor.
    assert replayed["requests"] > 1000 and replayed["failed"] == 0, (replayed["requests"], replayed["failures"])
    failed = [a for a in answers if a != 200]
    assert len(answers) > 50 and not failed, (len(answers), failed[:20])
    after = {i["InstanceId"] for i in in_service(fleet)}
    assert len(after) == 3 and fleet_containers(fleet) - standby == after

    # The replay's report: the table and the chart.
    text = spike_replay.report([replayed], {"clock": "30x", "phases": phases}, tmp_path, 30, stem="spike")
    # Billed instances: the six in service at the peak and the patch test's one in standby (running).
    assert max(s["in_service"] for s in replayed["samples"]) == 6
    assert replayed["peak_instances"] == 6 + len(standby)
    row = next(line for line in text.splitlines() if line.startswith("| target tracking |"))
    assert row.split("|")[2].strip() == f"{replayed['requests']:,}", row
    assert row.split("|")[7].strip() == str(replayed["peak_instances"]), row
    assert (tmp_path / "spike.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert json.loads((tmp_path / "spike.json").read_text())["results"][0]["peak_instances"] == replayed["peak_instances"]

    # What CloudWatch recorded meanwhile, as GetMetricStatistics and GetMetricData answer it.
    # From the start of the minute the clock sped up in: CloudWatch's periods begin on the minute.
    window = {"StartTime": datetime.datetime.fromtimestamp(started // 60 * 60, datetime.UTC),
              "EndTime": datetime.datetime.fromtimestamp(ended, datetime.UTC), "Period": 60}

    def points_of(namespace, name, dimensions, statistic):
        found = cloudwatch.get_metric_statistics(Namespace=namespace, MetricName=name, Statistics=[statistic],
                                                 Dimensions=[{"Name": k, "Value": v} for k, v in dimensions.items()],
                                                 **window)["Datapoints"]
        return [p[statistic] for p in found]

    lb = {"LoadBalancer": edge(fleet)["alb_arn"].split(":loadbalancer/")[1]}
    tg = {**lb, "TargetGroup": autoscaling.describe_auto_scaling_groups(AutoScalingGroupNames=[GROUP])[
        "AutoScalingGroups"][0]["TargetGroupARNs"][0].rsplit(":", 1)[1]}
    assert max(points_of("AWS/EC2", "CPUUtilization", {"AutoScalingGroupName": GROUP}, "Average")) > 40
    assert max(points_of("AWS/EC2", "CPUUtilization", {"InstanceId": serving[0]}, "Maximum")) > 60
    # Every page request reached the ALB (the stylesheet comes from the bucket through the CDN).
    assert sum(points_of("AWS/ApplicationELB", "RequestCount", lb, "Sum")) >= replayed["pages"] + len(answers) - 10
    assert sum(points_of("AWS/ApplicationELB", "HTTPCode_Target_2XX_Count", tg, "Sum")) > 0
    assert max(points_of("AWS/ApplicationELB", "HealthyHostCount", tg, "Maximum")) == 6
    assert max(points_of("AWS/AutoScaling", "GroupInServiceInstances", {"AutoScalingGroupName": GROUP}, "Maximum")) == 6
    data = cloudwatch.get_metric_data(StartTime=window["StartTime"], EndTime=window["EndTime"], MetricDataQueries=[
        {"Id": "p95", "MetricStat": {"Metric": {"Namespace": "AWS/ApplicationELB", "MetricName": "TargetResponseTime",
                                                "Dimensions": [{"Name": "LoadBalancer", "Value": lb["LoadBalancer"]}]},
                                     "Period": 60, "Stat": "p95"}}])["MetricDataResults"][0]
    assert data["Values"] and all(0 < v < 20 for v in data["Values"]), data
