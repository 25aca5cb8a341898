"""C2PA signing: the last layer, after every other write (c2pa-python 0.38, Context API).

The manifest aigc-tag writes (labels documented in the README):

* ``c2pa.actions`` (stored as ``c2pa.actions.v2``): ``c2pa.created`` with digitalSourceType
  ``trainedAlgorithmicMedia`` on a fresh file; on a file that already had a manifest,
  ``c2pa.opened`` (the old manifest, a ``parentOf`` ingredient) then ``c2pa.edited`` (tag) or
  ``c2pa.edited.metadata`` (propagate).
* ``cn.tc260.aigc``: the GB 45438-2025 Annex E record, ``{"AIGC": {...seven keys...}}``, exactly as
  in the file's metadata label.
* ``c2pa.soft-binding``: the watermark payload, ``alg`` = ``org.aigc-tag.watermark.v1`` (a
  project identifier, not on the C2PA soft-binding algorithm list), one block over the whole asset
  whose ``value`` is the base64 of the 8 payload bytes (:mod:`aigc_tag.watermark.payload`).

No thumbnail (it would dominate the size of image outputs). The private key stays in memory in
the native signer; it is never put in a message, a repr or a report.
"""

from __future__ import annotations

import base64
import io
import json
import stat
from collections.abc import Callable
from pathlib import Path

from .. import __version__
from ..errors import SigningError, UnsupportedFormat
from ..label import AIGCLabel

__all__ = [
    "ANNEX_E_ASSERTION",
    "SOFT_BINDING_ALG",
    "SUPPORTED_MIMES",
    "TRAINED",
    "C2paSigner",
    "SigningError",
    "sign_bytes",
    "sign_sidecar",
    "supports_embedding",
]

TRAINED = "http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia"
ANNEX_E_ASSERTION = "cn.tc260.aigc"
SOFT_BINDING_ALG = "org.aigc-tag.watermark.v1"
_ALGS = ("es256", "es384", "es512", "ps256", "ps384", "ps512", "ed25519")

#: MIME types c2pa-python 0.38 embeds into (checked against Builder.get_supported_mime_types()).
SUPPORTED_MIMES = frozenset({
    "image/jpeg", "image/png", "image/webp", "image/gif", "image/tiff", "image/heic",
    "image/heif", "image/avif", "image/svg+xml", "image/x-adobe-dng", "image/jxl",
    "video/mp4", "video/quicktime", "video/x-m4v", "application/mp4", "video/x-msvideo",
    "video/avi", "audio/mp4", "audio/wav", "audio/x-wav", "audio/vnd.wave", "audio/wave",
    "audio/mpeg", "audio/mp3", "audio/flac", "application/pdf",
})  # fmt: skip
# Our carriers' MIME names that c2pa-rs spells differently.
_MIME_ALIASES = {
    "audio/x-flac": "audio/flac",
    "image/x-tiff": "image/tiff",
    "audio/m4a": "audio/mp4",
    "audio/x-m4a": "audio/mp4",
    "video/avi": "video/x-msvideo",
}


def _c2pa():
    try:
        import c2pa
    except ImportError as exc:  # pragma: no cover - c2pa-python is a dependency
        raise SigningError(
            f"C2PA signing needs c2pa-python (pip install c2pa-python): {exc}"
        ) from None
    return c2pa


def _norm_mime(mime: str) -> str:
    mime = mime.lower().split(";")[0].strip()
    return _MIME_ALIASES.get(mime, mime)


def supports_embedding(mime: str) -> bool:
    """Whether c2pa-python can embed a manifest into this MIME type."""
    return _norm_mime(mime) in SUPPORTED_MIMES


# --- the signer ---------------------------------------------------------------------------------


def _alg_for_key(key) -> str:
    from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

    if isinstance(key, ed25519.Ed25519PrivateKey):
        return "ed25519"
    if isinstance(key, ec.EllipticCurvePrivateKey):
        curves = {"secp256r1": "es256", "secp384r1": "es384", "secp521r1": "es512"}
        if key.curve.name not in curves:
            raise SigningError(f"EC curve {key.curve.name} is not allowed by C2PA (P-256/384/521)")
        return curves[key.curve.name]
    if isinstance(key, rsa.RSAPrivateKey):
        if key.key_size < 2048:
            raise SigningError(f"RSA key of {key.key_size} bits: C2PA needs at least 2048")
        return "ps256"
    raise SigningError(f"unsupported private key type {type(key).__name__}")


