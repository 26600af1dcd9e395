"""The web host as the role left it, after the user data ran shop-configure."""

import json
import re
import uuid

import boto3
import pytest
from conftest import EMULATOR, STACK

# Tests talk to nginx on the host's loopback (the containers share the host's network).
URL = "http://127.0.0.1"


def curl(host, path="/", *options):
    """Status and body of a request made inside the web container."""
    result = host.run(f"curl -s -o /tmp/curl.body -w '%{{http_code}}' {' '.join(options)} '{URL}{path}'")
    assert result.rc == 0, result.stderr
    return int(result.stdout), host.file("/tmp/curl.body").content_string


@pytest.mark.parametrize("service", ["nginx", "php8.2-fpm", "shop-configure"])
def test_services_running_and_enabled(web, service):
    unit = web.service(service)
    assert unit.is_enabled
    assert unit.is_running or web.run(f"systemctl is-active {service}").stdout.strip() == "active"


def test_chrony_enabled_with_amazon_time_sync(web):
    assert web.service("chrony").is_enabled
    sources = web.file("/etc/chrony/sources.d/aws.sources")
    assert re.search(r"^server 169\.254\.169\.123 prefer iburst", sources.content_string, re.M)


def test_nginx_configuration_is_valid(web):
    result = web.run("nginx -t")
    assert result.rc == 0, result.stderr
    assert "syntax is ok" in result.stderr


def test_no_ssh_server(web):
    assert not web.package("openssh-server").is_installed
    assert not web.socket("tcp://0.0.0.0:22").is_listening


def test_unattended_security_updates(web):
    assert web.package("unattended-upgrades").is_installed
    assert 'Unattended-Upgrade "1"' in web.file("/etc/apt/apt.conf.d/20auto-upgrades").content_string


def test_release_is_current_and_atomic_symlink(web):
    current = web.file("/srv/shop/current")
    assert current.is_symlink
    assert current.linked_to == "/srv/shop/releases/1.0.0-molecule"
    assert web.file("/srv/shop/current/public/index.php").exists
    assert not web.file("/srv/shop/releases/1.0.0-molecule.partial").exists


def test_boot_unit_rendered_the_settings(web, secret):
    config_file = web.file("/etc/shop/app.json")
    assert config_file.user == "root"
    assert config_file.group == "www-data"
    assert config_file.mode == 0o640
    config = json.loads(config_file.content_string)
    assert config["stack"] == "shop-molecule"
    # No db-ca-bundle-url setting in this scenario: no CA bundle, so no TLS (ssl_ca empty).
    assert config["database"] == {"host": secret["host"], "port": secret["port"], "name": secret["dbname"],
                                  "user": secret["username"], "password": secret["password"], "ssl_ca": ""}
    assert config["cache"] == {"host": "127.0.0.1", "port": 6379}
    assert config["app"]["static_base_url"] == "/static"


def test_boot_unit_rendered_the_cloudwatch_agent_config(web):
    config = json.loads(web.file("/opt/aws/amazon-cloudwatch-agent/etc/amazon-cloudwatch-agent.json").content_string)
    groups = {item["log_group_name"] for item in config["logs"]["logs_collected"]["files"]["collect_list"]}
    assert groups == {"/shop-molecule/web/nginx-access", "/shop-molecule/web/nginx-error",
                      "/shop-molecule/web/php-fpm", "/shop-molecule/web/app"}
    assert "mem_used_percent" in config["metrics"]["metrics_collected"]["mem"]["measurement"]


def test_pool_sized_from_the_instance_memory(web):
    # The container has 1 GiB: (1024 - 384 reserved) // 64 per child = 10 children.
    env = web.file("/run/shop/fpm.env").content_string
    assert "SHOP_FPM_MAX_CHILDREN=10\n" in env
    children = web.run("pgrep -c -f 'php-fpm: pool shop'")
    assert 1 <= int(children.stdout) <= 10


def test_bursts_of_more_requests_than_children_are_all_answered(web):
    # Three times the pool's children at once, twice: nginx must not keep idle FastCGI
    # connections that pin the children (the second burst then waited 60 s for a child: 504).
    burst = ("seq 1 30 | xargs -P 30 -I{} curl -s -o /dev/null -m 10 -w '%{http_code}\\n' "
             f"{URL}/")
    for _ in range(2):
        result = web.run(burst)
        codes = result.stdout.split()
        assert len(codes) == 30 and set(codes) == {"200"}, {code: codes.count(code) for code in set(codes)}


def test_shop_lists_the_products_from_the_database(web, db, secret):
    sku, name = f"T-{uuid.uuid4().hex[:8]}", f"Promo item {uuid.uuid4().hex[:6]}"
    insert = db.run("mysql -u root shop -e %s",
                    f"INSERT INTO products (sku, name, price_cents) VALUES ('{sku}', '{name}', 4200)")
    assert insert.rc == 0, insert.stderr
    try:
        status, body = curl(web, "/")
        assert status == 200
        assert name in body and "42.00" in body
        assert body.count('class="product"') >= 4
    finally:
        db.run("mysql -u root shop -e %s", f"DELETE FROM products WHERE sku = '{sku}'")


