# The lab's Ansible strategy: Mitogen's linear strategy (the pinned `mitogen`
# package of requirements-dev.txt) for the lab's hosts, stock Ansible for the
# controller's own tasks.
#
# Mitogen keeps one Python interpreter per host for a whole playbook run, where
# stock Ansible starts one per task (and unpacks every module again): a cost on
# every task in the containers and, far more, in the emulated LUKS VM
# (benchmarks/lab_connection.sh measures it). dpkg, initdb and Odoo's own
# start cost the same either way.
#
# A play on the controller itself (connection `local`: Molecule's create and
# destroy, which start the containers as async jobs) runs as stock Ansible's
# linear strategy: Mitogen's local async jobs fail on ansible-core 2.19
# ("EOF on stream"). Every other play: Mitogen, for the connections it knows
# (podman: the lab's containers; ssh: the LUKS VM); a task delegated to
# localhost inside such a play is still Mitogen's.
#
# Sites do not need this: the collection's roles run under stock Ansible (the
# demo runs them so), and under Mitogen where a site chooses it.
from __future__ import annotations

import ansible_mitogen.affinity
from ansible.plugins.strategy.linear import StrategyModule as _StockLinear
from ansible_mitogen.plugins.strategy.mitogen_linear import StrategyModule as _MitogenLinear

# No CPU pinning. Mitogen binds its multiplexer to CPU 0 and every worker, and
# every process a worker starts, to the others: on these 2-core machines, all
# of a run on CPU 1, with what it starts (`podman exec` and the containers'
# Python, the LUKS VM's emulator), while CPU 0 idled. Seen in CI: 1.1 of 2
# cores busy, and a VM reboot that did not finish in 600 s.
ansible_mitogen.affinity.policy = ansible_mitogen.affinity.Policy()


class StrategyModule(_MitogenLinear):
    """Mitogen's linear strategy; stock linear for a play on the controller."""

    def run(self, iterator, play_context, result=0):
        if iterator._play.connection in ("local", "ansible.builtin.local"):
            return _StockLinear.run(self, iterator, play_context)
        return super().run(iterator, play_context)
