"""A remote pinning service, through the IPFS Pinning Service API (PSA v1) with httpx.

A pinning service does not accept uploads through this API: ``POST /pins`` only *asks* it to fetch a
CID from the IPFS network and keep it. So this adapter does two things on ``add``:

1. stores the bytes in the local blockstore (computing the CID), from where the app serves them at
   ``GET /ipfs/{cid}`` and ``legato certificate`` can always read them back;
2. requests the pin, passing ``origins`` — multiaddrs where the content can be fetched: an IPFS node
   that holds it, or the app's own public address (``/dns4/legato.example/tcp/443/https``) for
   services that retrieve over HTTP from trustless gateways.

A pin request is asynchronous (``queued`` → ``pinning`` → ``pinned`` | ``failed``). ``add`` succeeds
once the service has accepted the request; ``has`` reports whether a live (not failed) request exists.
Before posting, ``add`` looks for an existing live request for the CID, so retries by the worker
never pile up duplicate requests; a ``failed`` one is simply requested again.

Every HTTP failure becomes :class:`~registry.errors.PinningUnavailable` with the service's own
``error.reason``/``error.details`` (PSA failure body) in ``details``, so ``/health`` can say whether the
token was refused (401/403), the account is rate-limited (429, with ``Retry-After``) or the service
is down (5xx, timeouts, refused connections).
"""

from __future__ import annotations

from typing import Any

import httpx

from registry.errors import PinningUnavailable
from registry.ipfs.blockstore import LocalBlockstore
from registry.ipfs.cid import normalize_cid

LIVE_STATUSES = ("queued", "pinning", "pinned")
MAX_NAME = 255  # PSA: Pin.name maxLength


class PinningServicePinner:
    """Pinner that keeps bytes locally and asks a PSA-compatible service to pin them."""

    def __init__(
        self, *, endpoint: str, token: str, blockstore: LocalBlockstore, origins: list[str] | None = None,
        timeout: float = 30.0,
    ) -> None:
        self.endpoint = endpoint.rstrip("/")
        self.name = f"pinning-service {self.endpoint}"
        self.blockstore = blockstore
        self.origins = list(origins or [])
        self.timeout = timeout
        self._http = httpx.Client(
            base_url=self.endpoint, timeout=timeout,
            headers={"Authorization": f"Bearer {token}", "Accept": "application/json"},
        )

    # --- the Pinner port ---------------------------------------------------------------------
    def add(self, data: bytes, *, name: str | None = None) -> str:
        cid = self.blockstore.add(data, name=name)
        if self._live_requests(cid):
            return cid
        pin: dict[str, Any] = {"cid": cid}
        if name:
            pin["name"] = name[:MAX_NAME]
        if self.origins:
            pin["origins"] = self.origins
        status = self._call("POST", "/pins", json=pin)
        if status.get("status") not in LIVE_STATUSES:
            raise PinningUnavailable(
                f"{self.name} did not accept the pin request for {cid} (status {status.get('status')!r})",
                details={"cid": cid, "pinner": self.name, "info": status.get("info")},
            )
        return cid

    def get(self, cid: str) -> bytes:
        return self.blockstore.get(cid)

    def has(self, cid: str) -> bool:
        key = normalize_cid(cid)
        return self.blockstore.has(key) and bool(self._live_requests(key))

    def health(self) -> dict[str, Any]:
        listing = self._call("GET", "/pins", params={"limit": 1})
        return {"pinner": self.name, "status": "ok", "remote_pinned": listing.get("count"),
                "local": self.blockstore.health()}

    def status(self, cid: str) -> list[dict[str, Any]]:
        """Every pin request the service holds for ``cid`` (any status), as PSA ``PinStatus`` objects."""
        key = normalize_cid(cid)
        listing = self._call("GET", "/pins", params={"cid": key, "status": "queued,pinning,pinned,failed"})
        return list(listing.get("results") or [])

    def close(self) -> None:
        self._http.close()

    # --- internals ---------------------------------------------------------------------------
    def _live_requests(self, cid: str) -> list[dict[str, Any]]:
        # PSA's GET /pins lists only `pinned` unless asked: name every live status explicitly.
        listing = self._call("GET", "/pins", params={"cid": cid, "status": ",".join(LIVE_STATUSES)})
        return list(listing.get("results") or [])

    def _call(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        try:
            response = self._http.request(method, path, **kwargs)
        except httpx.TimeoutException as e:
            raise PinningUnavailable(f"{self.name} did not answer within {self.timeout:g} s",
                                     details={"pinner": self.name}) from e
        except httpx.HTTPError as e:
            raise PinningUnavailable(f"{self.name} cannot be reached: {e}",
                                     details={"pinner": self.name}) from e
        if response.status_code in (200, 201, 202):
            try:
                body = response.json()
            except ValueError as e:
                raise PinningUnavailable(f"{self.name} answered {method} {path} with non-JSON",
                                         details={"pinner": self.name}) from e
            if not isinstance(body, dict):
                raise PinningUnavailable(f"{self.name} answered {method} {path} with unexpected JSON",
                                         details={"pinner": self.name})
            return body
        raise self._refusal(response)

    def _refusal(self, response: httpx.Response) -> PinningUnavailable:
        code = response.status_code
        reason, info = _failure_body(response)
        details: dict[str, Any] = {"pinner": self.name, "status": code, "reason": reason, "info": info}
        if code in (401, 403):
            message = (f"{self.name} rejected the access token (HTTP {code}): "
                       f"check LEGATO_IPFS_PINNING_TOKEN")
        elif code == 429:
            details["retry_after"] = response.headers.get("Retry-After")
            message = f"{self.name} is rate-limiting requests (HTTP 429); retry later"
        elif code >= 500:
            message = f"{self.name} failed (HTTP {code})"
        else:
            message = f"{self.name} refused the request (HTTP {code})"
        if reason:
            message += f": {reason}"
        if info:
            message += f" — {info}"
        return PinningUnavailable(message, details=details)


def _failure_body(response: httpx.Response) -> tuple[str | None, str | None]:
    """PSA ``Failure``: ``{"error": {"reason": "...", "details": "..."}}``; tolerate anything else."""
    try:
        error = response.json().get("error")
    except (ValueError, AttributeError):
        return None, None
    if not isinstance(error, dict):
        return None, None
    reason, info = error.get("reason"), error.get("details")
    return (str(reason) if reason else None), (str(info)[:300] if info else None)
