"""ServerOptions: the tunables of one server instance (``start_server_thread(**opts)``
and the ``serve`` flags). A module of its own because every collaborator reads it."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class ServerOptions:
    """Tunables of one server instance (``start_server_thread(**opts)`` / CLI flags)."""

    simulate: bool = False
    simulate_interval: float = 2.0  # seconds between workforce steps
    simulate_batch: int = 3  # tasks moved per transition per step
    simulate_error_rate: float = 0.1  # share of in-progress tasks that end in Error
    simulate_arrivals: bool = True  # new Queued tasks arrive each step
    callback_attempts: int = 6  # deliveries tried per callback (1 + retries)
    callback_backoff: float = 1.0  # first retry delay in seconds; doubles each time
    callback_timeout: float = 10.0
    callback_auth: str = ""  # value of the scale-callback-auth header ("" = generated)
    rate_limit: float = 0.0  # requests per second per key; 0 = off
    max_body: int = 1_048_576  # bytes
    idempotency_ttl: float = 24 * 3600.0
