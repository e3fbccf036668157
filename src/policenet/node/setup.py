"""``policenet node init``: a node directory from a member bundle."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from policenet.errors import Conflict, InvalidInput
from policenet.security import pki
from policenet.security.bundle import read_bundle, write_bundle
from policenet.security.tls import create_self_signed_server
from policenet.settings import NodeSettings, load, save
from policenet.store.database import open_store


def init_node(
    bundle: Path,
    directory: Path,
    *,
    host: str,
    port: int,
    db_url: str | None,
    now: datetime,
) -> NodeSettings:
    """Check ``bundle`` and set up a node in ``directory``.

    The bundle is checked whole (key matches certificate, chain to the CA,
    dates, member code) before anything is written. The node gets a
    self-signed certificate for its own HTTPS port (replace it with one from
    the national PKI: ``tls/web.pem`` and ``tls/web.key``). The settings file
    is written last, so a failed init can simply be run again.
    """
    directory = directory.resolve()
    if (directory / "node.toml").exists():
        raise Conflict(f"{directory} already holds a node (node.toml exists)")
    checked = read_bundle(bundle, now)
    settings = NodeSettings(
        directory=directory,
        member=checked.member_code,
        hub_url=checked.hub_url,
        db_url=db_url or "sqlite:///node.db",
        host=host,
        port=port,
    )
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    if settings.bundle_dir.exists() and any(settings.bundle_dir.iterdir()):
        raise Conflict(f"{settings.bundle_dir} exists and is not empty")
    write_bundle(settings.bundle_dir, checked)
    settings.tls_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    names = tuple(dict.fromkeys(("localhost", "127.0.0.1", host)))
    web = create_self_signed_server(names, now)
    pki.write_private_key(settings.tls_dir / "web.key", web.key)
    pki.write_certificates(settings.tls_dir / "web.pem", [web.certificate])
    url = settings.db_url
    if url.startswith("sqlite:///") and not url.startswith("sqlite:////"):
        url = f"sqlite:///{directory / url.removeprefix('sqlite:///')}"
    open_store(url, create=True).close()
    save(settings)
    return load(NodeSettings, directory)


def install_bundle(settings: NodeSettings, bundle: Path, now: datetime) -> None:
    """Replace the node's bundle with a renewed one for the same member (key rotation)."""
    checked = read_bundle(bundle, now)
    if checked.member_code != settings.member:
        raise InvalidInput(
            f"the bundle is for {checked.member_code}, but this node is {settings.member}"
        )
    staging = settings.directory / "bundle.new"
    if staging.exists():
        raise Conflict(f"{staging} exists: remove it after checking no rotation is running")
    write_bundle(staging, checked)
    old = settings.directory / "bundle.old"
    if old.exists():
        for child in old.iterdir():
            child.unlink()
        old.rmdir()
    settings.bundle_dir.rename(old)
    staging.rename(settings.bundle_dir)
