"""The volumes after converge: LUKS2 with the mandated parameters and the
expected keyslots, unlocked, mounted, in crypttab and fstab with the right
ordering, keys and header backups root-only; the recovery passphrase and
Tang open them. (Files run in name order: 1 reads, 2 refuses, 3 reboots,
4 rotates.)"""

import re

from luks_helpers import FILESTORE_DEV, PGDATA_DEV, keyslots, opens, recovery  # noqa: F401 (fixture)

testinfra_hosts = ["luks"]


def test_luks_header_is_luks2_aes_xts_512_argon2id(host):
    for device in (PGDATA_DEV, FILESTORE_DEV):
        dump = host.check_output(f"cryptsetup luksDump {device}")
        assert re.search(r"^Version:\s+2$", dump, re.M), dump
        segment = dump.split("Data segments:", 1)[1].split("Keyslots:", 1)[0]
        assert re.search(r"^\s+cipher: aes-xts-plain64$", segment, re.M), dump
    dump = host.check_output(f"cryptsetup luksDump {PGDATA_DEV}")
    slots = dump.split("Keyslots:", 1)[1].split("Tokens:", 1)[0]
    assert re.findall(r"^\s+Key:\s+(\d+) bits$", slots, re.M) == ["512", "512"], dump
    assert re.findall(r"^\s+PBKDF:\s+(\S+)$", slots, re.M) == ["argon2id", "argon2id"], dump


def test_keyslots_keyfile_and_recovery(host, recovery):
    # pgdata: slot 0 the keyfile, slot 1 the recovery passphrase, nothing else
    assert keyslots(host, PGDATA_DEV) == [0, 1]
    assert opens(host, PGDATA_DEV, "--key-slot 0 --key-file /etc/luks-keys/pgdata.key")
    assert opens(host, PGDATA_DEV, "--key-slot 1 --key-file -", stdin=recovery)
    assert not opens(host, PGDATA_DEV, "--key-file -", stdin=recovery + "x")
    # filestore (Tang only): slot 0 the recovery passphrase, slot 1 clevis
    assert keyslots(host, FILESTORE_DEV) == [0, 1]
    assert opens(host, FILESTORE_DEV, "--key-slot 0 --key-file -", stdin=recovery)


def test_tang_binding_recovers_a_working_key(host):
    assert "http://127.0.0.1" in host.check_output(f"clevis luks list -d {FILESTORE_DEV}")
    # the key clevis recovers through Tang opens the volume
    assert host.run(f"clevis luks pass -d {FILESTORE_DEV} -s 1 | "
                    f"cryptsetup open --test-passphrase --key-file - {FILESTORE_DEV}").rc == 0


def test_crypttab(host):
    entries = {f[0]: f for f in (line.split() for line in host.file("/etc/crypttab").content_string.splitlines())
               if f and not f[0].startswith("#")}
    assert entries["pgdata"] == ["pgdata", PGDATA_DEV, "/etc/luks-keys/pgdata.key", "luks"]
    assert entries["filestore"] == ["filestore", FILESTORE_DEV, "none", "luks,_netdev"]


def test_fstab_and_mount_ordering(host):
    entries = {f[1]: f for f in (line.split() for line in host.file("/etc/fstab").content_string.splitlines())
               if f and not f[0].startswith("#")}
    pg = entries["/srv/postgresql"]
    assert pg[0] == "/dev/mapper/pgdata" and pg[2] == "ext4"
    pg_opts = pg[3].split(",")
    assert {"nodev", "nosuid", "noexec", "x-systemd.requires=systemd-cryptsetup@pgdata.service"} <= set(pg_opts)
    assert "nofail" not in pg_opts  # the database volume is required
    fs_opts = entries["/srv/odoo-filestore"][3].split(",")
    assert "_netdev" in fs_opts and "x-systemd.requires=systemd-cryptsetup@filestore.service" in fs_opts
    # what systemd's generators made of it: the database mount requires its
    # cryptsetup unit, which belongs to the local boot (cryptsetup.target);
    # the Tang volume is unlocked with the remote ones, once the network is up
    pg_mount = host.check_output("systemctl show -p Requires -p After srv-postgresql.mount")
    assert pg_mount.count("systemd-cryptsetup@pgdata.service") == 2, pg_mount
    pg_unit = host.check_output("systemctl show -p RequiredBy systemd-cryptsetup@pgdata.service")
    assert "cryptsetup.target" in pg_unit.split("=", 1)[1].split(), pg_unit
    fs_unit = host.check_output("systemctl show -p RequiredBy -p After systemd-cryptsetup@filestore.service")
    assert "remote-cryptsetup.target" in fs_unit and "remote-fs-pre.target" in fs_unit, fs_unit
    fs_mount = host.check_output(r"systemctl show -p After 'srv-odoo\x2dfilestore.mount'")
    assert "network-online.target" in fs_mount and "systemd-cryptsetup@filestore.service" in fs_mount, fs_mount


def test_volumes_open_and_mounted(host):
    for name, mountpoint in (("pgdata", "/srv/postgresql"), ("filestore", "/srv/odoo-filestore")):
        out = host.check_output(f"lsblk --noheadings --output TYPE,FSTYPE,MOUNTPOINT /dev/mapper/{name}")
        assert out.split() == ["crypt", "ext4", mountpoint]
        assert host.check_output(f"findmnt --noheadings --output SOURCE {mountpoint}") == f"/dev/mapper/{name}"


def test_keys_and_header_backups_are_root_only(host):
    for path, mode in (("/etc/luks-keys", 0o700), ("/etc/luks-keys/pgdata.key", 0o400),
                       ("/var/backups/luks-headers", 0o700),
                       ("/var/backups/luks-headers/pgdata.luksheader", 0o400),
                       ("/var/backups/luks-headers/filestore.luksheader", 0o400)):
        f = host.file(path)
        assert (f.user, f.group, f.mode) == ("root", "root", mode), path
    assert host.file("/etc/luks-keys/pgdata.key").size == 512


def test_header_backup_is_a_copy_of_the_header(host):
    for name, device in (("pgdata", PGDATA_DEV), ("filestore", FILESTORE_DEV)):
        backup = host.check_output(f"cryptsetup luksUUID /var/backups/luks-headers/{name}.luksheader")
        assert backup == host.check_output(f"cryptsetup luksUUID {device}")
    assert opens(host, PGDATA_DEV, "--key-file /etc/luks-keys/pgdata.key",
                 header="/var/backups/luks-headers/pgdata.luksheader")
