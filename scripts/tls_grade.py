"""Grade a policenet hub's TLS endpoint with sslyze against Mozilla's "modern" profile.

Runs inside the sslyze virtual environment (``.venv-sslyze``, made by
``scripts/tls-check``), never in the project's: sslyze pins an older
cryptography. It imports nothing from policenet.

What it does, in order
    1. An sslyze scan with the member's client certificate (member.pem: leaf
       and issuing CA) and the network's root CA as trust store: SSL 2.0/3.0
       and TLS 1.0-1.3 cipher suites, certificate, curves, renegotiation,
       compression, Heartbleed, ROBOT, CCS injection, TLS_FALLBACK_SCSV,
       extended master secret, early data.
    2. The SSL 2.0 scan again with the leaf certificate alone: nassl's legacy
       OpenSSL cannot load a certificate *chain* file into an SSLv2 context
       (``use_certificate_chain_file`` fails), so step 1 always errors there.
       The leaf alone is still a valid credential at the hub (its trust file
       holds the issuing CA), and the result replaces the errored attempt.
    3. sslyze's connectivity probe without credentials, which classifies the
       server's client-certificate requirement. It needs the server's TLS
       alert; the hub (asyncio under uvicorn) closes the connection without
       one (CPython gh-98078), so sslyze reports a connection failure. That
       is recorded as a note, not a check: step 5 tests the same property
       directly.
    4. sslyze's own Mozilla checker
       (``sslyze.mozilla_tls_profile.tls_config_checker``) at "modern"; each
       issue it reports is a failed check.
    5. Explicit checks of the hub's design: TLS 1.3 only, no suite of TLS <=
       1.2, an ECDSA P-256 certificate chaining to the given root, no 0-RTT,
       and with Python's ssl module: the member certificate is accepted (the
       control), no client certificate and a certificate from a foreign CA
       are refused, and no TLS 1.3 session ticket is issued.

Exit status: 0 when every check passes, 1 when any fails, 2 when the scan
could not run (server unreachable, bad arguments). The report goes to
stdout; ``--json`` also writes it, with sslyze's full scan result, to a file.
"""

from __future__ import annotations

import argparse
import dataclasses
import importlib.metadata
import json
import socket
import ssl
import sys
import tempfile
import warnings
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

# sslyze parses the trust stores it bundles (Mozilla, Apple, ...) on every
# certificate scan; some of their old roots have non-positive serial numbers.
# The warning is about those stores, not about the server under test.
warnings.filterwarnings("ignore", message="Parsed a serial number which wasn't positive")

from sslyze import (  # noqa: E402 - after the warning filter
    CertificateInfoExtraArgument,
    CipherSuitesScanResult,
    ClientAuthenticationCredentials,
    ClientAuthRequirementEnum,
    ScanCommand,
    ScanCommandAttemptStatusEnum,
    ScanCommandsExtraArguments,
    Scanner,
    ServerConnectivityStatusEnum,
    ServerNetworkConfiguration,
    ServerNetworkLocation,
    ServerScanRequest,
    ServerScanResult,
    ServerScanResultAsJson,
)
from sslyze.mozilla_tls_profile.tls_config_checker import (  # noqa: E402
    MozillaTlsConfiguration,
    ServerNotCompliantWithTlsConfiguration,
    ServerScanResultIncomplete,
    TlsConfigurationEnum,
    check_server_against_tls_configuration,
)

PROFILE = TlsConfigurationEnum.MOZILLA_MODERN
SSLYZE_VERSION = importlib.metadata.version("sslyze")

LEGACY_VERSIONS = (
    (ScanCommand.SSL_2_0_CIPHER_SUITES, "SSL 2.0"),
    (ScanCommand.SSL_3_0_CIPHER_SUITES, "SSL 3.0"),
    (ScanCommand.TLS_1_0_CIPHER_SUITES, "TLS 1.0"),
    (ScanCommand.TLS_1_1_CIPHER_SUITES, "TLS 1.1"),
    (ScanCommand.TLS_1_2_CIPHER_SUITES, "TLS 1.2"),
)

