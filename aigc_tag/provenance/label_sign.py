"""Integrity of the label itself: TC260-PG-202511A ``SecurityData`` (docs/label-signature.md).

A producer signs the three production elements of its Annex E record, the ASCII message of the
guide's appendix A.1 (as MiniMax ships it)::

    "Label":"1","ContentProducer":"<producer>","ProduceID":"<id>"

with SM3withSM2 (OID 1.2.156.10197.1.501, default user ID ``1234567812345678``; the pure-Python
``gmssl`` package, extra ``sm``) or ECDSA P-256 with SHA-256 (OID 1.2.840.10045.4.3.2;
``cryptography``), and stores a ``SecurityData`` object (a ``DS`` signature entry and a
``PubKey`` entry, optionally a ``Cert`` entry) in ``ReservedCode1``, base64-encoded so the value
stays in the Annex E j) character set. A propagator's ``SecurityData`` sits in
``ReservedCode2`` and signs ``"Label":…,"ContentPropagator":…,"PropagateID":…``.

Only label fields are bound, never the content bytes: a whole label (with its SecurityData)
moved onto other content still verifies; a ``SecurityData`` moved onto another label, or a label
edited by hand, does not. Reading is lenient (raw or base64 JSON, with or without the
``SecurityData`` wrapper, ``PubSD``/``PubSd``, MiniMax's ``LabelMataData``); a signature is
checked against the key it embeds and, when given, against pinned keys.

Private keys stay in memory: they never appear in a message, a ``repr`` or a report.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import SigningError
from ..label import AIGCLabel

__all__ = [
    "ECDSA_SHA256",
    "SM2_DEFAULT_ID",
    "SM3_WITH_SM2",
    "LabelSigner",
    "PublicKey",
    "SignatureCheck",
    "generate_key",
    "label_message",
    "load_public_keys",
    "parse_security_data",
    "verify_label",
]

SM3_WITH_SM2 = "1.2.156.10197.1.501"
ECDSA_SHA256 = "1.2.840.10045.4.3.2"
SM2_DEFAULT_ID = "1234567812345678"  # GB/T 35276: the ID gmssl (and OpenSSL's default) uses
ALGS = {"sm2": SM3_WITH_SM2, "p256": ECDSA_SHA256}
_ALG_NAMES = {"sm2": "SM2", "p256": "ECDSA P-256"}
GENERATOR = "aigc-tag"

#: Fields each slot signs (appendix A.1 for the producer; the same shape for a propagator).
SIGNED_FIELDS = {
    "ReservedCode1": ("Label", "ContentProducer", "ProduceID"),
    "ReservedCode2": ("Label", "ContentPropagator", "PropagateID"),
}
_LABEL_TBS = {"md", "labelmatadata", "labelmetadata", "label"}
_BINDING_TBS = {"bnd", "binding", "bindings"}
MAX_VALUE_CHARS = 64 * 1024  # a SecurityData is < 4 kB; anything larger is not read
MAX_ENTRIES = 32

# SM2 curve (GB/T 32918.5); p = 3 (mod 4), so square roots are a single power.
_P = int("FFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF00000000FFFFFFFFFFFFFFFF", 16)
_N = int("FFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFF7203DF6B21C6052B53BBF40939D54123", 16)
_A = _P - 3
_B = int("28E9FA9E9D9F5E344D5A9E4BCF6509A7F39789F515AB8F92DDBCBD414D940E93", 16)
# SubjectPublicKeyInfo prefix of an uncompressed SM2 key: id-ecPublicKey + curve 1.2.156.10197.1.301
_SM2_SPKI_PREFIX = bytes.fromhex("3059301306072a8648ce3d020106082a811ccf5501822d03420004")
_SM2_CURVE_OID_DER = bytes.fromhex("06082a811ccf5501822d")


def label_message(label: AIGCLabel | Mapping[str, str], *, slot: str = "ReservedCode1") -> bytes:
    """The signed message for ``slot``: ``"Label":"1","ContentProducer":"…","ProduceID":"…"``.

    Values are JSON strings (``"`` and ``\\`` escaped, non-ASCII kept as UTF-8); Annex E values
    are printable ASCII without either, so the message is the plain ASCII string of A.1."""
    fields = label.as_dict() if isinstance(label, AIGCLabel) else label
    parts = [
        f'"{key}":{json.dumps(str(fields.get(key, "")), ensure_ascii=False)}'
        for key in SIGNED_FIELDS[slot]
    ]
    return ",".join(parts).encode("utf-8")


# --- keys -----------------------------------------------------------------------------------


def _gmssl_sm2():
    try:
        from gmssl import sm2
    except ImportError as exc:
        raise SigningError(
            f"SM2 needs the gmssl package (pip install 'aigc-tag[sm]'): {exc}"
        ) from None
    return sm2


def _on_sm2_curve(x: int, y: int) -> bool:
    return 0 <= x < _P and 0 <= y < _P and (y * y - (x * x * x + _A * x + _B)) % _P == 0


def _sm2_lift_x(x: int) -> list[tuple[int, int]]:
    """Both points with abscissa ``x`` (MiniMax ships a bare, 00-padded x coordinate)."""
    rhs = (x * x * x + _A * x + _B) % _P
    y = pow(rhs, (_P + 1) // 4, _P)
    if y * y % _P != rhs:
        return []
    return [(x, y), (x, _P - y)] if y else [(x, 0)]


@dataclass(frozen=True)
class PublicKey:
    """A label-signing public key: ``alg`` ``sm2`` or ``p256`` and its SubjectPublicKeyInfo DER.

    ``subject`` is the certificate subject when the key came from an X.509 certificate."""

    alg: str
    spki: bytes
    subject: str | None = None

    @property
    def fingerprint(self) -> str:
        """``sha256:`` + the hex SHA-256 of the SubjectPublicKeyInfo DER (``openssl pkey -pubin
        -outform DER | sha256sum``)."""
        return "sha256:" + hashlib.sha256(self.spki).hexdigest()

    def describe(self) -> str:
        name = f"{_ALG_NAMES[self.alg]} key {self.fingerprint}"
        return f"{self.subject} ({name})" if self.subject else name

    def pem(self) -> str:
        body = base64.encodebytes(self.spki).decode("ascii").replace("\n", "")
        lines = [body[i : i + 64] for i in range(0, len(body), 64)]
        return "-----BEGIN PUBLIC KEY-----\n" + "\n".join(lines) + "\n-----END PUBLIC KEY-----\n"

    def same_key(self, other: PublicKey) -> bool:
        return self.spki == other.spki

    @classmethod
    def sm2_point(cls, x: int, y: int) -> PublicKey:
        if not _on_sm2_curve(x, y):
            raise SigningError("SM2 public key is not a point on the SM2 curve")
        return cls("sm2", _SM2_SPKI_PREFIX + x.to_bytes(32, "big") + y.to_bytes(32, "big"))

    @classmethod
    def from_spki(cls, der: bytes, *, subject: str | None = None) -> PublicKey:
        """From SubjectPublicKeyInfo DER: SM2 (by its curve OID) or P-256."""
        if der.startswith(_SM2_SPKI_PREFIX) and len(der) == len(_SM2_SPKI_PREFIX) + 64:
            x, y = der[-64:-32], der[-32:]
            return cls.sm2_point(int.from_bytes(x, "big"), int.from_bytes(y, "big"))
        from cryptography.hazmat.primitives.asymmetric import ec
        from cryptography.hazmat.primitives.serialization import load_der_public_key

        try:
            key = load_der_public_key(der)
        except Exception as exc:  # noqa: BLE001 - UnsupportedAlgorithm is no ValueError
            raise SigningError(f"not a usable public key: {type(exc).__name__}") from None
        if not isinstance(key, ec.EllipticCurvePublicKey) or key.curve.name != "secp256r1":
            raise SigningError("label signatures use SM2 or ECDSA P-256 keys only")
        return cls("p256", _spki_der(key), subject)

    def verify(self, message: bytes, signature: bytes) -> bool:
        """True when ``signature`` (DER, or raw 64-byte r||s) is valid for ``message``."""
        rs = _decode_signature(signature)
        if rs is None:
            return False
        if self.alg == "sm2":
            return _sm2_verify(self.spki[len(_SM2_SPKI_PREFIX) :], message, *rs)
        from cryptography.exceptions import InvalidSignature
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import ec
        from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
        from cryptography.hazmat.primitives.serialization import load_der_public_key

        key = load_der_public_key(self.spki)
        try:
            key.verify(encode_dss_signature(*rs), message, ec.ECDSA(hashes.SHA256()))  # type: ignore[union-attr, call-arg]
        except InvalidSignature:
            return False
        return True


def _spki_der(public_key) -> bytes:  # noqa: ANN001 - a cryptography public key
    from cryptography.hazmat.primitives import serialization

    return public_key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def _decode_signature(signature: bytes) -> tuple[int, int] | None:
    """(r, s) from DER ``SEQUENCE {INTEGER r, INTEGER s}`` or raw 64-byte r||s."""
    from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

    try:
        r, s = decode_dss_signature(signature)
    except ValueError:
        if len(signature) != 64:
            return None
        r, s = int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big")
    return (r, s) if 0 < r < 2**256 and 0 < s < 2**256 else None


def _encode_signature(r: int, s: int) -> bytes:
    from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

    return encode_dss_signature(r, s)


def _sm2_engine(private_hex: str | None, point: bytes):
    sm2 = _gmssl_sm2()
    engine = sm2.CryptSM2(private_key=private_hex, public_key="00")
    # Set after construction: gmssl's constructor strips a leading "04" with lstrip("04"),
    # which also eats the key's own leading 0/4 digits.
    engine.public_key = point.hex()
    return engine


def _sm2_verify(point: bytes, message: bytes, r: int, s: int) -> bool:
    if not (0 < r < _N and 0 < s < _N) or (r + s) % _N == 0:
        return False
    try:
        return bool(_sm2_engine(None, point).verify_with_sm3(f"{r:064x}{s:064x}", message))
    except (TypeError, ValueError, IndexError):  # gmssl on a degenerate point
        return False


def _sm2_public(d: int) -> bytes:
    sm2 = _gmssl_sm2()
    engine = sm2.CryptSM2(private_key=f"{d:064x}", public_key="00")
    return bytes.fromhex(engine._kg(d, sm2.default_ecc_table["g"]))  # gmssl has no keygen API


def _sm2_sign(d: int, point: bytes, message: bytes) -> bytes:
    engine = _sm2_engine(f"{d:064x}", point)
    while True:
        # gmssl's own nonce comes from random.choice (not a CSPRNG): pass one from secrets.
        k = secrets.randbelow(_N - 1) + 1
        out = engine.sign_with_sm3(message, f"{k:064x}")
        if out:
            return _encode_signature(int(out[:64], 16), int(out[64:], 16))


_PEM_RE = re.compile(rb"-----BEGIN ([A-Z0-9 ]+)-----(.*?)-----END \1-----", re.S)


def _pem_blocks(data: bytes) -> list[tuple[str, bytes]]:
    out = []
    for kind, body in _PEM_RE.findall(data):
        try:
            out.append((kind.decode(), base64.b64decode(b"".join(body.split()), validate=True)))
        except (binascii.Error, ValueError):
            continue
    return out


def _sm2_private_from_der(der: bytes) -> int | None:
    """d from an SM2 PKCS#8 or SEC1 key (``openssl genpkey ... ec_paramgen_curve:SM2``): the
    SEC1 ``ECPrivateKey`` starts ``02 01 01 04 20 <d>``."""
    if _SM2_CURVE_OID_DER not in der:
        return None
    at = der.find(bytes.fromhex("0201010420"))
    if at < 0 or len(der) < at + 37:
        return None
    return int.from_bytes(der[at + 5 : at + 37], "big")


def _load_private(data: bytes) -> tuple[str, object]:
    """(alg, key): an SM2 hex private key (gmssl's form) or PEM; a P-256 PEM key."""
    text = data.strip()
    if re.fullmatch(rb"(0x)?[0-9a-fA-F]{64}", text):
        return "sm2", int(text.removeprefix(b"0x"), 16)
    blocks = _pem_blocks(data)
    for kind, der in blocks:
        if "PRIVATE KEY" in kind:
            d = _sm2_private_from_der(der)
            if d is not None:
                return "sm2", d
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.hazmat.primitives.serialization import load_pem_private_key

    try:
        key = load_pem_private_key(data, password=None)
    except Exception:  # noqa: BLE001 - never echo the key: name the problem only
        raise SigningError(
            "cannot load the label-signing key: expected an unencrypted P-256 PEM key or an SM2 "
            "key (64 hex digits, or an SM2 PEM from OpenSSL)"
        ) from None
    if not isinstance(key, ec.EllipticCurvePrivateKey) or key.curve.name != "secp256r1":
        raise SigningError("the label-signing key must be ECDSA P-256 (or SM2)")
    return "p256", key


def generate_key(alg: str) -> tuple[bytes, PublicKey]:
    """A new key pair: (private key file bytes, public key). SM2: 64 hex digits and a newline
    (gmssl's form); P-256: unencrypted PKCS#8 PEM."""
    if alg == "sm2":
        d = secrets.randbelow(_N - 2) + 1
        point = _sm2_public(d)
        return f"{d:064x}\n".encode("ascii"), PublicKey("sm2", _SM2_SPKI_PREFIX + point)
    if alg == "p256":
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric import ec

        key = ec.generate_private_key(ec.SECP256R1())
        pem = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        return pem, PublicKey("p256", _spki_der(key.public_key()))
    raise SigningError(f"label signature algorithm must be sm2 or p256 (got {alg!r})")


def load_public_keys(data: bytes, *, name: str = "key") -> list[PublicKey]:
    """Pinned keys from a file's bytes: PEM public keys (SM2 or P-256), PEM certificates
    (P-256), or one SM2 key in hex (SPKI DER, ``04||x||y`` or ``x||y``)."""
    keys: list[PublicKey] = []
    for kind, der in _pem_blocks(data):
        if kind == "PUBLIC KEY":
            keys.append(PublicKey.from_spki(der))
        elif kind == "CERTIFICATE":
            keys.append(_from_certificate(der))
    if keys:
        return keys
    text = re.sub(rb"\s+", b"", data)
    try:
        raw = bytes.fromhex(text.decode("ascii"))
    except (UnicodeDecodeError, ValueError):
        raw = b""
    found = _keys_from_raw(raw)
    if not found:
        raise SigningError(f"{name}: no public key (PEM PUBLIC KEY/CERTIFICATE or SM2 hex)")
    return found


def _from_certificate(der: bytes) -> PublicKey:
    from cryptography import x509

    try:
        cert = x509.load_der_x509_certificate(der)
    except ValueError:
        raise SigningError("not a valid X.509 certificate") from None
    try:
        spki = _spki_der(cert.public_key())
    except Exception:  # noqa: BLE001 - e.g. an SM2 certificate: cryptography cannot load it
        raise SigningError("certificate key is not ECDSA P-256") from None
    return PublicKey.from_spki(spki, subject=cert.subject.rfc4514_string())


def _keys_from_raw(raw: bytes) -> list[PublicKey]:
    """Every key a ``KeyValue`` can denote: SPKI DER, ``04||x||y``, ``x||y``, a compressed
    point, or (MiniMax) a bare, optionally 00-padded, x coordinate."""
    try:
        if raw.startswith(b"\x30"):
            return [PublicKey.from_spki(raw)]
        if len(raw) == 65 and raw[0] == 4:
            raw = raw[1:]
        if len(raw) == 64:
            return [PublicKey.sm2_point(int.from_bytes(raw[:32], "big"),
                                        int.from_bytes(raw[32:], "big"))]  # fmt: skip
        if len(raw) == 33 and raw[0] in (2, 3):
            points = [p for p in _sm2_lift_x(int.from_bytes(raw[1:], "big"))
                      if p[1] % 2 == raw[0] - 2]  # fmt: skip
            return [PublicKey.sm2_point(*p) for p in points]
        if len(raw) == 33 and raw[0] == 0:
            raw = raw[1:]
        if len(raw) == 32:
            return [PublicKey.sm2_point(*p) for p in _sm2_lift_x(int.from_bytes(raw, "big"))]
    except SigningError:
        return []
    return []


# --- signing ----------------------------------------------------------------------------------


class LabelSigner:
    """Signs labels with one producer key (SM2 or P-256), optionally with its X.509 certificate
    (P-256). Picklable; the key is never shown by ``repr``, messages or reports."""

    def __init__(
        self, private_key: bytes | str, *, alg: str | None = None, cert: bytes | None = None
    ) -> None:
        if isinstance(private_key, str):
            private_key = private_key.encode("ascii")
        detected, key = _load_private(private_key)
        if alg is not None and alg not in ALGS:
            raise SigningError(f"label signature algorithm must be sm2 or p256 (got {alg!r})")
        if alg is not None and alg != detected:
            raise SigningError(f"the label-signing key is an {detected} key, not {alg}")
        self.alg = detected
        self._key = key
        self.warnings: list[str] = []
        if detected == "sm2":
            if not 0 < int(key) < _N - 1:  # type: ignore[call-overload]
                raise SigningError("the SM2 private key is out of range")
            self.public_key = PublicKey("sm2", _SM2_SPKI_PREFIX + _sm2_public(int(key)))  # type: ignore[call-overload]
        else:
            self.public_key = PublicKey("p256", _spki_der(key.public_key()))  # type: ignore[attr-defined]
        self._cert: bytes | None = None
        if cert is not None:
            self._attach_cert(cert)

    def _attach_cert(self, cert_pem: bytes) -> None:
        blocks = [der for kind, der in _pem_blocks(cert_pem) if kind == "CERTIFICATE"]
        if not blocks:
            raise SigningError("the label certificate is not a PEM CERTIFICATE")
        if self.alg != "p256":
            raise SigningError("--label-cert is supported for P-256 keys only")
        leaf = _from_certificate(blocks[0])
        if not leaf.same_key(self.public_key):
            raise SigningError("the label certificate does not match the label-signing key")
        self.public_key = leaf
        self._cert = blocks[0]

    @classmethod
    def from_files(
        cls, key: str | Path, *, alg: str | None = None, cert: str | Path | None = None
    ) -> LabelSigner:
        """From a key file (SM2: 64 hex digits or an SM2 PEM; P-256: PEM) and an optional PEM
        certificate (P-256, leaf first)."""
        from .sign import key_permission_warning

        key = Path(key)
        try:
            data = key.read_bytes()
        except OSError as exc:
            raise SigningError(f"{key}: cannot read the label-signing key: "
                               f"{exc.strerror}") from None  # fmt: skip
        cert_pem = None
        if cert is not None:
            try:
                cert_pem = Path(cert).read_bytes()
            except OSError as exc:
                raise SigningError(f"{cert}: cannot read the label certificate: "
                                   f"{exc.strerror}") from None  # fmt: skip
        try:
            signer = cls(data, alg=alg, cert=cert_pem)
        except SigningError as exc:
            raise SigningError(f"{key}: {exc}") from None
        warning = key_permission_warning(key)
        if warning:
            signer.warnings.append(warning)
        return signer

    def __repr__(self) -> str:
        return f"LabelSigner(alg={self.alg!r}, key={self.public_key.describe()!r})"

    def __getstate__(self) -> dict:
        state = dict(self.__dict__)
        if self.alg == "p256":  # cryptography keys do not pickle: carry the PEM instead
            from cryptography.hazmat.primitives import serialization

            state["_key"] = self._key.private_bytes(  # type: ignore[attr-defined]
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        return state

    def __setstate__(self, state: dict) -> None:
        if state["alg"] == "p256" and isinstance(state["_key"], bytes):
            state["_key"] = _load_private(state["_key"])[1]
        self.__dict__.update(state)

    def sign(self, message: bytes) -> bytes:
        """The DER signature of ``message``."""
        if self.alg == "sm2":
            point = self.public_key.spki[len(_SM2_SPKI_PREFIX) :]
            return _sm2_sign(int(self._key), point, message)  # type: ignore[call-overload]
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import ec

        return self._key.sign(message, ec.ECDSA(hashes.SHA256()))  # type: ignore[attr-defined]

    def security_data(self, label: AIGCLabel, *, slot: str = "ReservedCode1",
                      encoding: str = "base64") -> str:  # fmt: skip
        """The ``SecurityData`` value for ``slot``: base64 of the compact JSON (Annex E j)
        charset), or ``encoding="json"`` for the raw JSON MiniMax writes."""
        oid = ALGS[self.alg]
        entries: list[dict] = [
            {"Type": "DS", "AlgID": oid, "TBSData": {"Type": "Md"},
             "Signature": self.sign(label_message(label, slot=slot)).hex().upper()},
            {"Type": "PubKey", "AlgID": oid, "KeyValue": self.public_key.spki.hex().upper()},
        ]  # fmt: skip
        if self._cert is not None:
            entries.append({"Type": "Cert", "AlgID": oid, "CertValue": self._cert.hex().upper()})
        obj = {"SecurityData": {"Type": "TC260PG", "Version": 1, "PubSD": entries,
                                "Extension": {"Generator": GENERATOR}}}  # fmt: skip
        text = json.dumps(obj, separators=(",", ":"))
        if encoding == "json":
            return text
        if encoding != "base64":
            raise SigningError(f"SecurityData encoding must be base64 or json (got {encoding!r})")
        return base64.b64encode(text.encode("ascii")).decode("ascii")

    def sign_label(self, label: AIGCLabel) -> AIGCLabel:
        """``label`` with its producer ``SecurityData`` in ``ReservedCode1``."""
        return label.with_fields(ReservedCode1=self.security_data(label))


# --- reading and verifying --------------------------------------------------------------------


@dataclass
class SecurityData:
    """What the lenient reader made of one reserved-code value."""

    encoding: str  # "json" or "base64"
    signatures: list[dict] = field(default_factory=list)  # DS entries
    keys: list[dict] = field(default_factory=list)  # PubKey entries
    certs: list[dict] = field(default_factory=list)  # Cert entries
    bindings: int = 0  # Bindings entries / binding signatures (reported, not recomputed)
    ours: bool = False  # written by aigc-tag (Extension.Generator)
    problems: list[str] = field(default_factory=list)


def _ci(obj: Mapping, *names: str):
    """``obj[name]`` for the first of ``names`` present, case-insensitively."""
    lower = {str(k).lower(): v for k, v in obj.items()}
    for name in names:
        if name.lower() in lower:
            return lower[name.lower()]
    return None


def _json_object(text: str) -> dict | None:
    try:
        obj = json.loads(text)
    except (ValueError, RecursionError):
        return None
    return obj if isinstance(obj, dict) else None


def parse_security_data(value: str) -> SecurityData | None:
    """``SecurityData`` from a ``ReservedCode1/2`` value (raw JSON or base64 of it, with or
    without the ``SecurityData`` wrapper); None when the value is something else (opaque)."""
    value = (value or "").strip()
    if not value or len(value) > MAX_VALUE_CHARS:
        return None
    obj, encoding = _json_object(value), "json"
    if obj is None:
        try:
            padded = value + "=" * (-len(value) % 4)
            decoded = base64.b64decode(padded.replace("-", "+").replace("_", "/"), validate=True)
            obj, encoding = _json_object(decoded.decode("utf-8")), "base64"
        except (binascii.Error, ValueError, UnicodeDecodeError):
            return None
    if obj is None:
        return None
    inner = _ci(obj, "SecurityData")
    body = inner if isinstance(inner, dict) else obj
    entries = _ci(body, "PubSD", "PubSd")
    if entries is None and _ci(body, "Bindings", "Binding") is None:
        return None
    found = SecurityData(encoding)
    if isinstance(entries, dict):
        entries = [entries]
    if not isinstance(entries, list):
        entries = []
        found.problems.append("PubSD is not a list of entries")
    for entry in entries[:MAX_ENTRIES]:
        if isinstance(entry, dict):
            _sort_entry(found, entry)
    bindings = _ci(body, "Bindings", "Binding")
    found.bindings += len(bindings) if isinstance(bindings, list) else int(bindings is not None)
    extension = _ci(body, "Extension")
    found.ours = isinstance(extension, dict) and _ci(extension, "Generator") == GENERATOR
    return found


def _sort_entry(found: SecurityData, entry: dict) -> None:
    kind = str(_ci(entry, "Type") or "").lower()
    if kind == "ds":
        tbs = _ci(entry, "TBSData")
        tbs_type = str(_ci(tbs, "Type") or "").lower() if isinstance(tbs, dict) else ""
        if tbs_type in _BINDING_TBS:
            found.bindings += 1
        else:
            found.signatures.append({**entry, "_tbs": tbs_type})
    elif kind == "pubkey":
        found.keys.append(entry)
    elif kind == "cert":
        found.certs.append(entry)
    elif kind in _BINDING_TBS:
        found.bindings += 1


def _bytes(value: object) -> bytes | None:
    """Hex (MiniMax) or base64 bytes of a JSON string; None when neither."""
    if not isinstance(value, str) or len(value) > MAX_VALUE_CHARS:
        return None
    text = value.strip()
    try:
        return bytes.fromhex(text)
    except ValueError:
        pass
    try:
        return base64.b64decode(text + "=" * (-len(text) % 4), validate=True)
    except (binascii.Error, ValueError):
        return None


@dataclass(frozen=True)
class SignatureCheck:
    """The outcome for one reserved-code slot.

    ``status``: ``absent`` (empty), ``opaque`` (not SecurityData), ``unsupported`` (no label
    signature this reader can check: an algorithm, a signed-content selection or a key it
    does not know), ``valid`` or ``invalid``."""

    slot: str
    status: str
    detail: str
    signer: PublicKey | None = None
    pinned: bool = False  # verified with (or the signer is) a pinned key
    ours: bool = False  # the SecurityData says aigc-tag wrote it
    bindings: int = 0

    def to_json(self) -> dict:
        return {
            "slot": self.slot,
            "status": self.status,
            "signer": self.signer.describe() if self.signer else None,
            "fingerprint": self.signer.fingerprint if self.signer else None,
            "pinned": self.pinned,
            "ours": self.ours,
            "detail": self.detail,
        }


def _embedded_keys(sd: SecurityData, alg: str) -> list[PublicKey]:
    keys: list[PublicKey] = []
    for entry in sd.certs:
        der = _bytes(_ci(entry, "CertValue", "KeyValue", "Value"))
        try:
            cert_key = _from_certificate(der) if der else None
        except SigningError:
            continue
        if cert_key is not None and cert_key.alg == alg:
            keys.append(cert_key)
    for entry in sd.keys:
        if str(_ci(entry, "AlgID", "AlgId") or "") not in ("", ALGS[alg]):
            continue
        raw = _bytes(_ci(entry, "KeyValue", "Value"))
        keys += [k for k in _keys_from_raw(raw or b"") if k.alg == alg]
    return keys


def _check_slot(fields: Mapping[str, str], slot: str, pinned: list[PublicKey]) -> SignatureCheck:
    value = str(fields.get(slot, "") or "")
    if not value.strip():
        return SignatureCheck(slot, "absent", f"{slot} is empty")
    sd = parse_security_data(value)
    if sd is None:
        return SignatureCheck(slot, "opaque", f"{slot} holds an opaque value, not SecurityData")
    message = label_message(fields, slot=slot)
    algs = {oid: alg for alg, oid in ALGS.items()}
    tried = False
    for entry in sd.signatures:
        alg = algs.get(str(_ci(entry, "AlgID", "AlgId") or ""))
        if alg is None or entry["_tbs"] not in _LABEL_TBS:
            continue
        signature = _bytes(_ci(entry, "Signature", "Value"))
        if alg == "sm2":
            _gmssl_sm2()  # a missing gmssl raises SigningError: the caller reports it
        tried = True
        embedded = _embedded_keys(sd, alg)
        candidates = [k for k in pinned if k.alg == alg] + embedded
        for key in candidates:
            if signature and key.verify(message, signature):
                is_pinned = any(key.same_key(p) for p in pinned)
                # A certificate names the signer better than its bare key.
                named = next((k for k in embedded if k.same_key(key) and k.subject), key)
                return SignatureCheck(slot, "valid", f"{slot} signature valid", named,
                                      is_pinned, sd.ours, sd.bindings)  # fmt: skip
        if not candidates:
            return SignatureCheck(slot, "unsupported", f"{slot}: SecurityData has a "
                                  f"{_ALG_NAMES[alg]} signature but no usable public key",
                                  ours=sd.ours, bindings=sd.bindings)  # fmt: skip
    if not tried:
        what = "label signature (DS over Md/LabelMataData) with SM3withSM2 or ECDSA P-256"
        return SignatureCheck(slot, "unsupported", f"{slot}: SecurityData without a {what}",
                              ours=sd.ours, bindings=sd.bindings)  # fmt: skip
    embedded_all = [k for a in ALGS for k in _embedded_keys(sd, a)]
    signer = embedded_all[0] if embedded_all else None
    return SignatureCheck(slot, "invalid", f"{slot} signature does not verify over "
                          f"{message.decode('utf-8', 'replace')}", signer,
                          ours=sd.ours, bindings=sd.bindings)  # fmt: skip


def verify_label(
    fields: Mapping[str, str], *, pinned: Iterable[PublicKey] = ()
) -> list[SignatureCheck]:
    """Check the SecurityData of both reserved codes (producer, propagator) of one label."""
    keys = list(pinned)
    return [_check_slot(fields, slot, keys) for slot in SIGNED_FIELDS]
