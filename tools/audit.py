"""`make audit`: the known vulnerabilities of every package Baton's venv has installed.

Runs pip-audit (from its own venv, .venv-audit: see requirements/audit.txt) over
`pip freeze --all` of the project venv, and never passes silently. On its own,
pip-audit can: when PyPI's JSON API does not answer as PyPI (blocked, intercepted,
a mirror without the API), each package comes back "not found on PyPI", is
skipped, and pip-audit prints "No known vulnerabilities found" and exits 0.

So this script
1. first asks the same service about a canary, a release with long-published
   vulnerabilities; if they do not come back, the service is not answering and
   nothing is audited (exit 2, saying so);
2. then audits every installed pin, and counts a skipped package as a failure
   (exit 2), a vulnerable one as a finding (exit 1).

Exit codes: 0 every package audited, none known vulnerable; 1 known
vulnerabilities (listed); 2 the audit could not be done or is incomplete.
Arguments after the known ones go to pip-audit unchanged (e.g. `-s osv` for the
OSV service, `--ignore-vuln GHSA-...`), to the canary query too. Standard library
only, and independent of the `bot` package: it runs in the audit venv.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

# requests 2.19.1: CVE-2018-18074 (and later ones), in every vulnerability database.
CANARY = "requests==2.19.1"
EXIT_CLEAN, EXIT_VULNERABLE, EXIT_NOT_AUDITED = 0, 1, 2


def installed_pins(venv: Path) -> tuple[list[str], list[str]]:
    """(`name==version` lines, lines that cannot be audited) of `pip freeze --all` in `venv`."""
    completed = subprocess.run(  # noqa: S603 — our own venv's pip, fixed arguments
        [str(venv / "bin" / "python"), "-m", "pip", "freeze", "--all", "--exclude-editable"],
        capture_output=True,
        text=True,
        check=True,
    )
    pins: list[str] = []
    others: list[str] = []
    for line in completed.stdout.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        (pins if "==" in line and " @ " not in line else others).append(line)
    return pins, others


def run_pip_audit(
    requirements: list[str], extra: list[str], timeout: int
) -> tuple[dict | None, str]:
    """pip-audit's JSON report on `requirements` (None if it gave none) and its stderr."""
    with tempfile.TemporaryDirectory() as workdir:
        requirement_file = Path(workdir) / "requirements.txt"
        requirement_file.write_text("\n".join(requirements) + "\n")
        report_file = Path(workdir) / "report.json"
        command = [
            sys.executable,
            "-m",
            "pip_audit",
            "--requirement",
            str(requirement_file),
            "--disable-pip",
            "--no-deps",  # every line is an exact pin: nothing to resolve
            "--format",
            "json",
            "--desc",
            "off",
            "--aliases",
            "on",
            "--output",
            str(report_file),
            "--progress-spinner",
            "off",
            "--timeout",
            str(timeout),
            *extra,
        ]
        completed = subprocess.run(  # noqa: S603 — pip-audit from this venv, our arguments
            command, capture_output=True, text=True, check=False
        )
        try:
            report = json.loads(report_file.read_text())
        except (OSError, ValueError):
            report = None
    # pip-audit warns that --no-deps pins are not hashed: true, and not news here.
    stderr = "\n".join(
        line
        for line in completed.stderr.splitlines()
        if "--no-deps is supported" not in line and "pip-compile" not in line
    )
    return report, stderr


def last_lines(text: str, count: int = 3) -> str:
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return "\n".join("    " + line for line in lines[-count:]) or "    (pip-audit printed nothing)"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--venv", type=Path, default=Path(".venv"), help="the venv to audit")
    parser.add_argument(
        "--timeout", type=int, default=15, help="seconds per request to the service"
    )
    args, extra = parser.parse_known_args(argv)

    # 1. Does the vulnerability service answer at all?
    report, stderr = run_pip_audit([CANARY], extra, args.timeout)
    canary = (report or {}).get("dependencies", [{}])[0]
    if not canary.get("vulns"):
        why = canary.get("skip_reason") or "no answer"
        print(
            "make audit: NOT AUDITED. pip-audit's vulnerability service cannot be reached or does\n"
            f"not answer from this machine: asked about {CANARY}, whose vulnerabilities are long\n"
            f"published, it got none back ({why}).\n"
            f"pip-audit's own last words:\n{last_lines(stderr)}\n"
            "Run `make audit` where the service is reachable (the default is PyPI's JSON API at\n"
            "pypi.org; `make audit AUDIT_ARGS='-s osv'` asks api.osv.dev instead).",
            file=sys.stderr,
        )
        return EXIT_NOT_AUDITED

    # 2. Every installed package.
    pins, unpinned = installed_pins(args.venv)
    report, stderr = run_pip_audit(pins, extra, args.timeout)
    if report is None:
        print(
            f"make audit: NOT AUDITED. pip-audit gave no report on {len(pins)} packages:\n"
            f"{last_lines(stderr, 6)}",
            file=sys.stderr,
        )
        return EXIT_NOT_AUDITED
    dependencies = report.get("dependencies", [])
    skipped = [d for d in dependencies if "skip_reason" in d]
    vulnerable = [d for d in dependencies if d.get("vulns")]
    audited = len(dependencies) - len(skipped)
    ignored = sorted({arg.split("=", 1)[-1] for arg in extra if arg.startswith("--ignore-vuln")})

    for dependency in vulnerable:
        for vuln in dependency["vulns"]:
            aliases = ", ".join(vuln.get("aliases") or [])
            fixed = ", ".join(vuln.get("fix_versions") or []) or "no fix"
            print(
                f"{dependency['name']}=={dependency['version']}  {vuln['id']}"
                f"{f' ({aliases})' if aliases else ''}  fixed in: {fixed}"
            )
    print(
        f"make audit: {audited} of {len(pins)} installed packages audited"
        f" ({len(vulnerable)} with known vulnerabilities, "
        f"{sum(len(d['vulns']) for d in vulnerable)} advisories)"
        + (f"; ignored on purpose: {', '.join(ignored)}" if ignored else "")
    )
    incomplete = False
    for dependency in skipped:
        print(f"NOT AUDITED: {dependency['name']}: {dependency['skip_reason']}", file=sys.stderr)
        incomplete = True
    for line in unpinned:
        print(f"NOT AUDITED: {line} (not an exact pin from an index)", file=sys.stderr)
        incomplete = True
    if incomplete:
        print("make audit: INCOMPLETE, see NOT AUDITED above.", file=sys.stderr)
        return EXIT_NOT_AUDITED
    return EXIT_VULNERABLE if vulnerable else EXIT_CLEAN


if __name__ == "__main__":
    sys.exit(main())