SCAN_COMMANDS = {
    ScanCommand.CERTIFICATE_INFO,
    *(command for command, _ in LEGACY_VERSIONS),
    ScanCommand.TLS_1_3_CIPHER_SUITES,
    ScanCommand.ELLIPTIC_CURVES,
    ScanCommand.SESSION_RENEGOTIATION,
    ScanCommand.TLS_COMPRESSION,
    ScanCommand.HEARTBLEED,
    ScanCommand.ROBOT,
    ScanCommand.OPENSSL_CCS_INJECTION,
    ScanCommand.TLS_FALLBACK_SCSV,
    ScanCommand.TLS_EXTENDED_MASTER_SECRET,
    ScanCommand.TLS_1_3_EARLY_DATA,
}

# An HTTP request that any HTTP/1.1 server answers; only "some bytes came back" matters.
PROBE_REQUEST = b"GET / HTTP/1.1\r\nHost: %b\r\nConnection: close\r\n\r\n"


@dataclasses.dataclass(frozen=True)
class Target:
    """Where the hub listens and what a member holds to reach it."""

    hostname: str
    ip: str
    port: int
    client_chain: Path
    client_key: Path
    root_ca: Path


@dataclasses.dataclass(frozen=True)
class Check:
    """One pass/fail line of the report; ``detail`` says what was seen."""

    name: str
    passed: bool
    detail: str


class ScanFailed(Exception):
    """sslyze could not scan the server at all (not reachable, no TLS, bad input)."""


# --- sslyze ---------------------------------------------------------------------------------


def _scan(target: Target, commands: set[ScanCommand], chain: Path | None) -> ServerScanResult:
    """One sslyze scan of ``target``; ``chain`` None means no client certificate."""
    credentials = (
        ClientAuthenticationCredentials(certificate_chain_path=chain, key_path=target.client_key)
        if chain is not None
        else None
    )
    extra = (
        ScanCommandsExtraArguments(
            certificate_info=CertificateInfoExtraArgument(custom_ca_file=target.root_ca)
        )
        if ScanCommand.CERTIFICATE_INFO in commands
        else ScanCommandsExtraArguments()
    )
    request = ServerScanRequest(
        server_location=ServerNetworkLocation(target.hostname, target.port, target.ip),
        network_configuration=ServerNetworkConfiguration(
            tls_server_name_indication=target.hostname,
            tls_client_auth_credentials=credentials,
        ),
        scan_commands=commands,
        scan_commands_extra_arguments=extra,
    )
    scanner = Scanner()
    scanner.queue_scans([request])
    (result,) = scanner.get_results()
    if result.connectivity_status != ServerConnectivityStatusEnum.COMPLETED:
        raise ScanFailed(
            f"sslyze could not connect to {target.hostname}:{target.port} ({target.ip}): "
            f"{result.connectivity_error_trace}"
        )
    return result


def _first_certificate(chain: Path, into: Path) -> Path:
    """Write the first PEM certificate of ``chain`` to ``into``/leaf.pem and return that path."""
    certificates = x509.load_pem_x509_certificates(chain.read_bytes())
    if not certificates:
        raise ScanFailed(f"{chain} holds no PEM certificate")
    leaf = into / "leaf.pem"
    leaf.write_bytes(certificates[0].public_bytes(serialization.Encoding.PEM))
    return leaf


def scan_hub(target: Target, workdir: Path) -> tuple[ServerScanResult, ServerScanResult | str]:
    """The full scan (SSL 2.0 redone with the leaf alone), and a probe without credentials.

    The probe is its result, or why sslyze could not complete it.
    """
    full = _scan(target, SCAN_COMMANDS, target.client_chain)
    sslv2 = _scan(
        target,
        {ScanCommand.SSL_2_0_CIPHER_SUITES},
        _first_certificate(target.client_chain, workdir),
    )
    assert full.scan_result is not None and sslv2.scan_result is not None
    merged = dataclasses.replace(
        full,
        scan_result=dataclasses.replace(
            full.scan_result, ssl_2_0_cipher_suites=sslv2.scan_result.ssl_2_0_cipher_suites
        ),
    )
    anonymous: ServerScanResult | str
    try:
        anonymous = _scan(target, set(), None)
    except ScanFailed as exc:
        anonymous = str(exc)
    return merged, anonymous


def _result(scan: ServerScanResult, command: ScanCommand) -> Any:
    """The result of ``command``, or None when it did not complete."""
    assert scan.scan_result is not None
    attempt = getattr(scan.scan_result, command.value)
    if attempt.status != ScanCommandAttemptStatusEnum.COMPLETED:
        return None
    return attempt.result


