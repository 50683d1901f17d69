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


# What every shipped role's README says besides its variables (Galaxy shows
# it): roles galaxy.yml's build_ignore leaves out (the lab's) are not shipped.
README_SECTIONS = ("Requirements", "Dependencies", "Example playbook", "License")
_BUILD_IGNORE = yaml.safe_load((ROLES.parent / "galaxy.yml").read_text()).get("build_ignore", [])
SHIPPED_ROLES = [r for r in ROLE_NAMES if f"roles/{r}" not in _BUILD_IGNORE]


def readme_section(role, title):
    text = (ROLES / role / "README.md").read_text()
    section = re.search(rf"^## {re.escape(title)}[ \t]*\n(.*?)(?=^## |\Z)", text, re.S | re.M)
    return section.group(1) if section else None


@pytest.mark.parametrize("role", SHIPPED_ROLES)
def test_the_readme_has_requirements_dependencies_example_and_license(role):
    missing = [title for title in README_SECTIONS if readme_section(role, title) is None]
    assert not missing, f"roles/{role}/README.md lacks the section(s) {', '.join('## ' + t for t in missing)}"


@pytest.mark.parametrize("role", SHIPPED_ROLES)
def test_the_example_playbook_uses_the_role_by_fqcn(role):
    section = readme_section(role, "Example playbook") or ""
    blocks = re.findall(r"^```ya?ml\n(.*?)^```", section, re.S | re.M)
    assert blocks, f"roles/{role}/README.md: no ```yaml block under '## Example playbook'"
    assert any(re.search(rf"onprem\.odoo_hipaa\.{role}\b", block) for block in blocks), (
        f"roles/{role}/README.md: the example playbook does not name the role as onprem.odoo_hipaa.{role}")