def test_cart_lives_in_the_session_in_redis(web, db):
    web.run("rm -f /tmp/cookies")
    status, _ = curl(web, "/", "-c /tmp/cookies -b /tmp/cookies -d sku=MUG-001")
    assert status == 303
    status, body = curl(web, "/", "-c /tmp/cookies -b /tmp/cookies")
    assert status == 200
    assert "MUG-001 x 1" in body
    session_id = re.search(r"shop_session\s+(\S+)", web.file("/tmp/cookies").content_string).group(1)
    stored = db.run("redis-cli GET PHPREDIS_SESSION:%s", session_id)
    assert "MUG-001" in stored.stdout


def test_health_follows_the_database(web, db):
    status, body = curl(web, "/health")
    assert status == 200 and json.loads(body)["database"] == "up"
    assert db.run("systemctl stop mariadb").rc == 0
    try:
        status, body = curl(web, "/health")
        assert status == 503 and json.loads(body)["database"] == "down"
    finally:
        assert db.run("systemctl start mariadb").rc == 0
    status, _ = curl(web, "/health")
    assert status == 200


def test_real_client_ip_only_from_trusted_proxies(web):
    marker = uuid.uuid4().hex
    # From the trusted network (the loopback here, the VPC on AWS): the forwarded address is the client.
    curl(web, f"/?trusted={marker}", "-H 'X-Forwarded-For: 203.0.113.7'")
    # From elsewhere (the host's own address, outside the trusted CIDRs): the header is ignored.
    address = web.run("ip -4 -o addr show scope global | awk '{print $4}' | cut -d/ -f1 | head -1").stdout.strip()
    assert address, "no non-loopback address to test an untrusted client from"
    web.run(f"curl -s -o /dev/null -H 'X-Forwarded-For: 198.51.100.9' 'http://{address}/?untrusted={marker}'")
    entries = [json.loads(line) for line in web.file("/var/log/nginx/access.log").content_string.splitlines()
               if marker in line]
    by_query = {entry["uri"].split("=")[0]: entry for entry in entries}
    assert by_query["/?trusted"]["client"] == "203.0.113.7"
    assert by_query["/?trusted"]["proxy"] == "127.0.0.1"
    assert by_query["/?untrusted"]["client"] == address


def test_php_files_other_than_the_front_controller_are_hidden(web):
    status, _ = curl(web, "/../lib/bootstrap.php")
    assert status == 404
    status, _ = curl(web, "/health.php")
    assert status == 404


def test_a_rotated_password_is_read_again_and_the_page_served(web, db, secret):
    """The server takes a new password: the first page it refuses has shop-configure re-read the
    secret (through shop-credentials.socket), the pending version as well as the current one, and
    connects once more. Then the same back to the first password."""
    client = boto3.client("secretsmanager", endpoint_url=EMULATOR, region_name="us-east-1",
                          aws_access_key_id="testing", aws_secret_access_key="testing")
    name = f"{STACK}/db"
    first = client.describe_secret(SecretId=name)
    current = next(v for v, stages in first["VersionIdsToStages"].items() if "AWSCURRENT" in stages)
    rotated = {**secret, "password": uuid.uuid4().hex}
    pending = str(uuid.uuid4())

    def set_server_password(password: str) -> None:
        done = db.run("mysql -u root -e %s", f"ALTER USER '{secret['username']}'@'127.0.0.1' IDENTIFIED BY '{password}'")
        assert done.rc == 0, done.stderr

    def database_password() -> str:
        return json.loads(web.run("cat /etc/shop/app.json").stdout)["database"]["password"]

    # A rotation between its steps: the server has the pending password, the secret's current is the old one.
    client.put_secret_value(SecretId=name, ClientRequestToken=pending, SecretString=json.dumps(rotated),
                            VersionStages=["AWSPENDING"])
    set_server_password(rotated["password"])
    try:
        status, body = curl(web, "/")
        assert status == 200 and 'class="product"' in body, body[-500:]
        assert database_password() == rotated["password"]
        assert "the database takes the pending password" in web.run("journalctl --no-pager -o cat -u 'shop-credentials@*'").stdout
    finally:  # back: the first password on the server and current, no pending version
        set_server_password(secret["password"])
        client.update_secret_version_stage(SecretId=name, VersionStage="AWSPENDING", RemoveFromVersionId=pending)
    status, _ = curl(web, "/")
    assert status == 200 and database_password() == secret["password"]
    assert current in client.describe_secret(SecretId=name)["VersionIdsToStages"]
