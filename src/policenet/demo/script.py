"""The scripted part of the demo: what a person would do, step by step, over real TLS.

Each step prints what it shows and raises :class:`DemoFailure` if the network
did not behave as it must; ``policenet demo --once`` exits non-zero then.
"""

from __future__ import annotations

import ssl
import time
from collections.abc import Callable
from datetime import date
from typing import Any

import httpx

from policenet.clock import utc_now
from policenet.demo.dna import reference_and_stain
from policenet.demo.network import DemoNetwork, Login
from policenet.domain.members import Admission, MemberKind
from policenet.domain.registers import RegisterName
from policenet.hub.app import create_administration
from policenet.registers.documents.mrz import MachineReadableZone, MrzFormat, format_mrz
from policenet.security.passwords import totp_now
from policenet.security.tls import node_client_context

Say = Callable[[str], None]


class DemoFailure(Exception):
    """The network did not do what the demo expects."""


def expect(condition: bool, message: str) -> None:
    if not condition:
        raise DemoFailure(message)


class NodeSession:
    """An officer logged in at a node's API, over the node's HTTPS port."""

    def __init__(self, network: DemoNetwork, login: Login) -> None:
        web_cert = network.node_dir(login.node) / "tls" / "web.pem"
        self.client = httpx.Client(
            base_url=login.url,
            verify=ssl.create_default_context(cafile=str(web_cert)),
            timeout=15.0,
        )
        answer = self.client.post(
            "/api/v1/login",
            json={
                "username": login.username,
                "password": login.password,
                "otp": totp_now(login.totp_secret, utc_now()),
            },
        )
        expect(answer.status_code == 200, f"login of {login.username} failed: {answer.text}")
        self.client.headers["authorization"] = f"Bearer {answer.json()['token']}"
        self.login = login

    def get(self, path: str, **params: Any) -> Any:
        answer = self.client.get(path, params=params)
        expect(answer.status_code == 200, f"GET {path} failed: {answer.status_code} {answer.text}")
        return answer.json()

    def post(self, path: str, body: Any) -> Any:
        answer = self.client.post(path, json=body)
        expect(answer.status_code == 200, f"POST {path} failed: {answer.status_code} {answer.text}")
        return answer.json()

    def put(self, path: str, body: Any) -> Any:
        answer = self.client.put(path, json=body)
        expect(answer.status_code == 200, f"PUT {path} failed: {answer.status_code} {answer.text}")
        return answer.json()

    def close(self) -> None:
        self.client.close()


class Sessions:
    """One logged-in session per node for the whole script.

    A one-time code is accepted once per 30-second step, so logging the same
    officer in twice within a step is refused, as it must be.
    """

    def __init__(self, network: DemoNetwork) -> None:
        self.network = network
        self.open: dict[str, NodeSession] = {}

    def at(self, node: str) -> NodeSession:
        if node not in self.open:
            login = next(x for x in self.network.logins if x.node == node)
            self.open[node] = NodeSession(self.network, login)
        return self.open[node]

    def close(self) -> None:
        for session in self.open.values():
            session.close()
        self.open.clear()


def step_members(network: DemoNetwork, sessions: Sessions, say: Say) -> None:
    say(
        "1. PC Smith of the Metropolitan Police logs in (password + one-time code) at the Met's "
        "node and lists the network's members through the hub tunnel:"
    )
    met = sessions.at("met")
    members = met.get("/api/v1/members")
    for m in members:
        say(f"     {m['code']:<26} {m['kind']:<6} {m['country'] or '--'}  {m['name']}")
    expect(len(members) == 5, f"expected 5 members, the hub listed {len(members)}")
    status = met.get("/api/v1/status")
    expect(status["hub"]["connected"], "the Met's node is not connected to the hub")


def step_refused(network: DemoNetwork, sessions: Sessions, say: Say) -> None:
    say("2. Connections the hub refuses:")
    settings = network.hub_settings()
    url = f"https://127.0.0.1:{settings.port}/v1/members"
    trust = ssl.create_default_context(cafile=str(settings.ca_dir / "root.pem"))
    try:
        httpx.get(url, verify=trust, timeout=5.0)
        raise DemoFailure("the hub answered a client without a certificate")
    except (httpx.TransportError, ssl.SSLError) as exc:
        say(
            "     without a client certificate: refused in the TLS handshake "
            f"({type(exc).__name__})"
        )
    try:
        httpx.get(f"http://127.0.0.1:{settings.port}/v1/members", timeout=5.0)
        raise DemoFailure("the hub answered plain HTTP")
    except httpx.HTTPError as exc:
        say(f"     plain HTTP: refused ({type(exc).__name__})")


