"""`make audit` (tools/audit.py) never passes when pip-audit could not really audit.

pip-audit itself is not needed here: its answers are stood in for.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

AUDIT_SCRIPT = Path(__file__).resolve().parents[2] / "tools" / "audit.py"


@pytest.fixture()
def audit(monkeypatch):
    spec = importlib.util.spec_from_file_location("baton_tools_audit", AUDIT_SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    monkeypatch.setattr(
        module, "installed_pins", lambda venv: (["aiohttp==3.9.5", "rich==14.3.4"], [])
    )
    return module


def answers(audit, monkeypatch, canary: dict | None, installed: dict | None):
    replies = iter([(canary, "canary stderr"), (installed, "audit stderr")])
    monkeypatch.setattr(audit, "run_pip_audit", lambda requirements, extra, timeout: next(replies))


VULNERABLE_CANARY = {
    "dependencies": [{"name": "requests", "version": "2.19.1", "vulns": [{"id": "PYSEC-2018-28"}]}]
}


def test_an_unreachable_service_is_not_audited_and_says_so(audit, monkeypatch, capsys):
    # What pip-audit reports when PyPI's JSON API answers 404 to everything: a skip, exit 0.
    skipped = {
        "dependencies": [{"name": "requests", "skip_reason": "Dependency not found on PyPI"}]
    }
    answers(audit, monkeypatch, skipped, None)
    assert audit.main(["--venv", "unused"]) == audit.EXIT_NOT_AUDITED
    assert "NOT AUDITED" in capsys.readouterr().err


def test_a_crashed_pip_audit_is_not_audited(audit, monkeypatch, capsys):
    answers(audit, monkeypatch, None, None)
    assert audit.main(["--venv", "unused"]) == audit.EXIT_NOT_AUDITED
    assert "canary stderr" in capsys.readouterr().err


def test_a_skipped_package_makes_the_audit_incomplete(audit, monkeypatch, capsys):
    installed = {
        "dependencies": [
            {"name": "aiohttp", "version": "3.9.5", "vulns": []},
            {"name": "rich", "skip_reason": "Dependency not found on PyPI"},
        ]
    }
    answers(audit, monkeypatch, VULNERABLE_CANARY, installed)
    assert audit.main(["--venv", "unused"]) == audit.EXIT_NOT_AUDITED
    assert "NOT AUDITED: rich" in capsys.readouterr().err


def test_known_vulnerabilities_fail_and_are_listed(audit, monkeypatch, capsys):
    installed = {
        "dependencies": [
            {
                "name": "aiohttp",
                "version": "3.9.5",
                "vulns": [
                    {
                        "id": "GHSA-8495-4g3g-x7pr",
                        "fix_versions": ["3.10.11"],
                        "aliases": ["CVE-2024-52304"],
                    }
                ],
            },
            {"name": "rich", "version": "14.3.4", "vulns": []},
        ]
    }
    answers(audit, monkeypatch, VULNERABLE_CANARY, installed)
    assert audit.main(["--venv", "unused"]) == audit.EXIT_VULNERABLE
    out = capsys.readouterr().out
    assert "aiohttp==3.9.5  GHSA-8495-4g3g-x7pr (CVE-2024-52304)  fixed in: 3.10.11" in out
    assert "2 of 2 installed packages audited" in out


def test_a_clean_complete_audit_passes(audit, monkeypatch):
    installed = {
        "dependencies": [
            {"name": "aiohttp", "version": "3.9.5", "vulns": []},
            {"name": "rich", "version": "14.3.4", "vulns": []},
        ]
    }
    answers(audit, monkeypatch, VULNERABLE_CANARY, installed)
    assert audit.main(["--venv", "unused"]) == audit.EXIT_CLEAN