def scan_errors(scan: ServerScanResult) -> list[Check]:
    """A failed check for each scan command that did not complete."""
    checks = []
    for command in sorted(SCAN_COMMANDS, key=lambda c: c.value):
        attempt = getattr(scan.scan_result, command.value)
        if attempt.status == ScanCommandAttemptStatusEnum.COMPLETED:
            continue
        last = "".join(attempt.error_trace.format()).strip().splitlines()[-1:] or ["no trace"]
        checks.append(
            Check(
                f"sslyze {command.value} ran",
                False,
                f"{attempt.status.value} ({attempt.error_reason}): {last[0]}",
            )
        )
    return checks


def mozilla_checks(scan: ServerScanResult) -> tuple[list[Check], dict[str, str]]:
    """sslyze's Mozilla checker at "modern": one check, or one failed check per issue."""
    config = MozillaTlsConfiguration.get(PROFILE)
    try:
        check_server_against_tls_configuration(scan, config)
    except ServerNotCompliantWithTlsConfiguration as exc:
        issues = dict(sorted(exc.issues.items()))
        return [Check(f"mozilla-{PROFILE.value}: {k}", False, v) for k, v in issues.items()], issues
    except ServerScanResultIncomplete as exc:
        issue = {"scan_incomplete": str(exc)}
        return [Check(f"mozilla-{PROFILE.value}: scan complete", False, str(exc))], issue
    return [Check(f"mozilla-{PROFILE.value}", True, "no issue reported by sslyze")], {}


def design_checks(scan: ServerScanResult, target: Target) -> list[Check]:
    """The hub's own promises, read from the sslyze results."""
    checks = []

    versions: dict[str, CipherSuitesScanResult | None] = {
        name: _result(scan, command) for command, name in LEGACY_VERSIONS
    }
    versions["TLS 1.3"] = _result(scan, ScanCommand.TLS_1_3_CIPHER_SUITES)
    unknown = sorted(name for name, r in versions.items() if r is None)
    accepted = sorted(name for name, r in versions.items() if r and r.is_tls_version_supported)
    checks.append(
        Check(
            "only TLS 1.3 accepted",
            accepted == ["TLS 1.3"] and not unknown,
            f"accepted: {', '.join(accepted) or 'none'}"
            + (f"; not scanned: {', '.join(unknown)}" if unknown else ""),
        )
    )

    legacy_suites = sorted(
        f"{name} {suite.cipher_suite.name}"
        for name, r in versions.items()
        if r is not None and name != "TLS 1.3"
        for suite in r.accepted_cipher_suites
    )
    checks.append(
        Check(
            "no cipher suite of TLS <= 1.2 accepted",
            not legacy_suites and not unknown,
            ", ".join(legacy_suites) or "none accepted",
        )
    )

    tls13 = versions["TLS 1.3"]
    suites = sorted(s.cipher_suite.name for s in tls13.accepted_cipher_suites) if tls13 else []
    checks.append(Check("TLS 1.3 suites accepted", bool(suites), ", ".join(suites) or "none"))

    checks.append(_certificate_check(scan, target))

    early = _result(scan, ScanCommand.TLS_1_3_EARLY_DATA)
    checks.append(
        Check(
            "no 0-RTT early data",
            early is not None and not early.supports_early_data,
            "not scanned" if early is None else f"supports_early_data={early.supports_early_data}",
        )
    )
    return checks


def client_auth_probe(anonymous: ServerScanResult | str) -> tuple[list[Check], list[str]]:
    """sslyze's verdict on client certificates: a check when it has one, else a note."""
    if isinstance(anonymous, str):
        return [], [
            "sslyze could not classify client authentication without credentials (the server "
            f"closed without a TLS alert?): {anonymous}"
        ]
    requirement = anonymous.connectivity_result.client_auth_requirement  # type: ignore[union-attr]
    check = Check(
        "sslyze sees client certificate required",
        requirement == ClientAuthRequirementEnum.REQUIRED,
        f"client_auth_requirement={requirement.value}",
    )
    return [check], []