def step_scope_and_events(network: DemoNetwork, sessions: Sessions, say: Say) -> None:
    say(
        "3. NCB London's operator limits what the Met may search; the Met's node hears of it "
        "over its event stream:"
    )
    london, met = sessions.at("london"), sessions.at("met")
    registers = [RegisterName.DOCUMENTS.value, RegisterName.PERSONS.value]
    before = met.get("/api/v1/events")
    london.put(
        "/api/v1/agencies/gb-metropolitan-police/scope",
        {"registers": registers, "copy_enquiries_to_ncb": True},
    )
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        events = met.get("/api/v1/events", after=before[-1]["id"] if before else 0)
        changed = [e for e in events if e["kind"] == "member.scope-changed"]
        if changed:
            say(
                f"     event {changed[-1]['id']} at the Met: may now search "
                f"{', '.join(changed[-1]['payload']['registers'])}"
            )
            return
        time.sleep(0.2)
    raise DemoFailure("the Met's node did not receive the scope change event")


STOLEN_PASSPORT = "561204317"
"""The US passport the demo reports stolen (a made-up number)."""


def demo_passport_mrz() -> str:
    """The MRZ of the stolen demo passport, as a border reader would return it."""
    zone = MachineReadableZone(
        format=MrzFormat.TD3,
        document_code="P",
        issuing_state="USA",
        document_number=STOLEN_PASSPORT,
        primary_identifier="DOE",
        secondary_identifiers="JOHN",
        nationality="USA",
        birth_date=date(1985, 7, 4),
        sex="M",
        expiry_date=date(2031, 3, 1),
    )
    return format_mrz(zone)


STOLEN_CSV = f"""issuing_state,document_type,number,status,reported_date,reference,caveats
USA,passport,{STOLEN_PASSPORT},stolen-from-holder,2026-10-02,WFO-2026-1187,
USA,passport,488120733,lost,2026-09-14,WFO-2026-1042,
USA,passport,not/valid,stolen-blank,2026-08-01,WFO-2026-0999,
USA,passport,300099881,stolen-blank,2026-08-01,WFO-2026-1001,seized blank: handle as evidence
GBR,passport,123456789,lost,2026-08-01,WFO-2026-1002,
"""


def step_report_documents(network: DemoNetwork, sessions: Sessions, say: Say) -> None:
    say(
        "4. NCB Washington loads its stolen and lost passports (a CSV through its node): "
        "bad rows are reported by line while the good rows land:"
    )
    washington = sessions.at("washington")
    answer = washington.client.post(
        "/api/v1/documents/load", params={"format": "csv"}, content=STOLEN_CSV.encode()
    )
    expect(answer.status_code == 200, f"the load failed: {answer.status_code} {answer.text}")
    report = answer.json()
    say(f"     added {report['added']}, rejected {report['rejected_count']}:")
    for row in report["rejected"]:
        say(f"       line {row['line']}: {row['reason']}")
    expect(report["added"] == 3, f"expected 3 documents added, got {report}")
    expect([r["line"] for r in report["rejected"]] == [4, 6], f"unexpected rejections {report}")


