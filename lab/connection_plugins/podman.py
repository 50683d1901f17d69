# The lab's connection to its podman containers (lab only; not shipped).
# GNU General Public License v3.0+ (see LICENSE)
#
# Why it exists: containers.podman.podman cannot pipeline (it runs `podman
# exec` without -i), so every module costs about five podman invocations
# (mount, mkdir, copy, run, remove) on the controller. On the lab's two cores
# that overhead was most of the CPU a scenario used. This plugin sends the
# module on the standard input of one `podman exec -i`, as SSH pipelining does
# on a real site. benchmarks/lab_connection.sh (mixed playbook, one container):
# 56.6 s -> 39.9 s wall, 24.0 s -> 14.4 s of controller CPU; by hand, 20
# `command` tasks: 34.6 s -> 13.0 s.
#
# Cheaper still: `podman exec` costs the controller about 0.2 s of CPU per
# command (the podman client, conmon, runc), which over a CI run's tens of
# thousands of tasks and testinfra commands was a large share of its two
# cores. As root, with the container's main process known, this plugin
# enters the container's namespaces with nsenter(1) instead (about 6 ms),
# after joining the container's cgroups, with the environment podman exec
# would give. The PID comes from `podman
# inspect` once and is cached (a file per container, checked against the
# process's start time, so a restarted or re-created container is inspected
# again). ODOO_HIPAA_LAB_EXEC=podman turns this off (podman exec always);
# so does a remote user, and not being root. molecule/conftest.py uses the
# same functions for testinfra.
#
# It is found by its short name `podman` (which the Molecule podman driver and
# inventories/lab use) because lab/env.sh puts this folder on
# ANSIBLE_CONNECTION_PLUGINS, which Ansible searches before the redirect of
# `podman` to containers.podman.podman.
from __future__ import annotations

DOCUMENTATION = r"""
name: podman
author: onprem.odoo_hipaa lab
short_description: Run tasks in the lab's podman containers, pipelined
description:
  - C(podman exec -i) with the module on standard input (pipelining); files
    are streamed in and out through C(podman exec). For the lab's containers only.
options:
  remote_addr:
    description: The container's name or ID.
    default: inventory_hostname
    # The last variable set wins: ansible_host where an inventory sets it (a
    # task delegated to another container reaches that container, where
    # inventory_hostname would still name the play's host).
    vars:
      - name: inventory_hostname
      - name: ansible_host
      - name: ansible_podman_host
  remote_user:
    description: User to run commands as inside the container.
    ini:
      - section: defaults
        key: remote_user
    env:
      - name: ANSIBLE_REMOTE_USER
    vars:
      - name: ansible_user
  podman_executable:
    description: The podman command.
    default: podman
    vars:
      - name: ansible_podman_executable
    env:
      - name: ANSIBLE_PODMAN_EXECUTABLE
  podman_extra_args:
    description: Extra arguments for every podman command.
    default: ''
    vars:
      - name: ansible_podman_extra_args
    env:
      - name: ANSIBLE_PODMAN_EXTRA_ARGS
  pipelining:
    description: Send modules on standard input (one podman exec per module).
    type: bool
    default: true
    vars:
      - name: ansible_pipelining
"""

import os
import re
import shlex
import shutil
import subprocess
import tempfile

from ansible.errors import AnsibleConnectionFailure, AnsibleError
from ansible.module_utils.common.text.converters import to_bytes, to_native
from ansible.plugins.connection import ConnectionBase


def _start_time(pid):
    """The process's start time (field 22 of /proc/PID/stat), or None."""
    try:
        with open("/proc/%s/stat" % pid, encoding="ascii", errors="replace") as stat:
            return stat.read().rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError):
        return None


def container_pid(name, podman="podman"):
    """The host PID of the container's main process, for nsenter; None when
    nsenter is not to be used (ODOO_HIPAA_LAB_EXEC=podman, not root, no
    nsenter, the container not running)."""
    if os.environ.get("ODOO_HIPAA_LAB_EXEC", "nsenter") != "nsenter" or os.geteuid() != 0 or not shutil.which("nsenter"):
        return None
    cache = os.path.join(os.environ.get("XDG_RUNTIME_DIR") or tempfile.gettempdir(), "odoo-hipaa-lab-pids")
    path = os.path.join(cache, re.sub(r"[^A-Za-z0-9_.-]", "_", name))
    try:
        with open(path, encoding="ascii") as cached:
            pid, start = cached.read().split()
        if _start_time(pid) == start:
            return pid
    except (OSError, ValueError):
        pass
    found = subprocess.run([podman, "inspect", "--type", "container", "--format", "{{.State.Pid}}", name],
                           stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, check=False)
    pid = found.stdout.strip()
    start = _start_time(pid) if found.returncode == 0 and pid.isdigit() and pid != "0" else None
    if start is None:
        return None
    os.makedirs(cache, mode=0o700, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=cache)
    with os.fdopen(fd, "w", encoding="ascii") as new:
        new.write("%s %s\n" % (pid, start))
    os.replace(tmp, path)
    return pid


# The resource controllers whose cgroup a command joins, as podman exec does.
# Not only for accounting: on the lab's cgroup-v1 hosts all containers share
# one parent group (libpod_parent), so the work run in them weighs as one task
# against the processes of the host (the TCG VM of molecule/luks among them).
# Left in the host's group, a scenario's apt and dpkg starved that VM.
_CONTROLLERS = ("cpu", "cpuacct", "cpuset", "memory", "pids", "blkio")