def _certificate_check(scan: ServerScanResult, target: Target) -> Check:
    info = _result(scan, ScanCommand.CERTIFICATE_INFO)
    name = "certificate ECDSA P-256, chains to the root CA"
    if info is None:
        return Check(name, False, "certificate_info not scanned")
    problems, seen = [], []
    for deployment in info.certificate_deployments:
        leaf = deployment.received_certificate_chain[0]
        key = leaf.public_key()
        curve = key.curve.name if isinstance(key, ec.EllipticCurvePublicKey) else None
        seen.append(
            f"{leaf.subject.rfc4514_string()}: {curve or type(key).__name__}, "
            f"{(leaf.not_valid_after_utc - leaf.not_valid_before_utc).days} days"
        )
        if curve != "secp256r1":
            problems.append(f"key is {curve or type(key).__name__}, not ECDSA secp256r1")
        ours = [
            v
            for v in deployment.path_validation_results
            if v.trust_store.path.resolve() == target.root_ca.resolve()
        ]
        if not ours or not ours[0].was_validation_successful:
            reason = ours[0].openssl_error_string if ours else "not validated"
            problems.append(f"does not chain to {target.root_ca.name}: {reason}")
    if not seen:
        problems.append("no certificate received")
    return Check(name, not problems, "; ".join(problems + seen))


# --- Python's ssl module --------------------------------------------------------------------


def _client_context(target: Target, chain: Path | None, key: Path | None) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.minimum_version = ssl.TLSVersion.TLSv1_3
    context.load_verify_locations(cafile=target.root_ca)
    if chain is not None:
        context.load_cert_chain(chain, key)
    return context


def _exchange(target: Target, context: ssl.SSLContext) -> tuple[bytes, str, bool]:
    """Send one HTTP request; (bytes received, how it ended, whether a session ticket came).

    In TLS 1.3 the client finishes its handshake before the server has
    checked the client certificate; a refusal shows up on the first read.
    """
    received = b""
    ticket = False
    try:
        with (
            socket.create_connection((target.ip, target.port), timeout=10) as raw,
            context.wrap_socket(
                raw, server_hostname=target.hostname, suppress_ragged_eofs=False
            ) as tls,
        ):
            tls.sendall(PROBE_REQUEST % target.hostname.encode("ascii"))
            try:
                while chunk := tls.recv(65536):
                    received += chunk
                ending = "server closed the connection cleanly"
            finally:
                # Tickets arrive after the handshake; look before an abrupt end propagates.
                session = tls.session
                ticket = session is not None and session.has_ticket
    except ssl.SSLEOFError:
        ending = "TCP closed without a TLS alert"
    except ssl.SSLError as exc:
        ending = f"TLS alert: {exc.reason or exc}"
    except OSError as exc:
        ending = f"connection error: {exc}"
    return received, ending, ticket


