"""End-to-end fixtures: real hub and node processes on loopback, over real TLS.

A :class:`Network` is built in a temporary directory with the same code as
``policenet demo`` (hub init, member add, node init, officers), then its
processes are started with ``python -m policenet``. Officer passwords are
hashed with light Argon2 settings so the suite stays fast.
"""

from __future__ import annotations

import ssl
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from policenet.clock import utc_now
from policenet.demo.network import DemoNetwork, Login
from policenet.security.passwords import totp_now


@pytest.fixture
def network(tmp_path: Path) -> Iterator[DemoNetwork]:
    """A demo network, created but not started; every process is stopped afterwards."""
    built = DemoNetwork(tmp_path / "net")
    built.create(fast_hashing=True)
    try:
        yield built
    finally:
        built.stop()


@pytest.fixture
def running(network: DemoNetwork) -> DemoNetwork:
    """The network with the hub and all five nodes started and connected."""
    network.start_hub()
    network.start_nodes()
    network.wait_until_up(timeout=60)
    return network


@pytest.fixture
def login() -> Iterator[Callable[..., httpx.Client]]:
    """A function logging in at a node; every client it made is closed afterwards."""
    clients: list[httpx.Client] = []

    def log_in(network: DemoNetwork, node: str, *, username: str | None = None) -> httpx.Client:
        client = login_at(network, node, username=username)
        clients.append(client)
        return client

    yield log_in
    for client in clients:
        client.close()


def login_at(network: DemoNetwork, node: str, *, username: str | None = None) -> httpx.Client:
    """An httpx client logged in as the first (or named) officer of ``node``."""
    found: Login = next(
        x for x in network.logins if x.node == node and (username is None or x.username == username)
    )
    web = network.node_dir(node) / "tls" / "web.pem"
    client = httpx.Client(
        base_url=found.url, verify=ssl.create_default_context(cafile=str(web)), timeout=15
    )
    answer = client.post(
        "/api/v1/login",
        json={
            "username": found.username,
            "password": found.password,
            "otp": totp_now(found.totp_secret, utc_now()),
        },
    )
    assert answer.status_code == 200, answer.text
    client.headers["authorization"] = f"Bearer {answer.json()['token']}"
    return client
