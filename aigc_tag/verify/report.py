"""The verification report: check results, the verdict composer and exit codes.

Renderers read only a :class:`Report`; the verdict is decided in one pure function,
:func:`compose_verdict`, and the process exit code in one place, :func:`exit_code_for`.
"""

from __future__ import annotations

import enum
import json
from dataclasses import dataclass, field

from ..fileio import text_path


class Outcome(str, enum.Enum):
    """Stable tokens for what one check found."""

    PASS = "pass"
    FAIL = "fail"
    WARN = "warn"
    INFO = "info"
    SKIP = "skip"
    ERROR = "error"  # the check could not run: the file could not be read or parsed


class Verdict(str, enum.Enum):
    COMPLIANT = "compliant"
    NONCOMPLIANT = "noncompliant"
    NOT_FOUND = "not_found"
    INCONCLUSIVE = "inconclusive"


@dataclass(frozen=True)
class CheckResult:
    """One check's outcome; ``clause`` names the rule it enforces."""

    id: str
    outcome: Outcome
    severity: str  # "E", "W", "I" or "-" (discovery)
    clause: str
    message: str

    def to_json(self) -> dict:
        return {
            "id": self.id,
            "outcome": self.outcome.value,
            "severity": self.severity,
            "clause": self.clause,
            "message": self.message,
        }


@dataclass
class Report:
    """Everything the verifier found in one file."""

    path: str
    media_type: str | None = None
    format: str | None = None
    verdict: Verdict = Verdict.INCONCLUSIVE
    metadata_label: dict | None = None
    labels: list[dict] = field(default_factory=list)
    visible_label: dict | None = None  # images: the declared caption, checked on the pixels
    audible_label: dict | None = None  # audio: rhythm cues found and the declared cue's check
    text_label: dict | None = None  # text: explicit label, invisible mark, sidecar
    watermark: dict | None = None
    c2pa: dict | None = None
    evidence: dict = field(default_factory=dict)
    checks: list[CheckResult] = field(default_factory=list)
    error: str | None = None  # set when the file could not be read at all (I/O)
    #: a small ``data:`` URI preview for the HTML report; never part of the JSON report
    thumbnail: str | None = field(default=None, repr=False, compare=False)

    def to_json(self) -> dict:
        return {
            "path": text_path(self.path),  # non-UTF-8 names as \\xNN: JSON stays UTF-8
            "media_type": self.media_type,
            "format": self.format,
            "verdict": self.verdict.value,
            "metadata_label": self.metadata_label,
            "labels": self.labels,
            "visible_label": self.visible_label,
            "audible_label": self.audible_label,
            "text_label": self.text_label,
            "watermark": self.watermark,
            "c2pa": self.c2pa,
            "evidence": self.evidence,
            "checks": [c.to_json() for c in self.checks],
            "error": self.error,
        }

    def to_json_line(self) -> str:
        """One line of JSON, valid UTF-8 whatever a label or file name holds (lone surrogates
        are written as ``\\uXXXX`` escapes)."""
        from ..fileio import escape_surrogates

        line = json.dumps(self.to_json(), ensure_ascii=False, separators=(",", ":"))
        return escape_surrogates(line)

    def failed(self) -> list[CheckResult]:
        return [c for c in self.checks if c.outcome in (Outcome.FAIL, Outcome.ERROR)]


def compose_verdict(
    checks: list[CheckResult], *, label_decoded: bool, explicit_is_label: bool = False
) -> Verdict:
    """Frozen precedence: any error -> inconclusive, any fail -> noncompliant,
    a decoded label -> compliant, else not_found. Warnings never change the verdict.

    ``explicit_is_label``: the format has no metadata container (plain text) and its explicit
    label is there, so that label stands for the label (docs/report-schema.md, *Verdict
    semantics*); the caller decides it, the composer stays a function of its arguments."""
    outcomes = {c.outcome for c in checks}
    if Outcome.ERROR in outcomes:
        return Verdict.INCONCLUSIVE
    if Outcome.FAIL in outcomes:
        return Verdict.NONCOMPLIANT
    return Verdict.COMPLIANT if label_decoded or explicit_is_label else Verdict.NOT_FOUND


EXIT_CODES = {
    Verdict.COMPLIANT: 0,
    Verdict.NONCOMPLIANT: 1,
    Verdict.NOT_FOUND: 3,
    Verdict.INCONCLUSIVE: 4,
}
EXIT_IO_ERROR = 2
# Most severe first: an I/O error, then a definite failure, then "could not tell", then absence.
_SEVERITY_ORDER = (EXIT_IO_ERROR, 1, 4, 3, 0)


def exit_code_for(reports: list[Report]) -> int:
    """The most severe exit code across files (0 only when every file is compliant)."""
    codes = {EXIT_IO_ERROR if r.error else EXIT_CODES[r.verdict] for r in reports}
    for code in _SEVERITY_ORDER:
        if code in codes:
            return code
    return 0
