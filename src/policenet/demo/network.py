"""Setting up and running the demo network: directories, bundles, processes.

Everything is real: the hub's CA, TLS 1.3 with client certificates, one
process per hub and node, SQLite databases. Only the passwords are known
(they are printed) and the second-factor secrets are kept in
``logins.json`` so the demo can compute one-time codes.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field, replace
from pathlib import Path

import httpx

from policenet.clock import utc_now
from policenet.domain.members import Admission, MemberKind
from policenet.domain.officers import Role
from policenet.errors import Conflict, Unavailable
from policenet.hub.app import create_administration
from policenet.hub.setup import init_hub
from policenet.node.app import officer_directory
from policenet.node.setup import init_node
from policenet.security.passwords import Argon2Params
from policenet.settings import HubSettings, NodeSettings, load, save
from policenet.store.database import open_store

MARKER = ".policenet-demo"
DEMO_PASSWORD = "demo-passphrase-2026"  # noqa: S105 - printed for people to log in with


@dataclass(frozen=True)
class DemoMember:
    key: str
    kind: MemberKind
    name: str
    country: str
    parent: str | None = None
    code: str | None = None
    officers: tuple[tuple[str, str, Role], ...] = ()


MEMBERS: tuple[DemoMember, ...] = (
    DemoMember(
        "london",
        MemberKind.NCB,
        "NCB London",
        "GB",
        officers=(("operator", "Duty Operator, NCB London", Role.OPERATOR),),
    ),
    DemoMember(
        "met",
        MemberKind.AGENCY,
        "Metropolitan Police",
        "GB",
        parent="ncb-gb",
        code="gb-metropolitan-police",
        officers=(("pc.smith", "PC Jane Smith", Role.OFFICER),),
    ),
    DemoMember(
        "washington",
        MemberKind.NCB,
        "NCB Washington",
        "US",
        officers=(("operator", "Duty Operator, NCB Washington", Role.OPERATOR),),
    ),
    DemoMember(
        "nypd",
        MemberKind.AGENCY,
        "NYPD",
        "US",
        parent="ncb-us",
        code="us-nypd",
        officers=(("det.garcia", "Detective Ana Garcia", Role.OFFICER),),
    ),
    DemoMember(
        "lyon",
        MemberKind.NCB,
        "NCB Lyon",
        "FR",
        officers=(("operator", "Duty Operator, NCB Lyon", Role.OPERATOR),),
    ),
)


def free_ports(count: int) -> list[int]:
    """``count`` distinct free TCP ports on loopback.

    The sockets are all held open until every port is known, so the system
    cannot hand out the same port twice.
    """
    sockets = [socket.socket(socket.AF_INET, socket.SOCK_STREAM) for _ in range(count)]
    try:
        for sock in sockets:
            sock.bind(("127.0.0.1", 0))
        return [int(sock.getsockname()[1]) for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


@dataclass
class Login:
    node: str
    url: str
    username: str
    password: str
    totp_secret: str
    role: str


@dataclass
class DemoNetwork:
    """The demo's directories and the processes it runs."""

    root: Path
    hub_port: int = 0
    logins: list[Login] = field(default_factory=list)
    node_ports: dict[str, int] = field(default_factory=dict)
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    case_number: str = ""
    """The follow-up case the scripted hit opened (set by the script)."""

    @property
    def hub_dir(self) -> Path:
        return self.root / "hub"

    def node_dir(self, key: str) -> Path:
        return self.root / "nodes" / key

    def bundle_dir(self, key: str) -> Path:
        return self.root / "bundles" / key

    def hub_settings(self) -> HubSettings:
        return load(HubSettings, self.hub_dir)

    def node_settings(self, key: str) -> NodeSettings:
        return load(NodeSettings, self.node_dir(key))

    # --- set-up --------------------------------------------------------------------

    def create(self, fast_hashing: bool = False) -> None:
        """Create the hub, admit the members, create their nodes and officers."""
        if self.root.exists():
            if not (self.root / MARKER).exists():
                raise Conflict(
                    f"{self.root} exists and is not a demo directory; choose another --dir"
                )
            shutil.rmtree(self.root)
        self.root.mkdir(parents=True, mode=0o700)
        (self.root / MARKER).write_text("made by policenet demo; removed by the next demo run\n")
        ports = free_ports(1 + len(MEMBERS))
        self.hub_port = ports[0]
        now = utc_now()
        init_hub(
            self.hub_dir,
            db_url=None,
            host="127.0.0.1",
            port=self.hub_port,
            hostnames=("localhost", "127.0.0.1"),
            public_url=f"https://localhost:{self.hub_port}",
            network_name="policenet demo",
            now=now,
        )
        admin, store = create_administration(self.hub_settings())
        try:
            for m in MEMBERS:
                admin.admit(
                    Admission(
                        kind=m.kind, name=m.name, country=m.country, parent=m.parent, code=m.code
                    ),
                    self.bundle_dir(m.key),
                )
        finally:
            store.close()
        params = (
            Argon2Params(time_cost=1, memory_cost_kib=8192, parallelism=1) if fast_hashing else None
        )
        for m, port in zip(MEMBERS, ports[1:], strict=True):
            self.node_ports[m.key] = port
            initial = init_node(
                self.bundle_dir(m.key),
                self.node_dir(m.key),
                host="127.0.0.1",
                port=port,
                db_url=None,
                now=now,
            )
            # the demo refreshes offline copies every few seconds, so the outage step shows one
            settings = replace(initial, copy_refresh_seconds=2.0)
            save(settings)
            node_store = open_store(settings.db_url)
            try:
                directory = officer_directory(settings, node_store, argon2=params)
                for username, display, role in m.officers:
                    created = directory.add_officer(username, display, role, DEMO_PASSWORD, now)
                    self.logins.append(
                        Login(
                            node=m.key,
                            url=f"https://127.0.0.1:{port}",
                            username=username,
                            password=DEMO_PASSWORD,
                            totp_secret=created.totp_secret,
                            role=role.value,
                        )
                    )
            finally:
                node_store.close()
        (self.root / "logins.json").write_text(
            json.dumps([vars(login) for login in self.logins], indent=2)
        )

    # --- processes -------------------------------------------------------------------

    def _start(self, name: str, args: list[str]) -> None:
        logs = self.root / "logs"
        logs.mkdir(exist_ok=True)
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        # the child keeps its own copy of the descriptor; the parent closes its one at once
        with (logs / f"{name}.log").open("ab") as log:
            self.processes[name] = subprocess.Popen(  # noqa: S603 - our interpreter, our module
                [sys.executable, "-m", "policenet", *args],
                stdout=log,
                stderr=subprocess.STDOUT,
                env=env,
            )

    def start_hub(self) -> None:
        self._start("hub", ["hub", "run", "--dir", str(self.hub_dir)])

    def start_nodes(self) -> None:
        for m in MEMBERS:
            self._start(m.key, ["node", "run", "--dir", str(self.node_dir(m.key))])

    def wait_until_up(self, timeout: float = 30.0) -> None:
        """Wait until the hub accepts a member and every node answers its health check."""
        deadline = time.monotonic() + timeout
        for key in [m.key for m in MEMBERS]:
            url = f"https://127.0.0.1:{self.node_settings(key).port}/health"
            while True:
                self._check_alive()
                try:
                    response = httpx.get(url, verify=False, timeout=2.0)  # noqa: S501 - demo's self-signed node cert
                    if response.json().get("hub_connected"):
                        break
                except (httpx.HTTPError, ValueError):
                    pass
                if time.monotonic() > deadline:
                    raise Unavailable(
                        f"node {key} did not connect to the hub within {timeout:.0f} s "
                        f"(see {self.root / 'logs' / (key + '.log')})"
                    )
                time.sleep(0.2)

    def _check_alive(self) -> None:
        for name, process in self.processes.items():
            if process.poll() is not None:
                raise Unavailable(
                    f"{name} exited with status {process.returncode} "
                    f"(see {self.root / 'logs' / (name + '.log')})"
                )

    def stop(self) -> None:
        for process in self.processes.values():
            if process.poll() is None:
                process.terminate()
        for process in self.processes.values():
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=10)
            if process.poll() is None:
                process.kill()
        self.processes.clear()
