"""Which cross-border obligation a provision of personal information abroad carries: the CAC
provisions on promoting and regulating cross-border data flows (促进和规范数据跨境流动规定,
2024-03-22), applying Jilin Regulation 2023 Art. 88 and PIPL Art. 38, 40.

For a data processor that is not a critical-information-infrastructure operator, counted
cumulatively since 1 January of the year:
- a security assessment (Art. 7): important data, or personal information (other than
  sensitive) of 1,000,000 people or more, or sensitive personal information of 10,000 or more;
- a standard contract or a certification (Art. 8): personal information of 100,000 to 999,999
  people, or sensitive personal information of fewer than 10,000;
- exempt (Art. 5(4)): personal information (none of it sensitive) of fewer than 100,000.

How the exchange counts. It cannot see individuals, only resources and the headcounts of their
consent records, so an exporter's count this year is the sum of the current headcounts of the
distinct personal resources it has sold abroad since 1 January (Beijing time), each counted
once however often it was sold (the same people exported twice are the same people), plus the
resource being sold now. Different resources are assumed to cover different people, and every
person covered counts towards the non-sensitive threshold: both err towards the stricter
obligation, never the laxer.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from market.compliance.facts import ExportVolume, ResourceFacts

ASSESSMENT_PEOPLE = 1_000_000
ASSESSMENT_SENSITIVE_PEOPLE = 10_000
CONTRACT_PEOPLE = 100_000
BASIS = "促进和规范数据跨境流动规定 (CAC, 2024) Art. 5, 7, 8; PIPL Art. 38, 40"


class Obligation(StrEnum):
    SECURITY_ASSESSMENT = "security_assessment"
    STANDARD_CONTRACT_OR_CERTIFICATION = "standard_contract_or_certification"
    EXEMPT = "exempt"


def obligation_for(people: int, sensitive_people: int, *, important_data: bool = False) -> Obligation:
    """The obligation for a cumulative export of `people` (and `sensitive_people` of them with
    sensitive information) since 1 January."""
    if important_data or people >= ASSESSMENT_PEOPLE or sensitive_people >= ASSESSMENT_SENSITIVE_PEOPLE:
        return Obligation.SECURITY_ASSESSMENT
    if people >= CONTRACT_PEOPLE or sensitive_people > 0:
        return Obligation.STANDARD_CONTRACT_OR_CERTIFICATION
    return Obligation.EXEMPT


@dataclass(frozen=True)
class CumulativeExport:
    people: int
    sensitive_people: int
    obligation: Obligation


def cumulative_export(
    already: ExportVolume | None, exporting: Iterable[ResourceFacts], path_of: dict[str, str]
) -> CumulativeExport | tuple[str, ...]:
    """This year's export if these resources go abroad now, or the facts missing to count it
    (`path_of` names each resource's headcount fact)."""
    if already is None:
        return ("exporter_exports_this_year",)
    people, sensitive = already.people, already.sensitive_people
    missing = [
        f"exporter_exports_this_year.uncounted[{r}].people_covered" for r in already.uncounted_resource_ids
    ]
    counted = set(already.resource_ids)
    for r in exporting:
        if r.resource_id in counted:
            continue  # already exported this year: its people are counted once
        counted.add(r.resource_id)
        if r.people_covered is None or r.sensitive_people_covered is None:
            missing.append(path_of[r.resource_id])
            continue
        people += r.people_covered
        sensitive += r.sensitive_people_covered
    if missing:
        return tuple(missing)
    return CumulativeExport(people, sensitive, obligation_for(people, sensitive))
