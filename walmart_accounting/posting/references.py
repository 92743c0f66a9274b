"""What the mapping names against what a connected ledger holds: one message per missing or unusable reference."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable, Mapping

from walmart_accounting.domain.config import LedgerReference

KIND_LABELS = {
    "account": "account", "clearing_account": "account", "bank_account": "account", "tax_code": "tax code",
    "item": "item", "tracking": "tracking option", "cost_center": "cost center", "cost_unit": "cost unit",
    "journal": "journal",
}


@dataclass(frozen=True)
class ReferenceData:
    """What one ledger holds, per reference kind: code -> None when usable there, else why it is not."""

    where: str  # the ledger as the messages name it, e.g. "Xero organisation Acme (tenant id)"
    codes: Mapping[str, Mapping[str, str | None]]
    case_insensitive: frozenset[str] = field(default_factory=frozenset)  # kinds the ledger matches ignoring case


def missing_references(references: Iterable[LedgerReference], data: ReferenceData) -> list[str]:
    """One message per reference the ledger lacks or cannot use, led by the mapping key that names it."""
    folded = {kind: {code.casefold(): reason for code, reason in held.items()}
              for kind, held in data.codes.items() if kind in data.case_insensitive}
    problems: list[str] = []
    for reference in references:
        if reference.kind not in data.codes:
            raise ValueError(f"{data.where}: no reference data of kind {reference.kind!r} to check "
                             f"{reference.key_path} against")
        code = reference.code.strip()
        if reference.kind in folded:
            held, key = folded[reference.kind], code.casefold()
        else:
            held, key = data.codes[reference.kind], code
        label = f"{KIND_LABELS.get(reference.kind, reference.kind)} {reference.code}"
        if key not in held:
            problems.append(f"{reference.key_path}: {label} does not exist in {data.where}")
        elif held[key] is not None:
            problems.append(f"{reference.key_path}: {label} in {data.where} {held[key]}")
    return problems
