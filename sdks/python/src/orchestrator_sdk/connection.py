"""Opening a NATS connection the way the platform's services do."""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from typing import Awaitable, Callable, Optional

import nats
from nats.aio.client import Client as NATS

DEFAULT_NATS_URL = "nats://127.0.0.1:4222"

#: Tries of each server at the first connection, before giving up.
FIRST_CONNECT_ATTEMPTS = 2
DEFAULT_INBOX_PREFIX = "_INBOX"


@dataclass(frozen=True)
class NatsLogin:
    """Who a connection logs in as: `user` and `password` (a user of a permissions file), and
    `inbox_prefix`, where the answers to its requests come (``_INBOX_<user>`` under
    deploy/nats/permissions.conf, which lets each user read its own inboxes and no one else's)."""

    user: Optional[str] = None
    password: Optional[str] = None
    inbox_prefix: Optional[str] = None


def servers_from(explicit: Optional[str]) -> str:
    """The servers to connect to: `explicit`, else $NATS_URL, else nats://127.0.0.1:4222."""
    return explicit or os.environ.get("NATS_URL") or DEFAULT_NATS_URL


async def connect(
    servers: str,
    name: str,
    *,
    logger: logging.Logger,
    disconnected_cb: Optional[Callable[[], Awaitable[None]]] = None,
    reconnected_cb: Optional[Callable[[], Awaitable[None]]] = None,
    login: Optional[NatsLogin] = None,
) -> NATS:
    """Connects to `servers` (comma-separated URLs): fails fast when none answers at first, as the
    Node client does, then reconnects for ever once connected, as `login` says (see NatsLogin).

    nats-py has one limit for both; with no limit it would retry the first connection for ever.
    """

    async def on_error(error: Exception) -> None:
        logger.warning("NATS: %s", error or type(error).__name__)

    urls = [url.strip() for url in servers.split(",") if url.strip()]
    try:
        nc = await nats.connect(
            servers=urls,
            name=name,
            max_reconnect_attempts=FIRST_CONNECT_ATTEMPTS,
            reconnect_time_wait=0.25,
            connect_timeout=2,
            error_cb=on_error,
            disconnected_cb=disconnected_cb,
            reconnected_cb=reconnected_cb,
            user=login.user if login else None,
            password=(login.password or "") if login and login.user is not None else None,
            inbox_prefix=(login.inbox_prefix if login and login.inbox_prefix else DEFAULT_INBOX_PREFIX),
        )
    except Exception as error:
        raise ConnectionError(f"cannot connect to NATS at {servers}: {error or type(error).__name__}") from error
    nc.options["max_reconnect_attempts"] = -1
    return nc