def step_border_check(network: DemoNetwork, sessions: Sessions, say: Say) -> None:
    say(
        "5. At a London border post PC Smith (Metropolitan Police) scans a US passport: "
        "a hit on NCB Washington's record, and both NCBs are told:"
    )
    met, london = sessions.at("met"), sessions.at("london")
    before = london.get("/api/v1/events")
    answer = met.client.post(
        "/api/v1/documents/check", json={"documents": [{"mrz": demo_passport_mrz()}]}
    )
    expect(answer.status_code == 200, f"the check failed: {answer.status_code} {answer.text}")
    hits = answer.json()["answers"][0].get("hits", [])
    expect(len(hits) == 1, f"expected one hit, got {answer.json()}")
    hit = hits[0]
    expect(bool(hit.get("case")), f"the hit opened no case: {hit}")
    network.case_number = hit["case"]
    say(
        f"     HIT: {hit['key']} owned by {hit['owner_name']}: {hit['record']['status']}, "
        f"their reference {hit['record']['reference']}"
    )
    say(f"     {hit['advice']}")
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        events = london.get("/api/v1/events", after=before[-1]["id"] if before else 0)
        told = [e for e in events if e["kind"] == "register.hit"]
        if told:
            say(
                f"     NCB London's node got event {told[-1]['id']}: its agency "
                f"{told[-1]['payload']['enquirer']} hit {told[-1]['payload']['key']}"
            )
            return
        time.sleep(0.2)
    raise DemoFailure("NCB London was not told of its agency's hit")


def step_follow_up(network: DemoNetwork, sessions: Sessions, say: Say) -> None:
    say(
        f"6. Case {network.case_number}: NCB Washington sees it in its inbox and confirms the "
        "hit; NCB London reports the seizure in a sealed message and closes the case:"
    )
    washington, london = sessions.at("washington"), sessions.at("london")
    number = network.case_number
    inbox = washington.get("/api/v1/cases")
    expect(any(c["number"] == number for c in inbox), f"{number} is not in Washington's inbox")
    case = next(c for c in inbox if c["number"] == number)
    say(
        f"     Washington's inbox: {number}, {case['state']}, answer due by "
        f"{case['deadline'][:16].replace('T', ' ')} UTC"
    )
    washington.post(f"/api/v1/cases/{number}/transition", {"to": "acknowledged"})
    washington.post(
        f"/api/v1/cases/{number}/transition",
        {
            "to": "confirmed",
            "note": "passport reported stolen from holder on 2 October; still outstanding",
        },
    )
    seen = london.get(f"/api/v1/cases/{number}")
    expect(seen["state"] == "confirmed", f"London sees {seen['state']}, not confirmed")
    say(f"     London sees: confirmed by {seen['owner_ncb']} ({seen['note']})")
    report = (
        b"Seizure report\nPassport USA 561204317 seized at Heathrow T5, 29 November, 09:40.\n"
        b"Holder detained for questioning; the document is held as evidence.\n"
    )
    uploaded = london.client.post("/api/v1/uploads", content=report)
    expect(uploaded.status_code == 200, f"upload failed: {uploaded.text}")
    sent = london.post(
        "/api/v1/messages",
        {
            "case": number,
            "kind": "action-taken",
            "fields": {"action": "document-seized", "place": "London Heathrow T5"},
            "text": "The document was seized at the border. Report attached.",
            "attachments": [{"upload": uploaded.json()["upload"], "name": "seizure-report.txt"}],
        },
    )
    say(
        f"     London sends message {sent['id']} (action taken: document seized) with an "
        "attachment, sealed for Washington and signed by London"
    )
    inbox = washington.get("/api/v1/messages", case=number)
    expect(len(inbox) == 1 and inbox[0]["signature_verified"], f"Washington read {inbox}")
    got = washington.client.get(f"/api/v1/messages/{inbox[0]['id']}/attachments/0")
    expect(got.status_code == 200 and got.content == report, "the attachment did not arrive whole")
    say(
        f"     Washington opens it: signature verified, '{inbox[0]['text']}', attachment "
        f"{inbox[0]['attachment_names'][0]} ({len(got.content)} bytes) intact"
    )
    closed = london.post(
        f"/api/v1/cases/{number}/transition",
        {"to": "closed", "note": "document seized at the border"},
    )
    expect(closed["state"] == "closed", f"the case did not close: {closed}")
    actions = [e["action"] for e in london.get(f"/api/v1/cases/{number}")["timeline"]]
    say(f"     timeline: {' -> '.join(actions)}")


