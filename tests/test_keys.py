"""``aigc-tag keys init``: the local test PKI has the profile c2pa-rs requires."""

from __future__ import annotations

import stat

import pytest
from click.testing import CliRunner
from cryptography import x509
from cryptography.x509.oid import ExtendedKeyUsageOID

from aigc_tag.cli import main
from aigc_tag.provenance.keys import init_keys


def test_keys_init_cli_writes_chain_and_private_keys(tmp_path):
    out = tmp_path / "pki"
    res = CliRunner().invoke(main, ["keys", "init", str(out)])
    assert res.exit_code == 0, res.output
    assert f"--cert {out}/chain.pem --key {out}/signer.key" in res.output
    assert f"aigc-tag verify --trust-anchors {out}/root.pem" in res.output
    for name in ("root.key", "intermediate.key", "signer.key"):
        assert stat.S_IMODE((out / name).stat().st_mode) == 0o600
    chain = x509.load_pem_x509_certificates((out / "chain.pem").read_bytes())
    leaf, inter = chain
    root = x509.load_pem_x509_certificate((out / "root.pem").read_bytes())
    assert leaf.issuer == inter.subject and inter.issuer == root.subject
    eku = leaf.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert list(eku) == [ExtendedKeyUsageOID.EMAIL_PROTECTION]
    assert not leaf.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    ku = leaf.extensions.get_extension_for_class(x509.KeyUsage).value
    assert ku.digital_signature and not ku.key_cert_sign
    leaf.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier)
    inter.extensions.get_extension_for_class(x509.SubjectKeyIdentifier)
    # A second run does not overwrite keys silently.
    again = CliRunner().invoke(main, ["keys", "init", str(out)])
    assert again.exit_code != 0 and "refusing to overwrite" in again.output


@pytest.mark.parametrize("alg", ["es384", "ed25519", "ps256"])
def test_other_algorithms_sign_and_verify_trusted(tmp_path, alg):
    from conftest import encode, photo

    from aigc_tag.label import AIGCLabel
    from aigc_tag.provenance import inspect_c2pa
    from aigc_tag.provenance.sign import C2paSigner, sign_bytes

    pki = init_keys(tmp_path, alg=alg)
    signer = C2paSigner.from_files(pki.chain, pki.signer_key)
    assert signer.alg == alg
    label = AIGCLabel.for_producer("001191110108MA01ABCDEN10001")
    out = sign_bytes(encode(photo(64, 48), "PNG"), "image/png", signer=signer, label=label)
    info = inspect_c2pa(out, "image/png", trust_anchors_pem=pki.root_cert.read_text())
    assert info["state"] == "Trusted", info