def _cgroup_procs(pid):
    """The cgroup.procs files of the container's cgroups (v1 controllers, or
    the v2 group), for a command to join."""
    files = []
    with open("/proc/%s/cgroup" % pid, encoding="ascii", errors="replace") as cgroups:
        for line in cgroups:
            parts = line.rstrip("\n").split(":", 2)
            if len(parts) != 3 or parts[2] in ("", "/"):
                continue
            _id, controllers, path = parts
            if controllers == "":
                # cgroup v2: the container's group (not its init.scope). On a
                # hybrid host the v1 controllers below do the accounting.
                if os.path.isdir("/sys/fs/cgroup/unified"):
                    continue
                base, path = "/sys/fs/cgroup", re.sub(r"/init\.scope$", "", path)
            elif controllers in _CONTROLLERS:
                base = "/sys/fs/cgroup/" + controllers
            else:
                continue
            procs = base + path + "/cgroup.procs"
            if os.path.exists(procs):
                files.append(procs)
    return files


def nsenter_argv(pid):
    """Join the container's cgroups, then nsenter into every namespace of
    pid, with the environment podman exec gives a command (the container's,
    without container_uuid)."""
    with open("/proc/%s/environ" % pid, "rb") as environ:
        env = [v.decode("utf-8", "replace") for v in environ.read().split(b"\0")
               if v and not v.startswith(b"container_uuid=")]
    procs = _cgroup_procs(pid)
    join = ['sh', '-c', 'n=$1; shift; while [ "$n" -gt 0 ]; do echo $$ > "$1"; shift; n=$((n - 1)); done; exec "$@"',
            'sh', str(len(procs))] + procs
    return join + ["nsenter", "--target", str(pid), "--all", "--", "env", "-i"] + env


class Connection(ConnectionBase):
    transport = "podman"
    has_pipelining = True

    def _connect(self):
        super()._connect()
        self._connected = True
        return self

    def _podman(self, args, in_data=None, stdin=None, stdout=subprocess.PIPE):
        """Run podman with args; the standard input is in_data (bytes) or the file stdin."""
        exe = shutil.which(self.get_option("podman_executable"))
        if not exe:
            raise AnsibleConnectionFailure("podman not found: %s" % self.get_option("podman_executable"))
        cmd = [exe] + shlex.split(self.get_option("podman_extra_args") or "") + args
        cmd = [to_bytes(a, errors="surrogate_or_strict") for a in cmd]
        self._display.vvv("RUN %s" % (cmd,), host=self.get_option("remote_addr"))
        if stdin is None:
            proc = subprocess.run(cmd, input=in_data, stdout=stdout, stderr=subprocess.PIPE, check=False)
        else:
            proc = subprocess.run(cmd, stdin=stdin, stdout=stdout, stderr=subprocess.PIPE, check=False)
        return proc.returncode, proc.stdout, proc.stderr

    def _exec_args(self, interactive):
        args = ["exec"] + (["-i"] if interactive else [])
        if self.get_option("remote_user"):
            args += ["--user", self.get_option("remote_user")]
        return args + [self.get_option("remote_addr")]

    def _run(self, argv, interactive, in_data=None, stdin=None, stdout=subprocess.PIPE):
        """argv inside the container: through nsenter when it can be used, else podman exec."""
        pid = None
        if not self.get_option("remote_user"):
            pid = container_pid(self.get_option("remote_addr"), self.get_option("podman_executable"))
        if pid is None:
            return self._podman(self._exec_args(interactive) + argv, in_data=in_data, stdin=stdin, stdout=stdout)
        cmd = [to_bytes(a, errors="surrogate_or_strict") for a in nsenter_argv(pid) + argv]
        self._display.vvv("RUN %s" % (cmd,), host=self.get_option("remote_addr"))
        if stdin is None and in_data is None:
            # as podman exec without -i: no standard input
            proc = subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=stdout, stderr=subprocess.PIPE, check=False)
        elif stdin is None:
            proc = subprocess.run(cmd, input=in_data, stdout=stdout, stderr=subprocess.PIPE, check=False)
        else:
            proc = subprocess.run(cmd, stdin=stdin, stdout=stdout, stderr=subprocess.PIPE, check=False)
        return proc.returncode, proc.stdout, proc.stderr

    def exec_command(self, cmd, in_data=None, sudoable=False):
        super().exec_command(cmd, in_data=in_data, sudoable=sudoable)
        argv = shlex.split(to_native(cmd, errors="surrogate_or_strict"))
        return self._run(argv, in_data is not None, in_data=in_data)

    def put_file(self, in_path, out_path):
        super().put_file(in_path, out_path)
        # streamed into the container (an archive of hundreds of MB stays off the heap)
        with open(to_bytes(in_path, errors="surrogate_or_strict"), "rb") as src:
            rc, _out, err = self._run(["sh", "-c", "cat > " + shlex.quote(out_path)], True, stdin=src)
        if rc != 0:
            raise AnsibleError("podman: copying %s to %s failed: %s" % (in_path, out_path, to_native(err)))

    def fetch_file(self, in_path, out_path):
        super().fetch_file(in_path, out_path)
        with open(to_bytes(out_path, errors="surrogate_or_strict"), "wb") as dst:
            rc, _out, err = self._run(["cat", in_path], False, stdout=dst)
        if rc != 0:
            raise AnsibleError("podman: fetching %s to %s failed: %s" % (in_path, out_path, to_native(err)))

    def close(self):
        super().close()
        self._connected = False
