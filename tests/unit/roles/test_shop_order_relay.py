"""shop-order-relay's connection (roles/webstack/files/shop_order_relay.py): a password the
database refuses has the credentials refreshed through the socket and app.json read again."""

import json
import socket
import sys
import threading

import pytest


class Refused(Exception):
    """pymysql.err.OperationalError as the relay reads it: args[0] is MySQL's error number."""


@pytest.fixture
def relay(monkeypatch, plugin):
    accepted: dict = {"password": "new"}
    tried: list[str] = []

    def connect(password, **kwargs):
        tried.append(password)
        if password != accepted["password"]:
            raise Refused(1045, "Access denied")
        return "connection"

    fake = type("pymysql", (), {"connect": staticmethod(connect), "err": type("err", (), {"OperationalError": Refused})})
    monkeypatch.setitem(sys.modules, "pymysql", fake)
    module = plugin("roles/webstack/files/shop_order_relay.py")
    return module, accepted, tried


def write_config(path, password: str) -> None:
    path.write_text(json.dumps({"database": {"host": "db", "port": 3306, "user": "shop_admin", "password": password,
                                             "name": "shop", "ssl_ca": ""}}))


def test_a_refused_password_is_refreshed_through_the_socket_and_tried_once_more(relay, tmp_path):
    module, _accepted, tried = relay
    config = tmp_path / "app.json"
    write_config(config, "old")
    # shop-credentials.socket's part: the refresh rewrites app.json, then closes the connection.
    path = str(tmp_path / "credentials.sock")
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(path)
    server.listen(1)

    def refresh_once():
        connection, _address = server.accept()
        write_config(config, "new")
        connection.close()

    worker = threading.Thread(target=refresh_once)
    worker.start()
    try:
        assert module.open_database(config, refresh=lambda: module.refresh_credentials(path)) == "connection"
    finally:
        worker.join(timeout=10)
        server.close()
    assert tried == ["old", "new"]


def test_a_password_refused_after_the_refresh_fails_and_another_error_is_not_a_refresh(relay, tmp_path):
    module, accepted, tried = relay
    config = tmp_path / "app.json"
    write_config(config, "old")
    accepted["password"] = "neither"
    refreshed = []
    with pytest.raises(Refused):
        module.open_database(config, refresh=lambda: refreshed.append(True))
    assert tried == ["old", "old"] and refreshed == [True]  # one refresh, one more try, no loop

    def unreachable(password, **kwargs):
        raise Refused(2003, "Can't connect to MySQL server")

    sys.modules["pymysql"].connect = staticmethod(unreachable)
    with pytest.raises(Refused):
        module.open_database(config, refresh=lambda: refreshed.append(True))
    assert refreshed == [True]