def step_dna(network: DemoNetwork, sessions: Sessions, say: Say) -> None:
    say(
        "7. DNA: NCB Washington holds a convicted person's reference profile; NCB Lyon searches "
        "a two-person crime-scene stain and gets a moderate-stringency match with its "
        "likelihood ratio, but no personal data:"
    )
    washington, lyon = sessions.at("washington"), sessions.at("lyon")
    reference, stain = reference_and_stain()
    loaded = washington.post("/api/v1/dna/records", {"rows": [reference]})
    expect(loaded["added"] == 1, f"the reference profile was not loaded: {loaded}")
    answer = lyon.post("/api/v1/dna/search", {"profile": stain, "stringency": "moderate"})
    hits = answer["hits"]
    expect(len(hits) == 1, f"expected one DNA hit, got {answer}")
    hit = hits[0]
    expect(
        hit["record"] is None and hit["access"] == "reference-only",
        "a DNA hit must not show the profile",
    )
    details = hit["details"]
    say(
        f"     HIT {hit['key']} owned by {hit['owner_name']}: {details['rule']} over "
        f"{details['loci_count']} loci, LR about 10^{details['log10_likelihood_ratio']:.0f} "
        f"({details['statistic']}); case {hit['case']}"
    )
    case = lyon.get(f"/api/v1/cases/{hit['case']}")
    expect(
        "likelihood_ratio" in case["hit"] and "D3S1358" not in str(case["hit"].get("record")),
        "the case should carry the likelihood ratio and no alleles",
    )
    say(
        f"     the case between {case['enquirer_ncb']} and {case['owner_ncb']} shows the "
        "likelihood ratio; the reference's alleles and identity stay with its owner"
    )


RED_NOTICE = {
    "reference": "FR-2026-RN-0117",
    "kind": "red",
    "given_names": "Karim",
    "surname": "Benhaddou",
    "aliases": "كريم بن حدو",
    "dates_of_birth": "1984-03-17",
    "nationalities": "FR;MA",
    "sex": "M",
    "charges": "armed robbery; attempted murder (Code pénal art. 311-8, 221-1)",
    "authority": "Tribunal judiciaire de Lyon, juge d'instruction",
}
"""NCB Lyon's red notice in the demo (a made-up person)."""


def step_persons(network: DemoNetwork, sessions: Sessions, say: Say) -> None:
    say(
        "8. Persons: NCB Lyon issues a red notice on Karim Benhaddou (with his name in Arabic "
        "script); at JFK an NYPD detective checks a traveller whose passport reads "
        "'Kareem BEN HADDOU', born 1984, and gets the hit with its explanation:"
    )
    lyon, nypd = sessions.at("lyon"), sessions.at("nypd")
    loaded = lyon.post("/api/v1/persons/records", {"rows": [RED_NOTICE]})
    expect(loaded["added"] == 1, f"the red notice was not loaded: {loaded}")
    answer = nypd.post(
        "/api/v1/persons/search", {"name": "Kareem BEN HADDOU", "date_of_birth": "1984"}
    )
    hits = answer["hits"]
    expect(len(hits) == 1, f"expected one hit on the red notice, got {answer}")
    hit = hits[0]
    expect(hit["key"] == RED_NOTICE["reference"], f"the hit is not the red notice: {hit}")
    expect(bool(hit["case"]), "the hit should open a case with NCB Lyon")
    record = hit["record"]
    say(
        f"     HIT {record['kind']} notice {hit['key']} owned by {hit['owner_name']}: "
        f"score {hit['score']:.2f} ({hit['strength']}); wanted for {record['charges']}"
    )
    for line in hit["explanation"]:
        say(f"       - {line}")
    case = lyon.get(f"/api/v1/cases/{hit['case']}")
    say(
        f"     case {case['number']} opened between {case['enquirer_ncb']} and "
        f"{case['owner_ncb']}; NCB Lyon sees it in its case list"
    )


