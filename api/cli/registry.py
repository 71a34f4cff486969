"""Registry commands: ``register``, ``verify``, ``certificate``, ``anchor``, ``worker``, ``tsa-ca``.

They work on the local data dir (or ``LEGATO_DATABASE_URL``) with no server running. With ``--json``
stdout holds only the JSON document; logs and progress go to stderr.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer
from rich.markup import escape

from api.cli.base import app, err, open_container, out
from api.cli.trust import load_trust, local_trust, registry_wiring, require_deployment
from api.db import session_scope
from api.http.errors import error_body
from api.settings import Settings
from registry.certificate_verify import verify_certificate
from registry.errors import PlagiarismSuspected, RegistryError, VerificationError
from registry.trust import Trust
from registry.wiring import RegistryWiring, chain_reader

if TYPE_CHECKING:
    from registry.chain.protocol import ChainReader

EXIT_REFUSED = 3


def _print_json(doc: Any) -> None:
    sys.stdout.write(json.dumps(doc, indent=2, default=str) + "\n")


def _fail(e: RegistryError, *, as_json: bool, code: int) -> typer.Exit:
    if as_json:
        _print_json(error_body(e.code, e.message, e.details))
    else:
        err.print(f"[red]{e.code}[/red]: {e.message}")
        evidence = e.details.get("evidence") if isinstance(e.details, dict) else None
        if evidence:
            err.print(
                f"  matches {evidence.get('title')!r} by {evidence.get('author_name')} "
                f"(registration {evidence.get('registration_id')}, "
                f"containment {evidence.get('containment', 0):.2f}, jaccard {evidence.get('jaccard', 0):.2f})"
            )
    return typer.Exit(code)


@app.command()
def register(
    file: Path = typer.Argument(
        ..., exists=True, dir_okay=False, readable=True, help="UTF-8 text of the work."
    ),
    title: str = typer.Option(..., help="Title of the work."),
    author: str = typer.Option(..., help="Author's name (the local author id is derived from it)."),
    out: Path | None = typer.Option(None, help="Write the certificate's exact bytes here."),
    as_json: bool = typer.Option(
        False, "--json", help="Print {registration_id, certificate_id, status, sha256}."
    ),
) -> None:
    """Register a text: fingerprint, plagiarism check, RFC 3161 timestamp, signed certificate."""
    from registry.service import Author

    with open_container() as container:
        try:
            with session_scope(container.session_factory) as session:
                result = container.registry.register(
                    session,
                    text=file.read_bytes(),
                    title=title,
                    author=Author(id=f"local:{author.strip().lower()}", display_name=author.strip()),
                )
                reg, state = result.registration, result.certificate
                summary = {
                    "registration_id": reg.id,
                    "certificate_id": reg.certificate_id,
                    "status": reg.status.value,
                    "sha256": reg.sha256,
                }
                body, cid = (state.body, state.cid) if state else (None, None)
            container.settle_contracts()
        except PlagiarismSuspected as e:
            raise _fail(e, as_json=as_json, code=EXIT_REFUSED) from e
        except RegistryError as e:
            raise _fail(e, as_json=as_json, code=2 if e.code == "INVALID_CONTENT_FORMAT" else 1) from e
    if out is not None and body is not None:
        out.write_bytes(body)
    if as_json:
        _print_json(summary)
        return
    sys.stdout.write(f"registered {summary['registration_id']} ({summary['status']})\n"
                     f"  sha256       {summary['sha256']}\n"
                     f"  certificate  {summary['certificate_id']}" + (f"  cid {cid}" if cid else "") + "\n")
    if out is not None:
        err.print(f"  written to   {out}" if body is not None else "  not written: waiting for the TSA")


def _pin(trust_source: str | None, registry: str | None, chain: ChainReader | None,
         wiring: RegistryWiring | None, public_url: str | None) -> Trust:
    """What ``legato verify`` pins: the trust document, else the registry address, else the deployment
    in the data dir (refusing to make one up)."""
    if trust_source:
        trust = load_trust(trust_source)
        if registry and (trust.registry or "").lower() != registry.lower():
            raise VerificationError(f"--registry {registry} differs from the trust document's registry "
                                    f"{trust.registry}", check="origin")
        return trust
    if registry:
        chain_id = chain.chain_id() if chain is not None else None
        return Trust(registry=registry, chain_id=chain_id, source=f"pinned registry {registry}")
    assert wiring is not None  # nothing pinned: the local deployment's wiring was opened
    return local_trust(wiring, chain, public_url=public_url)


@app.command()
def verify(
    certificate: Path = typer.Argument(..., exists=True, dir_okay=False, readable=True),
    text: Path | None = typer.Option(
        None, exists=True, dir_okay=False, help="The work's text, to check its hash."
    ),
    trust: str | None = typer.Option(
        None, "--trust", help="The platform's trust document (FILE or http(s) URL) to pin."
    ),
    registry: str | None = typer.Option(
        None, "--registry", help="Pin the LegatoRegistry address (with --rpc: keys authorized on chain)."
    ),
    rpc: str | None = typer.Option(
        None, help="EVM JSON-RPC URL to ask (default: the local deployment's chain, if no pin is given)."
    ),
    tsa_ca: Path | None = typer.Option(None, exists=True, dir_okay=False, help="Pin the TSA root (PEM)."),
    cid: str | None = typer.Option(None, help="Expected CID of the certificate file (else cid: skip)."),
    as_json: bool = typer.Option(False, "--json", help="Print a list of {check, status, detail}."),
) -> None:
    """Check a certificate on its own: origin (against the pinned trust), content hash, signatures,
    timestamp, Merkle proof, chain, CID. Results go to stdout, one line per check (pass, fail, skip).
    A license certificate or chain-of-title bundle is recognised by its schema. Exits 0 only when no
    check fails (skips are not passes; ``origin`` never skips), else 1 naming the first failed check;
    2 when there is nothing to pin."""
    from marketplace.licensing.offline_verification import (
        is_bundle,
        is_license,
        license_registry_of,
        verify_bundle,
        verify_license,
    )

    settings = Settings()
    data = certificate.read_bytes()
    bundle = is_bundle(data)
    local = not (trust or registry)
    # Only the local deployment needs the wiring (loading it loads the platform: a pinned verify stays quick).
    wiring = registry_wiring(settings) if local else None
    if wiring is not None:
        require_deployment(wiring)
    chain: ChainReader | None = None
    try:
        try:
            # In the deployment: its own chain (read-only); pinned elsewhere: only the node given.
            if wiring is not None:
                chain = wiring.chain_reader(rpc_url=rpc, license_registry_address=license_registry_of(data))
            elif rpc:
                chain = chain_reader(rpc_url=rpc, license_registry_address=license_registry_of(data))
        except RegistryError as e:
            err.print(f"[yellow]chain not available[/yellow]: {e.message}")
        try:
            pinned: Trust | None = _pin(trust, registry, chain, wiring, settings.public_url)
        except RegistryError as e:
            err.print(f"[red]cannot pin trust[/red]: {e.message}")
            pinned = None
        roots = [tsa_ca.read_bytes()] if tsa_ca else None
        if bundle:
            report = verify_bundle(data, chain=chain, tsa_roots_pem=roots, trust=pinned)
        elif is_license(data):
            report = verify_license(data, chain=chain, trust=pinned, expected_cid=cid)
        else:
            report = verify_certificate(
                data, text=text.read_bytes() if text else None, tsa_roots_pem=roots, chain=chain,
                expected_cid=cid, trust=pinned,
            )
    finally:
        if chain is not None:
            chain.close()
    if as_json:
        _print_json([{"check": r.check, "status": r.status, "detail": r.detail} for r in report.results])
    else:
        for r in report.results:
            out.print(f"{MARKS[r.status]} {r.check:<16} {escape(r.detail)}", highlight=False)
    failed = report.first_failure
    if failed is not None:
        err.print(f"[red]verification failed at: {failed.check}[/red]")
        raise typer.Exit(1)


MARKS = {"pass": "[green]pass[/green]", "skip": "[yellow]skip[/yellow]", "fail": "[red]FAIL[/red]"}


@app.command()
def certificate(
    certificate_id: str = typer.Argument(..., help="Certificate id (or registration id)."),
    out: Path | None = typer.Option(None, help="Write the latest certificate bytes here."),
    pdf: Path | None = typer.Option(None, "--pdf", help="Write the certificate as a one-page PDF here."),
    as_json: bool = typer.Option(False, "--json", help="Print {id, status, cid, anchor}."),
) -> None:
    """Write the latest state of a certificate (to stdout unless --out)."""
    require_deployment(registry_wiring(Settings()))
    with open_container() as container, session_scope(container.session_factory) as session:
        try:
            state, reg = container.registry.lookup_certificate(session, certificate_id)
        except RegistryError as e:
            raise _fail(e, as_json=as_json, code=1) from e
        doc = {
            "id": state.certificate_id,
            "status": reg.status.value,
            "cid": state.cid,
            "anchor": json.loads(state.body).get("anchor"),
        }
        body = state.body
        if pdf is not None:
            from registry.certificate_pdf import render_pdf

            try:
                pdf.write_bytes(render_pdf(body, cid=state.cid, public_url=container.base_url()))
            except RegistryError as e:
                raise _fail(e, as_json=as_json, code=1) from e
            err.print(f"PDF written to {pdf}")
    if out is not None:
        out.write_bytes(body)
    if as_json:
        _print_json(doc)
    elif out is None and pdf is None:
        sys.stdout.write(body.decode() + "\n")
    else:
        err.print(f"{doc['id']} ({doc['status']}) cid {doc['cid']} written to {out}")


@app.command()
def anchor(as_json: bool = typer.Option(False, "--json")) -> None:
    """Anchor every pending registration now (ignoring batch size and age limits)."""
    with open_container() as container:
        try:
            reports = container.anchorer.run_once(container.session_factory, force=True)
            with session_scope(container.session_factory) as session:
                container.registry.pin_pending(session)
        except RegistryError as e:
            # Typically the embedded chain held by a running `legato serve`: one line, not a traceback.
            hint = (". A running `legato serve` anchors pending registrations itself (its worker, within "
                    "LEGATO_BATCH_MAX_AGE_SECONDS)." if e.code == "CHAIN_UNAVAILABLE" else "")
            if as_json:
                _print_json(error_body(e.code, e.message + hint, e.details))
            else:
                err.print(f"[red]{e.code}[/red]: {e.message.rstrip('.')}{hint}", highlight=False)
            raise typer.Exit(1) from e
    rows = [r.__dict__ for r in reports]
    if as_json:
        _print_json(rows)
    elif not rows:
        err.print("nothing pending")
    for r in reports if not as_json else []:
        line = (
            f"batch {r.batch_id}: root 0x{r.root}  {r.leaf_count} registrations  "
            f"tx {r.tx_hash}  block {r.block_number}  manifest {r.manifest_cid}"
        )
        out.print(line if r.error is None else f"batch {r.batch_id}: waiting ({r.error})", highlight=False)
    if any(r.error for r in reports):
        raise typer.Exit(1)


@app.command()
def worker(
    once: bool = typer.Option(False, help="Run one round and exit."),
    interval: float = typer.Option(2.0, help="Seconds between rounds."),
) -> None:
    """Run the background worker: timestamp retries, pins, anchor batches, scheduled chapters."""
    with open_container(log_level=Settings().log_level) as container:
        loop = container.worker
        loop.interval = interval
        if once:
            for name, result in loop.run_once().items():
                out.print(f"{name}: {result}", highlight=False)
            return
        try:
            loop.run_forever()
        except KeyboardInterrupt:
            err.print("stopped")


@app.command("tsa-ca")
def tsa_ca() -> None:
    """Print the TSA root certificate(s) tokens must chain to (the embedded TSA's own CA by default)."""
    wiring = registry_wiring(Settings())
    if not wiring.tsa_url and not (wiring.data_dir / "tsa").is_dir():
        err.print(f"[red]no embedded TSA in {wiring.data_dir.resolve()}[/red] (LEGATO_DATA_DIR); this "
                  "command only reads one and will not make a new root")
        raise typer.Exit(2)
    with open_container(migrate=False) as container:
        sys.stdout.write(b"".join(container.timestamper.trust_roots_pem()).decode())