def _public_bytes(public_key) -> bytes:
    from cryptography.hazmat.primitives import serialization

    return public_key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def _leaf(cert_chain_pem: bytes):
    from cryptography import x509

    try:
        certs = x509.load_pem_x509_certificates(cert_chain_pem)
    except ValueError as exc:
        raise SigningError(f"certificate chain is not PEM certificates: {exc}") from None
    if not certs:
        raise SigningError("certificate chain is empty")
    return certs[0]


def key_permission_warning(path: Path) -> str | None:
    """A warning when a private key file is readable by group or others (we warn rather than
    refuse: secret managers often mount keys 0640/0644, and refusing would push users to copy
    keys around)."""
    try:
        mode = path.stat().st_mode
    except OSError:
        return None
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        return (
            f"private key {path} is accessible by group/others (mode {stat.S_IMODE(mode):04o}); "
            f"chmod 600 {path}"
        )
    return None


class C2paSigner:
    """Credentials for C2PA signing: a certificate chain (leaf first) and either a private key
    (PEM, in memory) or a signing callback (KMS/HSM). The algorithm is detected from the key.

    Reusable across files and threads of one process; picklable (so batch workers get a copy).
    """

    def __init__(
        self,
        cert_chain_pem: bytes | str,
        private_key_pem: bytes | str | None = None,
        *,
        alg: str | None = None,
        tsa_url: str | None = None,
        sign_fn: Callable[[bytes], bytes] | None = None,
    ) -> None:
        if isinstance(cert_chain_pem, str):
            cert_chain_pem = cert_chain_pem.encode("ascii")
        if isinstance(private_key_pem, str):
            private_key_pem = private_key_pem.encode("ascii")
        if (private_key_pem is None) == (sign_fn is None):
            raise SigningError("give exactly one of a private key and a signing callback")
        self._chain = cert_chain_pem
        self._key = private_key_pem
        self._sign_fn = sign_fn
        self.tsa_url = tsa_url or None
        self.warnings: list[str] = []
        leaf = _leaf(cert_chain_pem)
        self.subject = leaf.subject.rfc4514_string()
        if private_key_pem is not None:
            detected = self._check_key(private_key_pem, leaf)
            if alg and alg.lower() != detected:
                raise SigningError(f"the key is {detected}, not {alg}")
            alg = detected
        if not alg or alg.lower() not in _ALGS:
            raise SigningError(f"signing algorithm must be one of {', '.join(_ALGS)} (got {alg!r})")
        self.alg = alg.lower()
        self._native = None

    @staticmethod
    def _check_key(key_pem: bytes, leaf) -> str:
        from cryptography.hazmat.primitives.serialization import load_pem_private_key

        try:
            key = load_pem_private_key(key_pem, password=None)
        except (ValueError, TypeError):
            # The key itself is never echoed: the message names the problem only.
            raise SigningError(
                "cannot load the private key (expected an unencrypted PKCS#8 or traditional PEM)"
            ) from None
        alg = _alg_for_key(key)
        if _public_bytes(key.public_key()) != _public_bytes(leaf.public_key()):
            raise SigningError(
                "the private key does not match the first (leaf) certificate of the chain"
            )
        return alg

    @classmethod
    def from_files(
        cls, cert: str | Path, key: str | Path, *, tsa_url: str | None = None,
        alg: str | None = None,
    ) -> C2paSigner:  # fmt: skip
        """From a chain PEM file (leaf first, then intermediates) and a private key PEM file."""
        cert, key = Path(cert), Path(key)
        try:
            chain = cert.read_bytes()
        except OSError as exc:
            raise SigningError(
                f"{cert}: cannot read the certificate chain: {exc.strerror}"
            ) from None
        try:
            key_pem = key.read_bytes()
        except OSError as exc:
            raise SigningError(f"{key}: cannot read the private key: {exc.strerror}") from None
        signer = cls(chain, key_pem, alg=alg, tsa_url=tsa_url)
        warning = key_permission_warning(key)
        if warning:
            signer.warnings.append(warning)
        return signer

    @classmethod
    def from_callback(
        cls,
        sign_fn: Callable[[bytes], bytes],
        cert_chain_pem: bytes | str,
        alg: str,
        *,
        tsa_url: str | None = None,
    ) -> C2paSigner:
        """For keys held elsewhere: ``sign_fn(data) -> signature`` (ECDSA DER or raw, Ed25519
        64 bytes, RSA-PSS), e.g. a KMS call. Not picklable (use one process)."""
        return cls(cert_chain_pem, None, alg=alg, tsa_url=tsa_url, sign_fn=sign_fn)

    def __repr__(self) -> str:
        kind = "callback" if self._sign_fn else "key"
        tsa = self.tsa_url
        return f"C2paSigner(alg={self.alg!r}, subject={self.subject!r}, {kind}, tsa={tsa!r})"

    def __getstate__(self) -> dict:
        if self._sign_fn is not None:
            raise TypeError("a callback C2paSigner cannot be sent to another process")
        state = dict(self.__dict__)
        state["_native"] = None
        return state

    def native(self):
        """The c2pa.Signer (made once, reused for every file)."""
        if self._native is None:
            c2pa = _c2pa()
            try:
                if self._sign_fn is not None:
                    alg = getattr(c2pa.C2paSigningAlg, self.alg.upper())
                    self._native = c2pa.Signer.from_callback(
                        self._sign_fn, alg, self._chain.decode("ascii"), self.tsa_url
                    )
                else:
                    tsa = self.tsa_url.encode("utf-8") if self.tsa_url else None
                    info = c2pa.C2paSignerInfo(self.alg.encode(), self._chain, self._key, tsa)
                    self._native = c2pa.Signer.from_info(info)
            except c2pa.C2paError as exc:
                raise SigningError(f"C2PA signer rejected the credentials: {_clean(exc)}") from None
        return self._native


