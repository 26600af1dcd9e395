"""shop-configure's pure parts: what it reads, how it sizes the pool, what it renders."""

import json

import pytest


@pytest.fixture(scope="module")
def sc(plugin):
    return plugin("roles/webstack/files/shop_configure.py")


@pytest.mark.parametrize("text, expected", [
    ("SHOP_STACK=shop-prod\nSHOP_REGION=eu-west-1\n", {"SHOP_STACK": "shop-prod", "SHOP_REGION": "eu-west-1"}),
    ("# comment\n\n; other\nA='quoted value'\nB=\"x=y\"\n", {"A": "quoted value", "B": "x=y"}),
    ("  KEY = value  \n", {"KEY": "value"}),
])
def test_parse_env_file(sc, text, expected):
    assert sc.parse_env_file(text) == expected


@pytest.mark.parametrize("text", ["no equals sign", "1BAD=x", "=value"])
def test_parse_env_file_names_the_bad_line(sc, text):
    with pytest.raises(sc.ConfigureError, match="line 1"):
        sc.parse_env_file(text)


@pytest.mark.parametrize("memory, reserved, child, children, start, max_spare", [
    (1024, 384, 64, 10, 2, 5),        # 1 GiB (t3.micro)
    (2048, 384, 64, 26, 6, 13),       # 2 GiB (t3.small)
    (8192, 384, 64, 122, 30, 61),     # 8 GiB (c6i.xlarge)
    (512, 384, 64, 2, 1, 2),          # 0.5 GiB: the floor of two children
    (300, 384, 64, 2, 1, 2),          # less than the reserve: still two
])
def test_fpm_sizing(sc, memory, reserved, child, children, start, max_spare):
    sizing = sc.fpm_sizing(memory, reserved, child)
    assert sizing["SHOP_FPM_MAX_CHILDREN"] == children
    assert sizing["SHOP_FPM_START_SERVERS"] == sizing["SHOP_FPM_MIN_SPARE_SERVERS"] == start
    assert sizing["SHOP_FPM_MAX_SPARE_SERVERS"] == max_spare
    assert sizing["SHOP_FPM_MIN_SPARE_SERVERS"] < sizing["SHOP_FPM_MAX_SPARE_SERVERS"] <= children


def test_mem_total(sc):
    assert sc.mem_total_mb("MemTotal:        2014572 kB\nMemFree: 1 kB\n") == 1967
    with pytest.raises(sc.ConfigureError):
        sc.mem_total_mb("MemFree: 1 kB\n")


@pytest.mark.parametrize("texts, expected", [
    (["1073741824\n"], 1024),                    # cgroup v1 or v2 limit of 1 GiB
    (["max\n"], None),                           # cgroup v2: no limit
    (["9223372036854771712\n"], None),           # cgroup v1: no limit
    (["max\n", "536870912\n"], 512),
    ([], None),
])
def test_cgroup_limit(sc, texts, expected):
    assert sc.cgroup_limit_mb(texts) == expected


def test_settings_from_parameters_keep_leaf_names(sc):
    parameters = [{"Name": "/shop-prod/app/db-secret-name", "Value": "shop-prod/db"},
                  {"Name": "/shop-prod/app/feature/search", "Value": "on"},
                  {"Name": "/shop-prod/web/ami-id", "Value": "ami-1"}]
    assert sc.settings_from_parameters(parameters, "/shop-prod/app") == {
        "db-secret-name": "shop-prod/db", "feature/search": "on"}


SECRET = {"engine": "mysql", "username": "admin", "password": "p4ss", "host": "db.internal", "port": 3306, "dbname": "shop"}
STACK = {"SHOP_STACK": "shop-prod", "SHOP_REGION": "eu-west-1", "SHOP_SETTINGS_PATH": "/shop-prod/app/"}