def _foreign_credentials(into: Path) -> tuple[Path, Path]:
    """A self-signed ECDSA P-256 client certificate that no policenet CA issued."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "tls-check foreign member")])
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(hours=1))
        .sign(key, hashes.SHA256())
    )
    chain, key_path = into / "foreign.pem", into / "foreign.key"
    chain.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return chain, key_path


def client_auth_checks(target: Target, workdir: Path) -> list[Check]:
    """Member accepted (the control), anonymous and foreign clients refused, no tickets."""
    member = _client_context(target, target.client_chain, target.client_key)
    data, ending, ticket = _exchange(target, member)
    first_line = data.split(b"\r\n", 1)[0].decode("latin-1") if data else ""
    checks = [
        Check(
            "member certificate accepted (control)",
            bool(data),
            f"answered {first_line!r}" if data else f"no answer: {ending}",
        ),
        Check(
            "no TLS 1.3 session ticket issued",
            bool(data) and not ticket,
            "ticket received" if ticket else "none received",
        ),
    ]
    refusals = (
        ("connection without a client certificate refused", _client_context(target, None, None)),
        (
            "client certificate from a foreign CA refused",
            _client_context(target, *_foreign_credentials(workdir)),
        ),
    )
    for name, context in refusals:
        data, ending, _ = _exchange(target, context)
        detail = f"{len(data)} bytes of application data, then {ending}" if data else ending
        checks.append(Check(name, not data, detail))
    return checks


# --- report -----------------------------------------------------------------------------------


def _profile_version() -> str:
    path = getattr(MozillaTlsConfiguration, "_JSON_PROFILE_PATH", None)
    if path is None:
        return "unknown"
    return str(json.loads(Path(path).read_text())["version"])


def print_report(
    target: Target, scan: ServerScanResult, checks: Iterable[Check], notes: Iterable[str]
) -> None:
    print(f"== TLS grade of {target.hostname}:{target.port} ({target.ip})")
    print(f"   sslyze {SSLYZE_VERSION}, Mozilla profile {PROFILE.value} {_profile_version()}")
    probe = scan.connectivity_result
    if probe is not None:
        version = probe.highest_tls_version_supported.name
        print(f"   negotiated: {version}, {probe.cipher_suite_supported}")
    curves = _result(scan, ScanCommand.ELLIPTIC_CURVES)
    if curves is not None:
        print(f"   key exchange groups: {', '.join(c.name for c in curves.supported_curves or [])}")
    print()
    for check in checks:
        print(f"   {'PASS' if check.passed else 'FAIL'}  {check.name}: {check.detail}")
    for note in notes:
        print(f"   NOTE  {note}")
    print()


def write_json(
    path: Path,
    target: Target,
    scan: ServerScanResult,
    checks: list[Check],
    notes: list[str],
    issues: dict[str, str],
    started: datetime,
) -> None:
    document = {
        "tool": "scripts/tls-check",
        "sslyze_version": SSLYZE_VERSION,
        "openssl_of_python_checks": ssl.OPENSSL_VERSION,
        "profile": {"name": f"mozilla-{PROFILE.value}", "version": _profile_version()},
        "target": {"hostname": target.hostname, "ip": target.ip, "port": target.port},
        "started": started.isoformat(),
        "finished": datetime.now(UTC).isoformat(),
        "passed": all(c.passed for c in checks),
        "checks": [dataclasses.asdict(c) for c in checks],
        "mozilla_issues": issues,
        "notes": notes,
        "sslyze_scan": json.loads(ServerScanResultAsJson.model_validate(scan).model_dump_json()),
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document, indent=2) + "\n")


def parse_args(argv: list[str]) -> tuple[Target, Path | None]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--hostname", required=True, help="name in the hub certificate (SNI)")
    parser.add_argument("--ip", required=True, help="address to connect to")
    parser.add_argument("--port", required=True, type=int)
    parser.add_argument("--client-cert", required=True, type=Path, help="member.pem of a bundle")
    parser.add_argument("--client-key", required=True, type=Path, help="member.key of a bundle")
    parser.add_argument("--ca", required=True, type=Path, help="ca.pem of a bundle (root CA)")
    parser.add_argument("--json", type=Path, help="write the results here")
    args = parser.parse_args(argv)
    for option, path in (
        ("--client-cert", args.client_cert),
        ("--client-key", args.client_key),
        ("--ca", args.ca),
    ):
        if not path.is_file():
            parser.error(f"{option} {path}: no such file")
    target = Target(args.hostname, args.ip, args.port, args.client_cert, args.client_key, args.ca)
    return target, args.json


def main(argv: list[str]) -> int:
    target, json_path = parse_args(argv)
    started = datetime.now(UTC)
    with tempfile.TemporaryDirectory(prefix="tls-grade-") as tmp:
        workdir = Path(tmp)
        try:
            scan, anonymous = scan_hub(target, workdir)
        except ScanFailed as exc:
            print(f"tls-check: ERROR: {exc}", file=sys.stderr)
            return 2
        mozilla, issues = mozilla_checks(scan)
        probe, notes = client_auth_probe(anonymous)
        checks = [
            *scan_errors(scan),
            *mozilla,
            *design_checks(scan, target),
            *probe,
            *client_auth_checks(target, workdir),
        ]
    print_report(target, scan, checks, notes)
    if json_path is not None:
        write_json(json_path, target, scan, checks, notes, issues, started)
    failed = [c for c in checks if not c.passed]
    where = f"; details in {json_path}" if json_path else ""
    if failed:
        print(
            f"tls-check: FAIL: {len(failed)} of {len(checks)} checks failed "
            f"({'; '.join(c.name for c in failed)}){where}"
        )
        return 1
    print(
        f"tls-check: PASS: {target.hostname}:{target.port} meets Mozilla {PROFILE.value} "
        f"and the hub's TLS design ({len(checks)} checks){where}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