def _clean(exc: Exception) -> str:
    text = str(exc)
    # Belt and braces: never let PEM material travel in an error message.
    if "PRIVATE KEY" in text:
        return type(exc).__name__
    return text


# --- manifest -----------------------------------------------------------------------------------


def soft_binding_assertion(payload_hex: str) -> dict:
    raw = bytes.fromhex(payload_hex)
    return {
        "label": "c2pa.soft-binding",
        "data": {
            "alg": SOFT_BINDING_ALG,
            "blocks": [{"scope": {}, "value": base64.b64encode(raw).decode("ascii")}],
            "name": "aigc-tag invisible watermark, 64-bit payload (aigc_tag.watermark.payload)",
        },
    }


def build_manifest(
    label: AIGCLabel,
    *,
    watermark_payload: str | None,
    title: str,
    parent: bool,
    action: str = "c2pa.edited",
    parent_source_type: str | None = None,
) -> dict:
    """The manifest definition (JSON for c2pa.Builder). ``parent``: the input had a manifest."""
    agent = {"name": "aigc-tag", "version": __version__}
    if parent:
        edit: dict = {
            "action": action,
            "softwareAgent": agent,
            "description": (
                "GB 45438-2025 propagation elements written" if action == "c2pa.edited.metadata"
                else "GB 45438-2025 labels added (explicit label, metadata, watermark)"
            ),
        }  # fmt: skip
        if action != "c2pa.edited.metadata":
            edit["digitalSourceType"] = TRAINED
        opened: dict = {"action": "c2pa.opened", "parameters": {"ingredientIds": ["parent"]}}
        if parent_source_type:  # what the parent declared, so the active manifest still says it
            opened["digitalSourceType"] = parent_source_type
        actions = [opened, edit]
    else:
        actions = [{"action": "c2pa.created", "digitalSourceType": TRAINED, "softwareAgent": agent}]
    assertions: list[dict] = [
        {"label": "c2pa.actions", "data": {"actions": actions}},
        {"label": ANNEX_E_ASSERTION, "data": json.loads(label.to_json())},
    ]
    if watermark_payload:
        assertions.append(soft_binding_assertion(watermark_payload))
    return {
        "claim_generator_info": [agent],
        "title": title,
        "assertions": assertions,
    }


def _context():
    c2pa = _c2pa()
    return c2pa.Context.from_dict(
        {
            "builder": {"thumbnail": {"enabled": False}},
            "verify": {"remote_manifest_fetch": False},
        }
    )