@pytest.mark.parametrize("endpoint, cache", [
    ("", {}),
    ("sessions.abc.cache.amazonaws.com:6379", {"host": "sessions.abc.cache.amazonaws.com", "port": 6379}),
    ("redis.internal", {"host": "redis.internal", "port": 6379}),
    ("10.0.3.4:6380", {"host": "10.0.3.4", "port": 6380}),
])
def test_app_config(sc, endpoint, cache):
    settings = {"db-secret-name": "shop-prod/db", "cache-endpoint": endpoint, "static-base-url": "https://d1.cloudfront.net/static",
                "db-ca-bundle-url": "https://truststore.pki.rds.amazonaws.com/eu-west-1/eu-west-1-bundle.pem"}
    config = sc.app_config(STACK, settings, SECRET, "/etc/shop/db-ca-bundle.pem")
    assert config["database"] == {"host": "db.internal", "port": 3306, "name": "shop", "user": "admin", "password": "p4ss",
                                  "ssl_ca": "/etc/shop/db-ca-bundle.pem"}
    assert config["cache"] == cache
    assert config["app"] == {"static_base_url": "https://d1.cloudfront.net/static"}
    assert config["stack"] == "shop-prod" and config["region"] == "eu-west-1"



def test_app_config_of_an_encrypted_cache_carries_tls_the_token_and_the_ca(sc):
    settings = {"db-secret-name": "shop-prod/db", "cache-endpoint": "master.shop-prod-redis.x1.euw1.cache.amazonaws.com:6379",
                "cache-secret-name": "shop-prod/redis-auth", "cache-ca-bundle-url": "https://ca.example/bundle.pem"}
    config = sc.app_config(STACK, settings, SECRET, "", {"token": "t" * 64}, "/etc/shop/cache-ca-bundle.pem")
    assert config["cache"] == {"host": "master.shop-prod-redis.x1.euw1.cache.amazonaws.com", "port": 6379, "tls": True,
                               "auth": "t" * 64, "ca": "/etc/shop/cache-ca-bundle.pem"}
    assert config["app"] == {}
    # A rotation: the next token only once the group accepts it (stage "rotated").
    assert sc.app_config(STACK, settings, SECRET, "", {"token": "a" * 64, "next": "b" * 64})["cache"]["auth"] == "a" * 64
    assert sc.app_config(STACK, settings, SECRET, "", {"token": "a" * 64, "next": "b" * 64, "stage": "rotated"}
                         )["cache"]["auth"] == "b" * 64
    with pytest.raises(sc.ConfigureError, match="the cache secret 'shop-prod/redis-auth' has no token"):
        sc.app_config(STACK, settings, SECRET, "", {"password": "x"})

PEM = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"


def test_the_ca_bundle_is_fetched_and_kept(sc, tmp_path, monkeypatch):
    source = tmp_path / "bundle.pem"
    source.write_text(PEM)
    monkeypatch.setattr(sc, "write_atomic", lambda path, content, mode, group=None: path.write_text(content) or True)
    kept = tmp_path / "db-ca-bundle.pem"
    assert sc.fetch_ca_bundle(source.as_uri(), kept, attempts=1) == str(kept)
    assert kept.read_text() == PEM
    # The URL gone: the copy fetched before serves; without one, the failure names the URL.
    source.unlink()
    assert sc.fetch_ca_bundle(source.as_uri(), kept, attempts=1) == str(kept)
    with pytest.raises(sc.ConfigureError, match=r"fetching the database CA bundle file://.*bundle.pem failed"):
        sc.fetch_ca_bundle(source.as_uri(), tmp_path / "none.pem", attempts=1)


def test_a_ca_bundle_without_a_certificate_is_refused(sc, tmp_path):
    page = tmp_path / "login.html"
    page.write_text("<html>captive portal</html>")
    with pytest.raises(sc.ConfigureError, match="login.html holds no PEM certificate"):
        sc.fetch_ca_bundle(page.as_uri(), tmp_path / "kept.pem", attempts=1)


