"""A role's variables are written in three places: defaults/main.yml (the
values), meta/argument_specs.yml (what Ansible validates, and what
ansible-doc and Galaxy show) and the README's variable block (what a
sysadmin reads). They must not disagree."""

import pathlib
import re

import pytest
import yaml

ROLES = pathlib.Path(__file__).resolve().parents[2] / "roles"
ROLE_NAMES = sorted(p.name for p in ROLES.iterdir() if (p / "defaults" / "main.yml").exists())

# README values that are shown simplified on purpose (a Jinja default, a long
# list elided with [...], an example instead of the empty default).
README_SHOWS_AN_EXAMPLE = {
    "backup": {"backup_repositories"},
    "log_shipping": {"log_shipping_audit_watches", "log_shipping_mode", "log_shipping_target"},
}


def defaults(role):
    return yaml.safe_load((ROLES / role / "defaults" / "main.yml").read_text()) or {}


def main_options(role):
    spec = yaml.safe_load((ROLES / role / "meta" / "argument_specs.yml").read_text())["argument_specs"]
    return spec["main"].get("options", {})


def readme_block(role):
    text = (ROLES / role / "README.md").read_text()
    section = re.search(r"^## Variables\n(.*?)(?=^## )", text, re.S | re.M)
    assert section, f"roles/{role}/README.md has no '## Variables' section"
    block = re.search(r"```yaml\n(.*?)```", section.group(1), re.S)
    assert block, f"roles/{role}/README.md: no yaml block under '## Variables'"
    return yaml.safe_load(block.group(1)) or {}


@pytest.mark.parametrize("role", ROLE_NAMES)
def test_every_default_is_in_the_argument_spec_with_the_same_value(role):
    opts = main_options(role)
    for name, value in defaults(role).items():
        assert name in opts, f"roles/{role}: {name} has a default but no entry in meta/argument_specs.yml"
        if "default" in opts[name]:
            assert opts[name]["default"] == value, (
                f"roles/{role}: {name} defaults to {value!r} in defaults/main.yml "
                f"but {opts[name]['default']!r} in meta/argument_specs.yml")


@pytest.mark.parametrize("role", ROLE_NAMES)
def test_every_spec_default_is_a_role_default(role):
    opts = main_options(role)
    missing = sorted(n for n, o in opts.items() if "default" in o and n not in defaults(role))
    assert not missing, f"roles/{role}: argument_specs gives a default that defaults/main.yml lacks: {missing}"


@pytest.mark.parametrize("role", [r for r in ROLE_NAMES if r != "lab_pki"])
def test_the_readme_shows_every_default_with_its_value(role):
    shown = readme_block(role)
    values = defaults(role)
    assert not sorted(set(values) - set(shown)), (
        f"roles/{role}/README.md's variable block lacks {sorted(set(values) - set(shown))}")
    exempt = README_SHOWS_AN_EXAMPLE.get(role, set())
    differ = sorted(k for k in set(shown) & set(values) if k not in exempt and shown[k] != values[k])
    assert not differ, f"roles/{role}/README.md shows other values than defaults/main.yml for {differ}"


@pytest.mark.parametrize("role", [r for r in ROLE_NAMES if (ROLES / r / "tasks" / "validate.yml").exists()])
def test_every_list_variable_is_checked_to_be_a_list(role):
    """argument_specs accepts a string for a list (it can convert one) but the
    variable stays a string; validate.yml must refuse it, for every list of
    scalars the role takes (lists of dicts fail argument_specs already)."""
    lists = sorted(n for n, o in main_options(role).items()
                   if o.get("type") == "list" and o.get("elements", "str") != "dict")
    tasks = yaml.safe_load((ROLES / role / "tasks" / "validate.yml").read_text())
    check = next((t for t in tasks if t.get("name") == "Require the list variables to be lists"), None)
    if not lists:
        return
    assert check, f"roles/{role}/tasks/validate.yml has no 'Require the list variables to be lists' task"
    missing = [n for n in lists if f"'{n}':" not in check["loop"]]
    assert not missing, f"roles/{role}: list variables not checked to be lists: {missing}"
