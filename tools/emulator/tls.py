"""The emulator's certificate authority: the stand-in for the CAs AWS's TLS endpoints chain to.

On AWS a client of RDS verifies the server against RDS's certificate bundle of the region
(RDS User Guide, "Using SSL/TLS to encrypt a connection to a DB instance or cluster": the
bundles at https://truststore.pki.rds.amazonaws.com). Here one authority, made when the emulator
starts, signs the certificate of every stand-in server the fleet runs, under the host name the
API returns for it; ``GET /_emulator/tls/ca.pem`` serves its certificate, the bundle a client of
the local stack trusts (inventories/local: database_ca_bundle_url).
"""

from __future__ import annotations

import datetime
import ipaddress
import threading

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

VALID_DAYS = 365
# Where a MariaDB stand-in keeps its CA, certificate and key, and the settings that use them.
MARIADB_DIR = "/etc/mysql/tls"
MARIADB_SETTINGS = (f"ssl_ca={MARIADB_DIR}/ca.pem\nssl_cert={MARIADB_DIR}/server.pem\n"
                    f"ssl_key={MARIADB_DIR}/server-key.pem\n")


def mariadb_install(file_name: str) -> str:
    """The shell command that writes its standard input as ``file_name`` of MARIADB_DIR, readable
    by MariaDB only."""
    return (f"install -d -o mysql -m 0750 {MARIADB_DIR} && umask 077 && cat > {MARIADB_DIR}/{file_name} "
            f"&& chown mysql {MARIADB_DIR}/{file_name}")


class Authority:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self._key = None
        self._certificate = None

    def _ensure(self) -> None:
        with self.lock:
            if self._certificate is not None:
                return
            key = ec.generate_private_key(ec.SECP256R1())
            name = x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "shop emulator"),
                              x509.NameAttribute(NameOID.COMMON_NAME, "shop emulator CA")])
            now = datetime.datetime.now(datetime.UTC)
            self._certificate = (
                x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
                .serial_number(x509.random_serial_number())
                .not_valid_before(now - datetime.timedelta(minutes=5))
                .not_valid_after(now + datetime.timedelta(days=VALID_DAYS))
                .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
                .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                             content_commitment=False, key_encipherment=False,
                                             data_encipherment=False, key_agreement=False,
                                             encipher_only=False, decipher_only=False), critical=True)
                .sign(key, hashes.SHA256()))
            self._key = key

    def ca_pem(self) -> str:
        self._ensure()
        return self._certificate.public_bytes(serialization.Encoding.PEM).decode()

    def mariadb_files(self, hostname: str) -> dict[str, str]:
        """The files of MARIADB_DIR for a server reached as ``hostname``: file name -> PEM."""
        certificate, key = self.issue(hostname)
        return {"ca.pem": self.ca_pem(), "server.pem": certificate, "server-key.pem": key}

    def issue(self, hostname: str, *others: str) -> tuple[str, str]:
        """A server certificate for ``hostname`` (a name, or an IP address), and ``others`` as
        further subject names, and its key, both PEM."""
        self._ensure()
        key = ec.generate_private_key(ec.SECP256R1())
        now = datetime.datetime.now(datetime.UTC)
        certificate = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, hostname[:64])]))
            .issuer_name(self._certificate.subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=VALID_DAYS))
            .add_extension(x509.SubjectAlternativeName([_subject_name(n) for n in (hostname, *others)]), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .sign(self._key, hashes.SHA256()))
        key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
                                    serialization.NoEncryption()).decode()
        return certificate.public_bytes(serialization.Encoding.PEM).decode(), key_pem


def _subject_name(hostname: str) -> x509.GeneralName:
    try:
        return x509.IPAddress(ipaddress.ip_address(hostname))
    except ValueError:
        return x509.DNSName(hostname)


AUTHORITY = Authority()
