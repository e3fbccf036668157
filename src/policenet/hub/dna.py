"""The DNA register at the hub: anonymous STR profiles, matched by the rules laboratories use.

Profiles carry no name: a match gives the enquirer the owner, the reference,
the rule, the loci compared and the weight of the match (likelihood ratio),
never the other profile's alleles unless its owner shares it in full. DNA
records are reference-only unless a row says otherwise.

The weight of a match is computed here, where both profiles are known: a
single-source match weighs 1 / RMP over the loci compared (NRC II 4.10,
θ = 0.01, the shipped NIST 1036 frequencies); a single-source reference
against a mixed stain weighs 1 / CPI (random man not excluded). Nothing is
claimed for a mixture against a mixture.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime
from typing import Any

from policenet.domain.access import Access, decide
from policenet.domain.cases import DeadlinePolicy
from policenet.errors import InvalidField
from policenet.hub.answering import answer
from policenet.hub.caller import Caller
from policenet.hub.enquiry import record_enquiry, require_register
from policenet.hub.live import PayloadIndex
from policenet.registers.dna.codec import from_payload
from policenet.registers.dna.index import DnaCandidate, DnaIndex
from policenet.registers.dna.kinship import Relationship, rank_candidates
from policenet.registers.dna.matching import Stringency, kinship_targets
from policenet.registers.dna.profile import MIN_LOCI, DnaProfile
from policenet.registers.dna.rules import REGISTER, DnaRules
from policenet.registers.dna.statistics import (
    StatisticResult,
    combined_probability_of_inclusion,
    random_match_probability,
)
from policenet.registers.hits import Hit
from policenet.security.auditlog import AuditLog
from policenet.store.ports import UnitOfWork


def weigh(probe: DnaProfile, record: DnaProfile, loci: tuple[str, ...]) -> StatisticResult | None:
    """The statistic of a match over ``loci`` (see the module docstring); None if none applies."""
    if probe.single_source and record.single_source:
        return random_match_probability({locus: record.loci[locus] for locus in loci})
    if probe.mixture and record.mixture:
        return None
    single, mixed = (record, probe) if probe.mixture else (probe, record)
    return combined_probability_of_inclusion(
        {locus: single.loci[locus] for locus in loci},
        {locus: mixed.loci[locus] for locus in loci},
    )


def _details(candidate: DnaCandidate, statistic: StatisticResult | None) -> dict[str, Any]:
    details: dict[str, Any] = {
        "rule": candidate.rule.value,
        "loci_compared": list(candidate.loci_compared),
        "loci_count": candidate.loci_count,
        "differing": list(candidate.differing),
    }
    if statistic is not None:
        details.update(
            {
                "statistic": statistic.method,
                "value": statistic.combined,
                "likelihood_ratio": statistic.lr,
                "log10_likelihood_ratio": round(statistic.log10_lr, 2),
                "population": statistic.population,
                "theta": statistic.theta,
            }
        )
    return details


def _plain_explanation(details: Mapping[str, Any]) -> tuple[str, ...]:
    lines = [f"{details['rule']} match over {details['loci_count']} loci"]
    if details["differing"]:
        lines.append(f"loci that differ: {', '.join(details['differing'])}")
    if "likelihood_ratio" in details:
        lines.append(
            f"{details['statistic']} {details['value']:.3g}; likelihood ratio "
            f"{details['likelihood_ratio']:.3g} (population {details['population']}, "
            f"θ={details['theta']:g})"
        )
    return tuple(lines)


class DnaRegister(PayloadIndex[DnaProfile]):
    """The hub's DNA index over the store, safe to share between threads."""

    register = REGISTER

    def __init__(self) -> None:
        self._index = DnaIndex()
        super().__init__(self._index, from_payload)

    def search(
        self,
        uow: UnitOfWork,
        audit: AuditLog,
        caller: Caller,
        probe: DnaProfile,
        now: datetime,
        policy: DeadlinePolicy,
        *,
        stringency: Stringency = Stringency.MODERATE,
        min_loci: int = MIN_LOCI,
        limit: int = 20,
    ) -> list[Hit]:
        """Search ``probe`` for ``caller``: hits with their weight, audited, cases opened."""
        require_register(caller.member, REGISTER)
        self.refresh(uow)
        with self._lock:
            found = self._index.matches(probe, limit, stringency=stringency, min_loci=min_loci)
            records = {c.key: self._index.get(c.key) for c in found}
        by_key = {c.key: c for c in found}

        def weighed(hit: Hit) -> Hit:
            candidate, record = by_key[hit.key], records.get(hit.key)
            # weigh only the loci where the two agree: a near or partial match's differing
            # loci would otherwise count as evidence for it
            agreeing = tuple(x for x in candidate.loci_compared if x not in candidate.differing)
            statistic = weigh(probe, record, agreeing) if record else None
            details = _details(candidate, statistic)
            if hit.access is Access.FULL:
                explanation = (
                    *hit.explanation,
                    *(statistic.explanation()[:1] if statistic else ()),
                )
            else:
                # the owner shares the reference only: say how it matched, never its alleles
                explanation = _plain_explanation(details)
            return replace(hit, details=details, explanation=explanation)

        return answer(uow, audit, caller, REGISTER, [found], now, policy, weigh=weighed)[0]

    def kinship(
        self,
        uow: UnitOfWork,
        audit: AuditLog,
        caller: Caller,
        probe: DnaProfile,
        relationship: Relationship,
        now: datetime,
        *,
        limit: int = 10,
    ) -> list[dict[str, Any]]:
        """Rank the relatives' profiles the caller may see by kinship LR against ``probe``.

        The probe is unidentified remains (candidates: relatives of missing
        persons) or a relative's profile (candidates: remains), the pairs the
        category table compares by kinship. Audited as an enquiry.
        """
        require_register(caller.member, REGISTER)
        self.refresh(uow)
        targets = kinship_targets(probe.category)
        if not targets:
            raise InvalidField(
                "category", f"a {probe.category.value} profile is not compared by kinship"
            )
        with self._lock:
            keys = [k for k in self._index.keys() if k.split(":", 1)[0] in targets]  # noqa: SIM118
            profiles = {k: p for k in keys if (p := self._index.get(k)) is not None}
        stored = uow.records.get_many(REGISTER.value, list(profiles))
        owners = {m.code: m for m in uow.members.list()}
        visible = {
            k: p
            for k, p in profiles.items()
            if k in stored
            and decide(
                caller.member,
                stored[k].envelope,
                REGISTER,
                now,
                owners.get(stored[k].envelope.owner),
            )
            is not Access.INVISIBLE
        }
        ranked = rank_candidates(
            dict(probe.loci),
            {k: dict(p.loci) for k, p in visible.items()},
            relationship,
            limit=limit,
        )
        answer = [
            {
                "key": item.key,
                "owner": stored[item.key].envelope.owner,
                "likelihood_ratio": item.lr,
                "loci": list(item.result.loci),
                "explanation": list(item.result.explanation()[:1]),
            }
            for item in ranked
        ]
        record_enquiry(uow, audit, caller, REGISTER, 1, [], now, source="kinship")
        return answer


__all__ = ["REGISTER", "DnaRegister", "DnaRules", "weigh"]