def step_offline(network: DemoNetwork, sessions: Sessions, say: Say) -> None:
    say(
        "9. The link to the hub goes down: the Met's node answers from its signed offline "
        "copy and says how old it is; when the hub is back the hit is re-checked live:"
    )
    met = sessions.at("met")
    deadline = time.monotonic() + 30
    while not (met.get("/api/v1/status").get("offline_copy") or {}).get("records"):
        expect(time.monotonic() < deadline, "the Met's offline copy was not filled in 30 s")
        time.sleep(0.25)
    hub = network.processes["hub"]
    hub.terminate()
    hub.wait(timeout=15)
    answer = met.client.post(
        "/api/v1/documents/check", json={"documents": [{"mrz": demo_passport_mrz()}]}
    )
    expect(answer.status_code == 200, f"offline check failed: {answer.status_code} {answer.text}")
    body = answer.json()
    expect(body["source"] == "copy", f"expected an answer from the copy, got {body['source']}")
    hits = body["answers"][0].get("hits", [])
    expect(len(hits) == 1, f"expected the hit from the copy, got {body}")
    say(
        f"     hub down: HIT from the offline copy ({body['copy_age_seconds']} s old): "
        f"{hits[0]['key']}"
    )
    pending = met.get("/api/v1/status")["offline_copy"]["pending_rechecks"]
    expect(pending == 1, f"expected the offline hit to wait for a re-check, found {pending}")
    network.start_hub()
    network.wait_until_up(timeout=60)
    deadline = time.monotonic() + 30
    while met.get("/api/v1/status")["offline_copy"]["pending_rechecks"]:
        expect(time.monotonic() < deadline, "the offline hit was not re-checked within 30 s")
        time.sleep(0.25)
    say("     hub back: the node re-checked the offline hit with the hub (audited there)")


def step_revocation(network: DemoNetwork, sessions: Sessions, say: Say) -> None:
    say(
        "10. A key is lost: the hub administrator revokes the member, and the hub refuses it "
        "without a restart:"
    )
    settings = network.hub_settings()
    bundle = network.root / "bundles" / "gmp"
    admin, store = create_administration(settings)
    try:
        admin.admit(
            Admission(
                kind=MemberKind.AGENCY,
                name="Greater Manchester Police",
                country="GB",
                parent="ncb-gb",
            ),
            bundle,
        )
    finally:
        store.close()
    context = node_client_context(bundle / "member.pem", bundle / "member.key", bundle / "ca.pem")
    url = f"https://localhost:{settings.port}/v1/whoami"
    answer = httpx.get(url, verify=context, timeout=5.0)
    expect(answer.status_code == 200, f"the new member was not served: {answer.text}")
    say(f"     admitted {answer.json()['member']['code']}: the hub knows it by its certificate")
    admin, store = create_administration(settings)
    try:
        admin.revoke("gb-greater-manchester-police", "key_compromise")
    finally:
        store.close()
    started = time.monotonic()
    while time.monotonic() - started < 60:
        try:
            answer = httpx.get(url, verify=context, timeout=5.0)
        except httpx.TransportError:
            say(
                "     after revocation: refused in the TLS handshake "
                f"({time.monotonic() - started:.1f} s)"
            )
            return
        if answer.status_code == 403:
            say(
                f"     after revocation: {answer.json()['message']} "
                f"({time.monotonic() - started:.1f} s)"
            )
            return
        time.sleep(0.25)
    raise DemoFailure("the hub still served a revoked member after 60 s")


def step_audit(network: DemoNetwork, sessions: Sessions, say: Say) -> None:
    say(
        "11. Every request is in the hub's audit log; the Met's node checks a signed tree head "
        "and an inclusion proof itself:"
    )
    met = sessions.at("met")
    head = met.get("/api/v1/audit/tree-head")
    expect(head["signature_verified"], "tree head signature not verified")
    seq = max(0, head["tree_size"] - 1)
    proof = met.get("/api/v1/audit/proofs/inclusion", seq=seq)
    expect(proof["verified"], "inclusion proof not verified")
    say(
        f"     tree of {head['tree_size']} entries, root {head['root_hash'][:16]}..., "
        f"signature verified; entry {seq} proven with {len(proof['proof'])} hashes"
    )


Step = Callable[[DemoNetwork, Sessions, Say], None]
STEPS: tuple[Step, ...] = (
    step_members,
    step_refused,
    step_scope_and_events,
    step_report_documents,
    step_border_check,
    step_follow_up,
    step_dna,
    step_persons,
    step_offline,
    step_revocation,
    step_audit,
)


def run_script(network: DemoNetwork, say: Say) -> None:
    """Run every step in order; DemoFailure on the first that goes wrong."""
    sessions = Sessions(network)
    try:
        for step in STEPS:
            step(network, sessions, say)
    finally:
        sessions.close()
