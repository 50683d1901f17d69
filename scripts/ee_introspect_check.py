#!/usr/bin/env python3
"""Does the execution environment install what `ansible-builder introspect` lists?

    ansible-builder introspect <path with ansible_collections/> > introspect.yml
    python scripts/ee_introspect_check.py introspect.yml \
        --requirements requirements.txt --bindep bindep.txt

introspect lists the Python and system (bindep) requirements that the
collections in the path declare: this collection's and those of its
dependencies (requirements.yml). Each must be covered by the EE definition's
requirements.txt / bindep.txt (by package name, case- and -/_/.-insensitive),
come from this collection itself, or be in EXCLUDED below with the reason
the controller does not need it. Anything else fails, naming the line.
Exit status: 0 all covered, 1 something missing, 2 bad input.
"""

import argparse
import re
import sys

import yaml

OWN_COLLECTION = "onprem.odoo_hipaa"

# (kind, collection, package): why the execution environment (the controller)
# does not need it. The roles run these collections' modules on the managed
# hosts (not delegated to localhost), and install what they need there.
EXCLUDED = {
    ("python", "community.postgresql", "psycopg2-binary"):
        "needed on managed hosts only: the postgresql role runs community.postgresql's modules on the "
        "database host (never delegated to the controller) and installs Debian's python3-psycopg2 there",
    ("python", "community.postgresql", "pytest-mock"):
        "community.postgresql's test requirement (its requirements.txt), not used at run time",
    ("system", "ansible.posix", "rsync"):
        "for ansible.posix.synchronize, which the collection does not use (it uses ansible.posix.mount, "
        "on the managed hosts)",
    ("system", "community.crypto", "cryptsetup"):
        "needed on managed hosts only: community.crypto.luks_device runs on the host (role luks), "
        "which installs Debian's cryptsetup there",
    ("system", "community.crypto", "openssl"):
        "the openssl CLI backend; the community.crypto modules the roles run on the controller "
        "(x509_certificate_info, openssl_privatekey_info) use the cryptography library",
    ("system", "community.crypto", "python3-cryptography"):
        "the EE installs cryptography with pip (requirements.txt) for its own Python interpreter; "
        "the distribution's package is for the system Python",
    ("system", "community.crypto", "python3-openssl"):
        "pyOpenSSL, which the community.crypto modules the roles run on the controller do not use "
        "(and a dpkg-only line: the EE base image is rpm-based)",
}

_FROM = re.compile(r"\s*#\s*from collection\s+(\S+)\s*$")
_PY_NAME = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)")


def normalize(name):
    """Package names compare case- and -/_/.-insensitively (PEP 503)."""
    return re.sub(r"[-_.]+", "-", name).lower()


def requirement_name(line, kind):
    """The package name of a requirements.txt (python) or bindep.txt (system) line."""
    line = line.split("#", 1)[0].strip()
    if not line or line.startswith("-"):
        return None
    if kind == "python":
        match = _PY_NAME.match(line)
        return normalize(match.group(1)) if match else None
    return normalize(line.split()[0])


def file_names(text, kind):
    """Normalised package names of a requirements.txt or bindep.txt."""
    names = (requirement_name(line, kind) for line in text.splitlines())
    return {name for name in names if name}


def parse_introspect(text):
    """introspect's output -> [(kind, collection, package, line)].

    It prints a log line, then YAML: {python: [...], system: [...]}, each
    entry "<requirement>  # from collection <namespace.name>"."""
    start = text.find("---")
    data = yaml.safe_load(text[start:] if start >= 0 else text) or {}
    if not isinstance(data, dict):
        raise ValueError("not ansible-builder introspect output (no python/system mapping)")
    entries = []
    for kind in ("python", "system"):
        for line in data.get(kind) or []:
            match = _FROM.search(line)
            collection = match.group(1) if match else "user"
            requirement = _FROM.sub("", line).strip()
            name = requirement_name(requirement, kind)
            if name:
                entries.append((kind, collection, name, requirement))
    return entries


def judge(entries, python_names, system_names, excluded=None, own=OWN_COLLECTION):
    """[(kind, collection, package, line, verdict, why)]; verdict covered, excluded or missing."""
    excluded = EXCLUDED if excluded is None else excluded
    excluded = {(k, c, normalize(n)): why for (k, c, n), why in excluded.items()}
    installed = {"python": python_names, "system": system_names}
    result = []
    for kind, collection, name, line in entries:
        if name in installed[kind]:
            verdict, why = "covered", ("requirements.txt" if kind == "python" else "bindep.txt")
        elif collection == own:
            verdict, why = "covered", "this collection's own meta/execution-environment.yml"
        elif (kind, collection, name) in excluded:
            verdict, why = "excluded", excluded[(kind, collection, name)]
        else:
            verdict, why = "missing", ""
        result.append((kind, collection, name, line, verdict, why))
    return result


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("introspect", help="ansible-builder introspect's output (a file, or - for stdin)")
    parser.add_argument("--requirements", default="requirements.txt", help="the EE's Python requirements")
    parser.add_argument("--bindep", default="bindep.txt", help="the EE's system requirements")
    args = parser.parse_args(argv)
    try:
        if args.introspect == "-":
            text = sys.stdin.read()
        else:
            with open(args.introspect, encoding="utf-8") as handle:
                text = handle.read()
        with open(args.requirements, encoding="utf-8") as handle:
            python_names = file_names(handle.read(), "python")
        with open(args.bindep, encoding="utf-8") as handle:
            system_names = file_names(handle.read(), "system")
        entries = parse_introspect(text)
    except (OSError, ValueError, yaml.YAMLError) as exc:
        print(f"ee_introspect_check: {exc}", file=sys.stderr)
        return 2
    missing = 0
    for kind, collection, _name, line, verdict, why in judge(entries, python_names, system_names):
        print(f"{verdict:8} {kind:6} {line}  (from {collection}){': ' + why if why else ''}")
        missing += verdict == "missing"
    if missing:
        print(f"ansible-builder introspect lists {missing} requirement(s) the execution environment does not "
              f"install (marked missing above): add each to {args.requirements} or {args.bindep} if the "
              "controller needs it, or to EXCLUDED in scripts/ee_introspect_check.py with the reason it does not")
        return 1
    print(f"every requirement introspect lists is installed by the execution environment ({len(entries)} lines)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