def test_app_config_names_what_the_secret_lacks(sc):
    with pytest.raises(sc.ConfigureError, match="shop-prod/db.*has no password, host"):
        sc.app_config(STACK, {"db-secret-name": "shop-prod/db"}, {"username": "admin"})


def test_render_agent_config_fills_the_stack_and_keeps_the_agent_placeholders(sc):
    template = json.dumps({"logs": {"group": "/${SHOP_STACK}/web/app", "stream": "{instance_id}"},
                           "dims": {"asg": "${aws:AutoScalingGroupName}"}})
    rendered = json.loads(sc.render_agent_config(template, "shop-prod"))
    assert rendered == {"logs": {"group": "/shop-prod/web/app", "stream": "{instance_id}"},
                        "dims": {"asg": "${aws:AutoScalingGroupName}"}}


def test_render_agent_config_refuses_broken_json(sc):
    with pytest.raises(ValueError):
        sc.render_agent_config('{"a": ${SHOP_STACK}}', "shop-prod")


def test_write_atomic_only_when_changed(sc, tmp_path):
    target = tmp_path / "app.json"
    assert sc.write_atomic(target, "one\n", 0o640) is True
    assert target.read_text() == "one\n" and (target.stat().st_mode & 0o777) == 0o640
    assert sc.write_atomic(target, "one\n", 0o640) is False
    assert sc.write_atomic(target, "two\n", 0o640) is True
    assert [p.name for p in tmp_path.iterdir()] == ["app.json"]


class FakePyMySQL:
    """pymysql's connect and OperationalError as accepted_password uses them: the server takes
    ``accepts``, refuses other passwords with 1045, or cannot be reached (2003)."""

    def __init__(self, accepts: str | None):
        self.accepts, self.tried = accepts, []

        class OperationalError(Exception):
            pass

        self.err = type("err", (), {"OperationalError": OperationalError})

    def connect(self, password: str, **kwargs):
        self.tried.append(password)
        if self.accepts is None:
            raise self.err.OperationalError(2003, "Can't connect to MySQL server")
        if password != self.accepts:
            raise self.err.OperationalError(1045, "Access denied")
        return type("Connection", (), {"close": lambda self: None})()


@pytest.mark.parametrize("accepts, chosen, tried", [
    ("old", "old", ["old"]),  # the rotation has not reached the server: the current one
    ("new", "new", ["old", "new"]),  # the server took the pending one before the secret made it current
    ("other", "old", ["old", "new"]),  # neither: the current one, and the page fails as it would have
    (None, "old", ["old"]),  # the server does not answer: nothing to choose by
])
def test_a_refresh_keeps_the_password_the_server_accepts(sc, monkeypatch, accepts, chosen, tried):
    fake = FakePyMySQL(accepts)
    monkeypatch.setitem(__import__("sys").modules, "pymysql", fake)
    secret = {"host": "db.example", "port": 3306, "username": "shop_admin", "password": "old"}
    assert sc.accepted_password(secret, ["old", "new"], "/etc/shop/db-ca-bundle.pem") == chosen
    assert fake.tried == tried


def test_the_pending_password_is_read_from_its_stage_or_is_none(sc):
    class Secrets:
        exceptions = type("exceptions", (), {"ResourceNotFoundException": type("NotFound", (Exception,), {})})

        def __init__(self, pending):
            self.pending, self.asked = pending, []

        def get_secret_value(self, SecretId, VersionStage):  # noqa: N803 - boto3's names
            self.asked.append((SecretId, VersionStage))
            if self.pending is None:
                raise self.exceptions.ResourceNotFoundException("no AWSPENDING")
            return {"SecretString": json.dumps({"username": "shop_admin", "password": self.pending})}

    staged = Secrets("new")
    assert sc.fetch_pending_password(staged, "shop-local/db") == "new"
    assert staged.asked == [("shop-local/db", "AWSPENDING")]
    assert sc.fetch_pending_password(Secrets(None), "shop-local/db") == ""
