"""``aigc-tag keys init DIR``: a local test CA, intermediate and C2PA signer certificate."""

from __future__ import annotations

import click

from ..errors import AigcTagError


@click.group()
def keys() -> None:
    """C2PA signing keys: make a local test PKI."""


@keys.command("init")
@click.argument("directory", type=click.Path(file_okay=False))
@click.option(
    "--alg",
    type=click.Choice(["es256", "es384", "ps256", "ed25519"]),
    default="es256",
    show_default=True,
    help="Key type (and C2PA signing algorithm) for all three certificates.",
)
@click.option("--org", default="aigc-tag test", show_default=True, help="Organisation name.")
@click.option("--days", type=click.IntRange(1, 3650), default=365, show_default=True,
              help="Validity of the signer certificate.")  # fmt: skip
@click.option("--force", is_flag=True, help="Overwrite an existing PKI in DIRECTORY.")
def init(directory: str, alg: str, org: str, days: int, force: bool) -> None:
    """Write root.pem, intermediate.pem, signer.pem, chain.pem (signer + intermediate) and their
    keys (mode 0600) to DIRECTORY. For tests and internal pipelines only: production signing
    needs a certificate from a CA on the C2PA trust list, and a timestamp authority (--tsa)."""
    from ..provenance.keys import init_keys

    try:
        pki = init_keys(directory, alg=alg, organization=org, days=days, force=force)
    except AigcTagError as exc:
        raise click.ClickException(str(exc)) from None
    d = pki.directory
    click.echo(f"aigc-tag: wrote a {alg} test PKI to {d}/ (keys are mode 0600, keep them private)")
    click.echo(f"  root CA (give to verifiers):  {pki.root_cert}")
    click.echo(f"  signer chain (leaf + intermediate): {pki.chain}")
    click.echo(f"  signer key: {pki.signer_key}")
    click.echo("Sign while tagging:")
    click.echo(f"  aigc-tag tag --c2pa --cert {pki.chain} --key {pki.signer_key} --producer CODE "
               "-o out/ FILES")  # fmt: skip
    click.echo("Verify against this root:")
    click.echo(f"  aigc-tag verify --trust-anchors {pki.root_cert} out/")
    click.echo("This root is not on any public trust list: other verifiers report the files as "
               "'Valid' (signer untrusted), not 'Trusted'.")  # fmt: skip


# --- shared signing options (tag, propagate) ------------------------------------------------


def c2pa_options(what: str = "Sign the output with C2PA Content Credentials (the last layer)."):
    """``--c2pa --cert CHAIN.pem --key KEY.pem [--tsa URL]``, as one decorator."""

    def decorate(func):
        for option in reversed(
            [
                click.option("--c2pa", "c2pa", is_flag=True, help=what),
                click.option(
                    "--cert",
                    "c2pa_cert",
                    type=click.Path(exists=True, dir_okay=False),
                    envvar="AIGC_TAG_C2PA_CERT",
                    help="C2PA certificate chain PEM, signer first (keys init: DIR/chain.pem). "
                    "Env: AIGC_TAG_C2PA_CERT.",
                ),
                click.option(
                    "--key",
                    "c2pa_key",
                    type=click.Path(exists=True, dir_okay=False),
                    envvar="AIGC_TAG_C2PA_KEY",
                    help="C2PA signer private key PEM (keys init: DIR/signer.key). "
                    "Env: AIGC_TAG_C2PA_KEY.",
                ),
                click.option(
                    "--tsa",
                    "c2pa_tsa",
                    metavar="URL",
                    help="RFC 3161 timestamp authority (production: keeps signatures valid after "
                    "the certificate expires; needs network at signing time).",
                ),
            ]
        ):
            func = option(func)
        return func

    return decorate


def signer_settings(
    c2pa: bool, cert: str | None, key: str | None, tsa: str | None
) -> dict[str, str | None] | None:
    """Check the option combination; the JSON-able recipe each worker builds its signer from."""
    if not c2pa:
        if cert or key or tsa:
            raise click.UsageError("--cert/--key/--tsa sign with C2PA only together with --c2pa")
        return None
    if not (cert and key):
        raise click.UsageError("--c2pa needs --cert CHAIN.pem and --key KEY.pem "
                               "(make a test pair with: aigc-tag keys init DIR)")  # fmt: skip
    return {"cert": cert, "key": key, "tsa_url": tsa}


def with_signer(settings: dict) -> dict:
    """``settings`` with the ``c2pa`` recipe replaced by a ``c2pa_signer`` (key read here)."""
    from ..provenance.sign import C2paSigner

    out = dict(settings)
    recipe = out.pop("c2pa", None)
    out["c2pa_signer"] = C2paSigner.from_files(**recipe) if recipe else None
    return out
