"""Stand-in for the get-pip.py that ansible-test downloads to bootstrap pip in the
venvs it makes for the sanity tests (from a host that is not a package registry,
which this network does not reach). It does what get-pip.py does: it runs pip
from pip's own wheel, which scripts/setup.sh fetched from PyPI into this folder
(ansible-test's cache, .venv-sanity/.ansible/test/cache), to install that pip.
ansible-test calls it as get-pip.py: pip install options, pip==VERSION,
--no-setuptools --no-wheel."""

import glob
import os
import sys

here = os.path.dirname(os.path.abspath(__file__))
wheels = glob.glob(os.path.join(here, "pip-*.whl"))
if len(wheels) != 1:
    sys.exit("expected one pip wheel beside %s, found %s (run scripts/setup.sh)" % (__file__, wheels))
sys.path.insert(0, wheels[0])

from pip._internal.cli.main import main  # noqa: E402  pylint: disable=wrong-import-position

args = [a for a in sys.argv[1:] if a not in ("--no-setuptools", "--no-wheel")]
sys.exit(main(["install", "--no-index", "--find-links", here] + args))
