"""A local test PKI for C2PA signing: root CA, intermediate CA, signer (``aigc-tag keys init``).

The profile is the one c2pa-rs accepts (``certificate_profile.rs``): X.509 v3; CAs with
BasicConstraints CA:TRUE, keyCertSign+cRLSign and a SubjectKeyIdentifier; the signer a non-CA
with an AuthorityKeyIdentifier, KeyUsage digitalSignature only and the **emailProtection** EKU
(the only signing EKU on c2pa-rs's default list). The chain file is leaf first, then the
intermediate; the root stays with verifiers (``trust.user_anchors``).

These certificates are for testing and internal pipelines. For production, sign with a
certificate from a CA on the C2PA trust list and a timestamp authority (``--tsa``).
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass
from pathlib import Path

from ..errors import AigcTagError

__all__ = ["ALGORITHMS", "TestPKI", "init_keys"]

#: Key types ``keys init`` can make, by the C2PA algorithm name they sign with.
ALGORITHMS = ("es256", "es384", "ps256", "ed25519")
FILES = ("root.pem", "root.key", "intermediate.pem", "intermediate.key", "signer.pem",
         "signer.key", "chain.pem")  # fmt: skip


@dataclass(frozen=True)
class TestPKI:
    """Where ``init_keys`` wrote each piece."""

    directory: Path
    alg: str
    root_cert: Path
    chain: Path
    signer_key: Path
    signer_cert: Path

    __test__ = False  # not a pytest class


def _new_key(alg: str):
    from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

    if alg == "es256":
        return ec.generate_private_key(ec.SECP256R1())
    if alg == "es384":
        return ec.generate_private_key(ec.SECP384R1())
    if alg == "ps256":
        return rsa.generate_private_key(public_exponent=65537, key_size=2048)
    if alg == "ed25519":
        return ed25519.Ed25519PrivateKey.generate()
    raise AigcTagError(f"unknown key algorithm {alg!r}; use one of {', '.join(ALGORITHMS)}")


def _name(org: str, cn: str):
    from cryptography import x509
    from cryptography.x509.oid import NameOID

    return x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, org),
            x509.NameAttribute(NameOID.COMMON_NAME, cn),
        ]
    )


def _cert(key, subject, issuer_key, issuer, *, ca: bool, days: int, now: dt.datetime):
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ed25519
    from cryptography.x509.oid import ExtendedKeyUsageOID

    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key.public_key()),
            critical=False,
        )
        .add_extension(
            x509.KeyUsage(
                digital_signature=not ca,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=ca,
                crl_sign=ca,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )  # fmt: skip
    )
    if not ca:
        builder = builder.add_extension(
            x509.ExtendedKeyUsage([ExtendedKeyUsageOID.EMAIL_PROTECTION]), critical=False
        )
    digest = None if isinstance(issuer_key, ed25519.Ed25519PrivateKey) else hashes.SHA256()
    return builder.sign(issuer_key, digest)


def _write(path: Path, data: bytes, *, secret: bool) -> None:
    """Create ``path`` with mode 0600 (keys) or 0644 from the start: no window where a key
    is readable by others."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC
    fd = os.open(path, flags, 0o600 if secret else 0o644)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
    os.chmod(path, 0o600 if secret else 0o644)


def init_keys(
    directory: str | Path,
    *,
    alg: str = "es256",
    organization: str = "aigc-tag test",
    signer_name: str = "aigc-tag test signer",
    days: int = 365,
    force: bool = False,
) -> TestPKI:
    """Make ``root.pem/.key``, ``intermediate.pem/.key``, ``signer.pem/.key`` and ``chain.pem``
    (signer + intermediate) in ``directory``. Keys are PKCS#8 PEM, unencrypted, mode 0600.

    Refuses to overwrite an existing PKI unless ``force``.
    """
    from cryptography.hazmat.primitives import serialization

    alg = alg.lower()
    if alg not in ALGORITHMS:
        raise AigcTagError(f"unknown key algorithm {alg!r}; use one of {', '.join(ALGORITHMS)}")
    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    existing = [name for name in FILES if (out / name).exists()]
    if existing and not force:
        raise AigcTagError(
            f"{out}: already holds {', '.join(existing)}; refusing to overwrite keys (use --force)"
        )
    now = dt.datetime.now(dt.timezone.utc)
    root_key, inter_key, leaf_key = _new_key(alg), _new_key(alg), _new_key(alg)
    root_name = _name(organization, f"{organization} Root CA")
    inter_name = _name(organization, f"{organization} Intermediate CA")
    root = _cert(root_key, root_name, root_key, root_name, ca=True, days=3650, now=now)
    inter = _cert(inter_key, inter_name, root_key, root_name, ca=True, days=1825, now=now)
    leaf = _cert(
        leaf_key, _name(organization, signer_name), inter_key, inter_name, ca=False, days=days,
        now=now,
    )  # fmt: skip

    def pem(cert) -> bytes:
        return cert.public_bytes(serialization.Encoding.PEM)

    def key_pem(key) -> bytes:
        return key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )

    _write(out / "root.pem", pem(root), secret=False)
    _write(out / "root.key", key_pem(root_key), secret=True)
    _write(out / "intermediate.pem", pem(inter), secret=False)
    _write(out / "intermediate.key", key_pem(inter_key), secret=True)
    _write(out / "signer.pem", pem(leaf), secret=False)
    _write(out / "signer.key", key_pem(leaf_key), secret=True)
    _write(out / "chain.pem", pem(leaf) + pem(inter), secret=False)
    return TestPKI(
        directory=out,
        alg=alg,
        root_cert=out / "root.pem",
        chain=out / "chain.pem",
        signer_key=out / "signer.key",
        signer_cert=out / "signer.pem",
    )
