"""The version a site installs is the one the changelog released, and the
install instructions name it."""

from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]


def _galaxy_version():
    return yaml.safe_load((ROOT / "galaxy.yml").read_text())["version"]


def test_galaxy_version_is_the_latest_changelog_release():
    releases = yaml.safe_load((ROOT / "changelogs" / "changelog.yaml").read_text())["releases"] or {}
    latest = max(releases, key=lambda v: tuple(int(p) for p in v.split(".")), default=None)
    assert latest == _galaxy_version(), (
        "galaxy.yml version %s is not the latest release in changelogs/changelog.yaml (%s): "
        "cut it with antsibull-changelog release" % (_galaxy_version(), latest))


def test_readme_and_ee_name_the_released_version():
    version = _galaxy_version()
    assert "onprem-odoo_hipaa-%s.tar.gz" % version in (ROOT / "README.md").read_text()
    assert "odoo-hipaa-ee:%s" % version in (ROOT / "execution-environment.yml").read_text()
    assert (ROOT / "CHANGELOG.rst").is_file()
