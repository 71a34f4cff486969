"""Every ``LEGATO_*`` setting, read once from the environment.

``api`` is the only package that reads the environment. It builds one :class:`Settings` and passes the
values inward through keyword-only constructors; ``registry`` and ``marketplace`` never see this class.
"""

from __future__ import annotations

from functools import cached_property
from pathlib import Path
from typing import Any

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from api.client_ip import IPNetwork, parse_networks


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="LEGATO_", env_file=None, extra="ignore")

    # --- process -----------------------------------------------------------------------------
    data_dir: Path = Field(Path("./var"), description="Keys, embedded TSA/chain/IPFS state, SQLite file.")
    database_url: str | None = Field(None, description="SQLAlchemy URL; default SQLite in the data dir.")
    redis_url: str | None = Field(
        None, description="Redis for the similarity index shared by several processes; default in memory."
    )
    log_level: str = Field(
        "INFO", description="DEBUG, INFO, WARNING or ERROR; logs are JSON lines on stderr."
    )
    public_url: str | None = Field(
        None, description="Base URL used in links (checkout); unset: the base URL of the request itself."
    )
    max_body_bytes: int = Field(2_000_000, description="Request bodies above this size get 413.")
    run_worker: bool = Field(True, description="`legato serve` also runs the background worker.")

    # --- load --------------------------------------------------------------------------------
    db_pool_size: int = Field(
        20, ge=1, le=1000,
        description="Requests holding a database session at once, per process; others wait on the event "
        "loop. The pool keeps 5 connections more for the worker and background tasks.",
    )
    db_queue_timeout_seconds: float = Field(
        30.0, gt=0, description="A request that waits this long for a database slot gets 503 SERVER_BUSY."
    )
    threadpool_size: int = Field(
        40, ge=1, le=1000, description="Threads for sync routes per process; keep it ≥ LEGATO_DB_POOL_SIZE."
    )
    public_chapter_max_age_seconds: int = Field(
        10, ge=0, le=86400,
        description="Published free chapters read without a token: Cache-Control max-age, and how long "
        "this process reuses the rendered response (dropped at once on its own writes); 0 turns both off.",
    )
    shutdown_grace_seconds: float = Field(
        5.0, ge=0, description="On SIGTERM, in-flight requests get this long before they are cancelled."
    )

    # --- auth --------------------------------------------------------------------------------
    jwt_secret: SecretStr | None = Field(None, description="HS256 key; created in the data dir if unset.")
    access_token_ttl_seconds: int = Field(900, description="Lifetime of an access JWT.")
    refresh_token_ttl_seconds: int = Field(30 * 24 * 3600, description="Lifetime of a refresh token.")
    login_max_failures: int = Field(
        5, description="Login attempts per account from one client address (in the window) before that "
        "client gets 429; other clients of the account are not affected (docs/accounts.md)."
    )
    login_max_failures_per_ip: int = Field(
        50, description="Failed logins per client address before 429; higher, since many readers share one "
        "NAT."
    )
    login_window_seconds: int = Field(900, description="Window in which login attempts are counted.")
    trusted_proxies: str | None = Field(
        None,
        description="Comma-separated IPs or CIDR networks of reverse proxies whose X-Forwarded-For is "
        "believed; empty: the socket peer is the client and forwarding headers are ignored.",
    )
    argon2_time_cost: int = Field(3, description="argon2id iterations for password hashes.")
    argon2_memory_cost_kib: int = Field(65536, description="argon2id memory per hash, KiB.")

    # --- registry ----------------------------------------------------------------------------
    max_text_chars: int = Field(500_000, description="Longest registrable text, in canonical characters.")
    signing_key: SecretStr | None = Field(None, description="Platform Ed25519 key (PEM); else data dir.")
    plagiarism_block_containment: float = Field(
        0.15,
        description="Refuse another author's text when this share of either text's 5-word shingles "
        "appears in the other (0.15: unrelated same-genre chapters measured ≤ 0.044, a lightly edited third "
        "of a chapter copied ≥ 0.24; docs/plagiarism.md).",
    )
    plagiarism_block_jaccard: float = Field(
        0.5, description="Refuse when the Jaccard similarity of the two shingle sets reaches this."
    )

    # --- timestamps --------------------------------------------------------------------------
    tsa_url: str | None = Field(None, description="RFC 3161 TSA URL; default the embedded TSA.")
    tsa_cert: Path | None = Field(None, description="PEM root certificate the remote TSA must chain to.")
    tsa_timeout_seconds: float = Field(10.0, description="HTTP timeout for the remote TSA.")

    # --- chain -------------------------------------------------------------------------------
    chain_rpc_url: str | None = Field(None, description="EVM JSON-RPC URL; default the embedded chain.")
    chain_private_key: SecretStr | None = Field(None, description="Anchoring account key (hex).")
    registry_address: str | None = Field(None, description="LegatoRegistry address; deployed on dev chains.")
    license_registry_address: str | None = Field(
        None, description="LicenseRegistry address; deployed on dev chains."
    )
    chain_confirmations: int = Field(0, description="Blocks to wait on top of an anchor before it counts.")
    chain_tx_timeout_seconds: float = Field(
        120.0, description="How long a transaction may stay unmined before it is resent with higher fees."
    )
    batch_max_size: int = Field(256, description="Registrations per anchor batch at most.")
    batch_max_age_seconds: float = Field(
        60.0, description="A pending registration waits at most this long for its batch to fill."
    )

    # --- IPFS --------------------------------------------------------------------------------
    ipfs_api: str | None = Field(None, description="Kubo RPC multiaddr or URL; default local blockstore.")
    ipfs_pinning_url: str | None = Field(None, description="IPFS Pinning Service API endpoint.")
    ipfs_pinning_token: SecretStr | None = Field(None, description="Bearer token for the pinning service.")
    ipfs_gateway_url: str | None = Field(
        None, description="Gateway that serves CIDs for pinning-service mode."
    )

    # --- content -----------------------------------------------------------------------------
    content_key: SecretStr | None = Field(
        None,
        description="AES-256-GCM key(s) for chapter text at rest: base64 of 32 bytes, comma-separated; the "
        "first encrypts, the others only decrypt (rotation). Unset: a keyring file in the data dir that "
        "`legato keys rotate` extends.",
    )

    # --- money -------------------------------------------------------------------------------
    stripe_secret_key: SecretStr | None = Field(None, description="Enables Stripe; default test gateway.")
    stripe_webhook_secret: SecretStr | None = Field(None, description="Stripe endpoint secret (whsec_...).")
    stripe_api_base: str | None = Field(None, description="Override Stripe's API host (tests, proxies).")
    coin_value_cents: int = Field(1, description="What one coin is worth in US cents when writers earn it.")
    payout_minimum_cents: int = Field(1000, description="Smallest payout a writer may request.")
    stripe_webhook_tolerance_seconds: int = Field(
        300, description="Refuse webhook deliveries whose signed timestamp is older than this."
    )
    coin_packages: list[dict[str, Any]] | None = Field(
        None, description="JSON list of {id, name, coins, price_cents, bonus_pct}; default four packages."
    )
    subscription_plans: list[dict[str, Any]] | None = Field(
        None, description="JSON list of {id, name, price_cents, platform_share_pct}; default one plan."
    )
    tip_writer_share_pct: int = Field(
        90, description="Writer's percentage of a tip's value; the platform gets the rest."
    )

    # --- licensing ---------------------------------------------------------------------------
    license_writer_share_pct: int = Field(
        85, description="Writer's % of a license fee; the platform keeps the rest (docs/architecture.md)."
    )
    license_offer_ttl_days: int = Field(
        14, description="An offer or counter-offer unanswered this long expires."
    )
    license_payment_window_days: int = Field(
        7, description="An accepted agreement unpaid this long is cancelled and frees its slot."
    )

    @field_validator("trusted_proxies")
    @classmethod
    def _networks(cls, value: str | None) -> str | None:
        parse_networks(value or "")  # refuse a typo at start rather than trust nobody (or everybody) silently
        return value

    @cached_property
    def trusted_proxy_networks(self) -> tuple[IPNetwork, ...]:
        return parse_networks(self.trusted_proxies or "")

    @cached_property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'legato.db').resolve()}"

    def ensure_data_dir(self) -> Path:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.data_dir.chmod(0o700)
        return self.data_dir


def settings_table() -> str:
    """The README's configuration table, generated so it cannot drift from the code."""
    rows = ["| variable | default | meaning |", "|---|---|---|"]
    for name, field in Settings.model_fields.items():
        default = field.default
        shown = "—" if default is None else f"`{default}`"
        rows.append(f"| `LEGATO_{name.upper()}` | {shown} | {field.description} |")
    return "\n".join(rows)
