# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""How the MySQL migration modules reach a server (module_utils/mysql_migration_db.SERVER_SPEC)."""


class ModuleDocFragment:
    # The source and the target of a migration.
    DOCUMENTATION = r"""
options:
  source:
    description: The source server.
    type: dict
    required: true
    suboptions: &server
      host:
        description: Host name or address.
        type: str
        required: true
      port:
        description: TCP port.
        type: int
        default: 3306
      user:
        description: Account to connect as.
        type: str
        required: true
      password:
        description: The account's password.
        type: str
        required: true
      ssl_ca:
        description:
          - CA bundle that the server's certificate must chain to (for RDS, its global bundle).
          - Without it or I(ssl_ca_pem) the connection is not encrypted.
        type: path
      ssl_ca_pem:
        description:
          - The CA bundle itself, PEM; the connection is encrypted and the server's certificate and name verified.
          - Wins over I(ssl_ca).
        type: str
      connect_timeout:
        description: Seconds to wait for the connection.
        type: int
        default: 10
  target:
    description: The target server (the RDS instance).
    type: dict
    required: true
    suboptions: *server
"""

    # The account a replica target replicates with.
    REPLICATION = r"""
options:
  replication:
    description: The account the target replicates with (I(mode=replication)), at the source's address as the target reaches it.
    type: dict
    suboptions:
      host:
        description: Host name or address the target reaches the source at.
        type: str
        required: true
      port:
        description: TCP port.
        type: int
        default: 3306
      user:
        description: Replication account.
        type: str
        required: true
      password:
        description: The account's password.
        type: str
        required: true
      ssl_ca:
        description: CA bundle that the source's certificate must chain to.
        type: path
      ssl_ca_pem:
        description: The CA bundle itself, PEM (wins over I(ssl_ca)).
        type: str
      connect_timeout:
        description: Seconds to wait for the connection.
        type: int
        default: 10
"""

    # The administrative account another account is managed with (the instance's master user).
    # Its suboptions repeat DOCUMENTATION's: ansible-test's sanity reads fragments as string
    # literals only, so they cannot be composed, and YAML anchors do not reach across strings.
    ADMIN = r"""
options:
  login:
    description: The account the module connects as to manage another one (on RDS, the master user).
    type: dict
    required: true
    suboptions:
      host:
        description: Host name or address.
        type: str
        required: true
      port:
        description: TCP port.
        type: int
        default: 3306
      user:
        description: Account to connect as.
        type: str
        required: true
      password:
        description: The account's password.
        type: str
        required: true
      ssl_ca:
        description:
          - CA bundle that the server's certificate must chain to (for RDS, its global bundle).
          - Without it or I(ssl_ca_pem) the connection is not encrypted.
        type: path
      ssl_ca_pem:
        description:
          - The CA bundle itself, PEM; the connection is encrypted and the server's certificate and name verified.
          - Wins over I(ssl_ca).
        type: str
      connect_timeout:
        description: Seconds to wait for the connection.
        type: int
        default: 10
"""
