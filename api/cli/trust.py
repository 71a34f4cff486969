"""Trust anchors on the command line: ``legato trust export``, ``legato keys rotate-signing``, and the
helpers ``legato verify`` uses to pin a trust document, a registry address, or the local deployment's.

Read-only commands never create a deployment: pointed at a data dir that does not exist (a relative
``LEGATO_DATA_DIR`` run from another directory, say), they say so and exit 2 instead of making a new
TSA root and signing key that would "verify" nothing.
"""

from __future__ import annotations

import sys
from pathlib import Path

import typer

from api.cli.base import app, err, open_container
from api.cli.content import keys_app
from api.settings import Settings
from registry.errors import ChainError, ConfigurationError, RegistryError, Unavailable, VerificationError
from registry.trust import MAX_TRUST_BYTES, Trust

trust_app = typer.Typer(no_args_is_help=True, help="The platform's trust document (what verifiers pin).")
app.add_typer(trust_app, name="trust")

EXIT_NO_DEPLOYMENT = 2


def require_deployment(settings: Settings) -> Path:
    """The data dir, which must already hold a deployment (its signing keys)."""
    data_dir = settings.data_dir.resolve()
    keys = data_dir / "keys"
    held = (keys / "signing-keys.json").exists() or (keys / "platform-ed25519.pem").exists()
    if not held and settings.signing_key is None:
        err.print(f"[red]no Legato deployment in {data_dir}[/red] (LEGATO_DATA_DIR); this command only "
                  "reads one. Run it where the deployment lives or give an absolute LEGATO_DATA_DIR.")
        raise typer.Exit(EXIT_NO_DEPLOYMENT)
    return data_dir


def local_trust(settings: Settings, chain: object | None) -> Trust:
    """The local deployment's trust, read without creating anything."""
    from registry.signing_keys import SigningKeys
    from registry.timestamp import EmbeddedTSA

    data_dir = require_deployment(settings)
    if settings.signing_key is not None:
        keys = SigningKeys.from_pem(settings.signing_key.get_secret_value().encode())
    else:
        legacy = (data_dir / "keys" / "platform-ed25519.pem").exists()
        keys = SigningKeys.from_data_dir(data_dir, create=legacy)  # adopting the old key file, no more
    if settings.tsa_url:
        roots = [settings.tsa_cert.read_bytes()] if settings.tsa_cert else []
    elif (data_dir / "tsa").is_dir():
        roots = EmbeddedTSA(data_dir).trust_roots_pem()
    else:
        roots = []
    chain_id, registry, license_registry = None, settings.registry_address, settings.license_registry_address
    if chain is not None:
        try:
            chain_id = chain.chain_id()  # type: ignore[attr-defined]
            registry = chain.registry_address()  # type: ignore[attr-defined]
            license_registry = chain.license_registry_address()  # type: ignore[attr-defined]
        except (Unavailable, ConfigurationError) as e:
            err.print(f"[yellow]chain details unavailable[/yellow]: {e.message}")
    return Trust(keys=keys.entries(), tsa_roots_pem=roots, chain_id=chain_id, registry=registry,
                 license_registry=license_registry, platform=settings.public_url,
                 source=f"deployment's trust ({data_dir})")


def load_trust(source: str) -> Trust:
    """A trust document from a file or an http(s) URL (fetched once, size-bounded)."""
    if source.startswith(("http://", "https://")):
        import httpx

        try:
            with httpx.Client(timeout=10.0, follow_redirects=False) as client, \
                    client.stream("GET", source) as response:
                response.raise_for_status()
                data = b""
                for chunk in response.iter_bytes():
                    data += chunk
                    if len(data) > MAX_TRUST_BYTES:
                        raise VerificationError("the trust document is too large", check="origin")
        except httpx.HTTPError as e:
            raise VerificationError(f"cannot fetch the trust document {source}: {e}", check="origin") from e
        return Trust.parse(data, source=f"trust document {source}")
    path = Path(source)
    if not path.is_file():
        raise VerificationError(f"no trust document at {source}", check="origin")
    return Trust.parse(path.read_bytes(), source=f"trust document {path.name}")


@trust_app.command("export")
def trust_export(
    out: Path | None = typer.Option(None, help="Write the document here instead of stdout."),
) -> None:
    """Print this deployment's trust document (as served at /.well-known/legato-trust.json)."""
    from api.cli.registry import reader_chain

    settings = Settings()
    require_deployment(settings)
    chain = None
    try:
        chain = reader_chain(None, settings)
        data = local_trust(settings, chain).to_bytes()
    except RegistryError as e:
        err.print(f"[red]{e.code}[/red]: {e.message}")
        raise typer.Exit(1) from e
    finally:
        close = getattr(chain, "close", None)
        if close is not None:
            close()
    if out is None:
        sys.stdout.write(data.decode())
    else:
        out.write_bytes(data)
        err.print(f"trust document written to {out}")


@keys_app.command("rotate-signing")
def rotate_signing() -> None:
    """Make a new platform signing key, authorize it in the registry contract (now if the chain is up,
    else the worker does it), and retire the old one for new certificates; what it signed stays valid."""
    settings = Settings()
    require_deployment(settings)
    with open_container() as container:
        try:
            fresh = container.signer.rotate()
        except ConfigurationError as e:
            err.print(f"[red]{e.code}[/red]: {e.message}")
            raise typer.Exit(1) from e
        sys.stdout.write(f"{fresh.key_id}\n")
        err.print(f"new signing key {fresh.key_id}, valid from {fresh.valid_from:%Y-%m-%dT%H:%M:%SZ}")
        try:
            for line in container.signer.sync_chain(container.chain):
                err.print(f"  on chain: {line}")
        except (Unavailable, ChainError, ConfigurationError) as e:
            err.print(f"  [yellow]on chain: pending[/yellow] ({e.message}); the worker records it when the "
                      "chain is back, before anchoring anything it signed")
