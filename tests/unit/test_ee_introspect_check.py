"""The execution environment gate (scripts/ee_introspect_check.py, run by
scripts/test.sh on the built collection and its dependencies): every
requirement `ansible-builder introspect` lists is installed by the EE
definition, comes from this collection, or is excluded with a reason."""

import importlib.util
import pathlib

import pytest

_ROOT = pathlib.Path(__file__).resolve().parents[2]
_PATH = _ROOT / "scripts" / "ee_introspect_check.py"
if not _PATH.exists():  # ansible-test sanity's copy of tests/ has no scripts/
    pytest.skip("scripts/ee_introspect_check.py is not here", allow_module_level=True)
_spec = importlib.util.spec_from_file_location("ee_introspect_check", _PATH)
check = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(check)

# What ansible-builder 3.x prints: a log line, then YAML.
FAKE_INTROSPECT = """\
# Dependency data for /tmp/x/installed
---
python:
- 'PassLib>=1.7.4  # from collection example.covered'
- 'Python_DateUtil  # from collection example.covered'
- 'requests-oauthlib  # from collection example.missing'
- 'cryptography>=3.3  # from collection onprem.odoo_hipaa'
system:
- 'openssh-client [platform:dpkg]  # from collection example.covered'
- 'libxml2-dev [platform:dpkg]  # from collection example.missing'
"""

REQUIREMENTS = "# a comment\npasslib>=1.7.4          # why\npython-dateutil>=2.8\npip>=23.0\n"
BINDEP = "# a comment\nopenssh-client [platform:dpkg]      # ssh\n"


def run(tmp_path, capsys, introspect=FAKE_INTROSPECT, requirements=REQUIREMENTS, bindep=BINDEP):
    (tmp_path / "introspect.yml").write_text(introspect)
    (tmp_path / "requirements.txt").write_text(requirements)
    (tmp_path / "bindep.txt").write_text(bindep)
    rc = check.main([str(tmp_path / "introspect.yml"),
                     "--requirements", str(tmp_path / "requirements.txt"),
                     "--bindep", str(tmp_path / "bindep.txt")])
    return rc, capsys.readouterr().out


def test_a_missing_python_and_system_requirement_fail_by_name(tmp_path, capsys):
    rc, out = run(tmp_path, capsys)
    assert rc == 1
    missing = [line for line in out.splitlines() if line.startswith("missing")]
    assert len(missing) == 2
    assert "requests-oauthlib" in missing[0] and "example.missing" in missing[0]
    assert "libxml2-dev" in missing[1]
    assert "does not install" in out


def test_covered_by_name_case_and_separator_insensitive_and_own_collection(tmp_path, capsys):
    rc, out = run(tmp_path, capsys)
    covered = [line for line in out.splitlines() if line.startswith("covered")]
    assert any("PassLib" in line and "requirements.txt" in line for line in covered)
    assert any("Python_DateUtil" in line and "requirements.txt" in line for line in covered)
    assert any("openssh-client" in line and "bindep.txt" in line for line in covered)
    # cryptography is not in this requirements.txt, but it is this collection's own line
    assert any("cryptography" in line and "onprem.odoo_hipaa" in line for line in covered)
    assert rc == 1


def test_all_covered_passes(tmp_path, capsys):
    rc, out = run(tmp_path, capsys,
                  requirements=REQUIREMENTS + "Requests_OAuthlib\n",
                  bindep=BINDEP + "libxml2-dev [platform:dpkg]\n")
    assert rc == 0, out
    assert "every requirement" in out


def test_an_exclusion_applies_to_its_collection_only():
    entries = check.parse_introspect(FAKE_INTROSPECT)
    excluded = {("python", "example.missing", "Requests_OAuthlib"): "a reason",
                ("system", "example.other", "libxml2-dev"): "another collection's line"}
    verdicts = {(name, verdict) for _k, _c, name, _l, verdict, _w in check.judge(entries, set(), set(), excluded)}
    assert ("requests-oauthlib", "excluded") in verdicts
    assert ("libxml2-dev", "missing") in verdicts


def test_no_python_or_system_lines_pass(tmp_path, capsys):
    rc, _out = run(tmp_path, capsys, introspect="---\npython: []\nsystem: []\n")
    assert rc == 0


def test_bad_input_is_an_error(tmp_path, capsys):
    rc, _out = run(tmp_path, capsys, introspect="---\n- not a mapping\n")
    assert rc == 2


def test_every_exclusion_names_a_collection_and_gives_a_reason():
    for (kind, collection, name), why in check.EXCLUDED.items():
        assert kind in ("python", "system")
        assert collection.count(".") == 1 and collection != check.OWN_COLLECTION
        assert name and len(why.split()) >= 5, f"{name}: say why the controller does not need it"
