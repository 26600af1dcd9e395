"""shop.aws.mysql_app_user's reading of SHOW GRANTS (MySQL 8 and MariaDB spellings)."""

from __future__ import annotations

from ansible_collections.shop.aws.plugins.modules.mysql_app_user import parse_grants

MARIADB = [
    "GRANT USAGE ON *.* TO `shop_app`@`%` IDENTIFIED BY PASSWORD '*2470C0C06DEE42FD1618BB99005ADCA2EC9D1E19' REQUIRE SSL",
    "GRANT SELECT, INSERT, UPDATE, DELETE, CREATE, REFERENCES, INDEX, ALTER ON `shop`.* TO `shop_app`@`%`",
]
MYSQL8 = [
    "GRANT USAGE ON *.* TO `shop_app`@`%`",
    "GRANT SELECT, INSERT, UPDATE, DELETE, CREATE, REFERENCES, INDEX, ALTER ON `shop`.* TO `shop_app`@`%`",
]
WANTED = {"SELECT", "INSERT", "UPDATE", "DELETE", "CREATE", "REFERENCES", "INDEX", "ALTER"}


def test_the_database_privileges_are_read_and_the_bare_account_is_no_grant():
    assert parse_grants(MARIADB, "shop") == (WANTED, [])
    assert parse_grants(MYSQL8, "shop") == (WANTED, [])


def test_grants_elsewhere_are_reported_without_the_password_hash():
    lines = [MARIADB[0].replace("GRANT USAGE", "GRANT PROCESS"), MARIADB[1],
             "GRANT SELECT ON `other`.* TO `shop_app`@`%`", "GRANT SELECT ON `shop`.`orders` TO `shop_app`@`%`",
             "GRANT USAGE ON *.* TO `shop_app`@`%` WITH GRANT OPTION"]
    privileges, others = parse_grants(lines, "shop")
    assert privileges == WANTED
    assert others == ["GRANT PROCESS ON *.* TO `shop_app`@`%` REQUIRE SSL", lines[2], lines[3], lines[4]]


def test_another_database_of_a_similar_name_is_not_the_database():
    assert parse_grants(["GRANT SELECT ON `shop_old`.* TO `shop_app`@`%`"], "shop") == (set(), ["GRANT SELECT ON `shop_old`.* TO `shop_app`@`%`"])
