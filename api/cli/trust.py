"""Trust anchors on the command line: ``legato trust export``, ``legato keys rotate-signing``, and the
helpers ``legato verify`` uses to pin a trust document, a registry address, or the local deployment's.

Read-only commands never create a deployment: pointed at a data dir that does not exist (a relative
``LEGATO_DATA_DIR`` run from another directory, say), they say so and exit 2 instead of making a new
TSA root and signing key that would "verify" nothing.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from api.cli.base import app, err, open_container
from api.cli.content import keys_app
from api.settings import Settings
from registry.errors import ChainError, ConfigurationError, RegistryError, Unavailable, VerificationError
from registry.trust import MAX_TRUST_BYTES, Trust
from registry.wiring import RegistryWiring

if TYPE_CHECKING:
    from registry.chain.protocol import ChainReader

trust_app = typer.Typer(no_args_is_help=True, help="The platform's trust document (what verifiers pin).")
app.add_typer(trust_app, name="trust")

EXIT_NO_DEPLOYMENT = 2


def registry_wiring(settings: Settings) -> RegistryWiring:
    """The registry's builder for these settings, as the server's Container makes it (imported on use:
    ``api.wiring`` loads the whole platform, which ``legato --help`` should not wait for)."""
    from api.wiring import registry_wiring as from_settings

    return from_settings(settings)


def require_deployment(wiring: RegistryWiring) -> Path:
    """The data dir, which must already hold a deployment (its signing keys)."""
    if not wiring.has_deployment():
        err.print(f"[red]no Legato deployment in {wiring.data_dir.resolve()}[/red] (LEGATO_DATA_DIR); this "
                  "command only reads one. Run it where the deployment lives or give an absolute "
                  "LEGATO_DATA_DIR.")
        raise typer.Exit(EXIT_NO_DEPLOYMENT)
    return wiring.data_dir.resolve()


def local_trust(wiring: RegistryWiring, chain: ChainReader | None, *, public_url: str | None) -> Trust:
    """The local deployment's trust, read without creating anything (the same document the server
    publishes, built by the same ``registry.wiring.trust_document``)."""
    require_deployment(wiring)
    return wiring.local_trust(chain=chain, platform=public_url, warn=_chain_details_unavailable)


def _chain_details_unavailable(e: RegistryError) -> None:
    err.print(f"[yellow]chain details unavailable[/yellow]: {e.message}")


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
    settings = Settings()
    wiring = registry_wiring(settings)
    require_deployment(wiring)
    chain = None
    try:
        chain = wiring.chain_reader()
        data = local_trust(wiring, chain, public_url=settings.public_url).to_bytes()
    except RegistryError as e:
        err.print(f"[red]{e.code}[/red]: {e.message}")
        raise typer.Exit(1) from e
    finally:
        if chain is not None:
            chain.close()
    if out is None:
        sys.stdout.write(data.decode())
    else:
        out.write_bytes(data)
        err.print(f"trust document written to {out}")


@keys_app.command("rotate-signing")
def rotate_signing() -> None:
    """Make a new platform signing key, authorize it in the registry contract (now if the chain is up,
    else the worker does it), and retire the old one for new certificates; what it signed stays valid."""
    require_deployment(registry_wiring(Settings()))
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