def _sign(
    data: bytes,
    mime: str,
    *,
    signer: C2paSigner,
    manifest: dict,
    parent_data: bytes | None,
    sidecar: bool,
) -> bytes:
    c2pa = _c2pa()
    native = signer.native()
    try:
        with _context() as ctx, c2pa.Builder(manifest, context=ctx) as builder:
            if parent_data is not None:
                builder.set_intent(c2pa.C2paBuilderIntent.EDIT)
                ingredient = {
                    "title": manifest.get("title", "parent"),
                    "relationship": "parentOf",
                    "label": "parent",
                }
                builder.add_ingredient(ingredient, mime, io.BytesIO(parent_data))
            if sidecar:
                builder.set_no_embed()
            dst = io.BytesIO()
            store = builder.sign(native, mime, io.BytesIO(data), dst)
    except c2pa.C2paError as exc:
        raise SigningError(f"C2PA signing failed: {_clean(exc)}") from None
    return store if sidecar else dst.getvalue()


def _unsupported(mime: str) -> UnsupportedFormat:
    return UnsupportedFormat(
        f"C2PA cannot be embedded in {mime} (c2pa-python supports JPEG, PNG, WebP, GIF, TIFF, "
        "HEIC/AVIF, MP4/MOV, WAV, MP3, FLAC, M4A, PDF); sign a .c2pa sidecar instead "
        "(API: sign_sidecar; it is written next to the file as FILE.c2pa)"
    )


def sign_bytes(
    data: bytes,
    mime: str,
    *,
    signer: C2paSigner,
    label: AIGCLabel,
    watermark_payload: str | None = None,
    parent: bool | bytes = False,
    title: str = "",
    action: str = "c2pa.edited",
    parent_source_type: str | None = None,
) -> bytes:
    """Embed a signed manifest into ``data``. ``parent``: the input carried a manifest, which
    becomes the parent ingredient (its store is kept inside ours), never dropped: ``True`` when
    ``data`` itself is that input, or the input's bytes when ``data`` is an edited version of it
    (the ingredient then validates as it did before the edit).

    Raises :class:`UnsupportedFormat` (mentioning the sidecar) for formats the SDK cannot embed
    into and :class:`SigningError` when the SDK refuses.
    """
    mime = _norm_mime(mime)
    if not supports_embedding(mime):
        raise _unsupported(mime)
    manifest = build_manifest(
        label, watermark_payload=watermark_payload, title=title or "asset", parent=parent,
        action=action, parent_source_type=parent_source_type,
    )  # fmt: skip
    parent_data = parent if isinstance(parent, bytes) else (data if parent else None)
    return _sign(
        data, mime, signer=signer, manifest=manifest, parent_data=parent_data, sidecar=False
    )  # fmt: skip


def sign_sidecar(
    data: bytes,
    mime: str,
    *,
    signer: C2paSigner,
    label: AIGCLabel,
    watermark_payload: str | None = None,
    title: str = "",
) -> bytes:
    """A detached manifest store (``application/c2pa``) binding the exact bytes of ``data``;
    store it as ``FILE.c2pa`` next to the file. Works for any MIME, including text, OGG and
    MKV (the SDK hashes the whole byte stream).

    Verify with ``inspect_c2pa(data, mime, manifest_data=sidecar_bytes)``.
    """
    manifest = build_manifest(
        label, watermark_payload=watermark_payload, title=title or "asset", parent=False
    )
    # The SDK hashes formats it does not know as a plain byte stream under text/plain.
    return _sign(
        data, sidecar_mime(mime), signer=signer, manifest=manifest, parent_data=None, sidecar=True
    )


def sidecar_mime(mime: str) -> str:
    """The MIME the SDK hashes a sidecar-signed asset as (its own, or text/plain)."""
    mime = _norm_mime(mime)
    return mime if supports_embedding(mime) else "text/plain"


def sidecar_path(path: str | Path) -> Path:
    """``photo.ogg`` -> ``photo.ogg.c2pa`` (keeps the original extension, so ``a.ogg`` and ``a.mkv``
    never share a sidecar)."""
    path = Path(path)
    return path.with_name(path.name + ".c2pa")
