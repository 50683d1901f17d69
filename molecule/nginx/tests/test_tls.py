"""Transmission security (§164.312(e)(1), TS-1), scanned from the other lab
host with openssl s_client: protocol versions, the TLS 1.2 cipher list, the
certificate chain, session tickets, OCSP stapling."""

import pytest

testinfra_hosts = ["nginx"]

# Mozilla "intermediate" TLS 1.2 suites (the role's default nginx_tls_ciphers).
INTERMEDIATE = {
    "ECDHE-ECDSA-AES128-GCM-SHA256", "ECDHE-RSA-AES128-GCM-SHA256",
    "ECDHE-ECDSA-AES256-GCM-SHA384", "ECDHE-RSA-AES256-GCM-SHA384",
    "ECDHE-ECDSA-CHACHA20-POLY1305", "ECDHE-RSA-CHACHA20-POLY1305",
}
# Lets the client offer everything OpenSSL knows, TLS 1.0/1.1 included.
ANY = "ALL:COMPLEMENTOFALL:@SECLEVEL=0"

# Every TLS 1.2 suite the client's OpenSSL offers, tried one by one against
# the server; prints the accepted ones (a cipher scan in one podman exec).
CIPHER_SCAN = r"""
for c in $(openssl ciphers -tls1_2 '%(any)s' | tr ':' ' '); do
  case $c in TLS_*) continue ;; esac
  if timeout 10 openssl s_client -connect %(server)s:443 -servername %(server)s -tls1_2 -cipher "$c:@SECLEVEL=0" \
       </dev/null >/dev/null 2>&1; then echo "ACCEPTED $c"; else echo "REFUSED $c"; fi
done
"""


@pytest.mark.parametrize("version", ["tls1", "tls1_1"])
def test_tls_below_1_2_is_refused(client, version):
    r = client.s_client(f"-{version}", "-cipher", ANY)
    assert r.rc != 0, r.stdout
    assert "alert protocol version" in r.stderr + r.stdout, r.stderr


@pytest.mark.parametrize("version", ["tls1", "tls1_1"])
def test_the_client_could_speak_that_version(client, version):
    """Control for the test above: the client's OpenSSL does negotiate TLS 1.0
    and 1.1 with a server that allows them (a throwaway s_server on the
    client's loopback), so the refusal comes from the nginx host."""
    script = f"""
set -e
d=$(mktemp -d); cd $d
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=probe \
  -keyout k.pem -out c.pem -days 1 2>/dev/null
openssl s_server -accept 127.0.0.1:4433 -cert c.pem -key k.pem -cipher '{ANY}' -www >/dev/null 2>&1 &
pid=$!; sleep 1
timeout 10 openssl s_client -connect 127.0.0.1:4433 -{version} -cipher '{ANY}' </dev/null 2>&1 | grep 'Protocol *:' || true
kill $pid; cd /; rm -rf $d
"""
    out = client.host.check_output(script)
    expected = {"tls1": "TLSv1", "tls1_1": "TLSv1.1"}[version]
    assert out.split(":")[-1].strip() == expected, out


@pytest.mark.parametrize("version,protocol", [("tls1_2", "TLSv1.2"), ("tls1_3", "TLSv1.3")])
def test_tls_1_2_and_1_3_are_accepted_with_a_valid_chain(client, version, protocol):
    r = client.s_client(f"-{version}", "-CAfile", "/root/nginx-client/ca.crt", "-verify_return_error",
                        "-verify_hostname", client.server)
    assert r.rc == 0, r.stderr
    assert "Verify return code: 0 (ok)" in r.stdout
    assert f"New, {protocol}, Cipher is " in r.stdout, r.stdout


def test_chain_does_not_validate_without_the_lab_ca(client):
    r = client.s_client("-verify_return_error")   # the system trust store only
    assert r.rc != 0 and "verify error" in (r.stdout + r.stderr), r.stdout


def test_only_intermediate_tls12_ciphers_are_accepted(client):
    out = client.host.check_output(CIPHER_SCAN % {"any": ANY, "server": client.server})
    accepted = {l.split()[1] for l in out.splitlines() if l.startswith("ACCEPTED")}
    refused = {l.split()[1] for l in out.splitlines() if l.startswith("REFUSED")}
    assert accepted, out
    assert accepted <= INTERMEDIATE, accepted - INTERMEDIATE
    # The lab certificate is ECDSA: all three ECDSA suites of the list work.
    assert accepted == {c for c in INTERMEDIATE if "-ECDSA-" in c}
    # CBC, static-RSA key exchange and the like were offered and refused.
    assert {"ECDHE-ECDSA-AES128-SHA", "ECDHE-ECDSA-AES256-SHA384", "AES128-GCM-SHA256"} <= refused, refused


def test_session_tickets_are_off(client):
    r = client.s_client("-tls1_2", "-CAfile", "/root/nginx-client/ca.crt")
    assert r.rc == 0
    assert "TLS session ticket" not in r.stdout, r.stdout
    assert "Session-ID: " in r.stdout and "Session-ID: \n" not in r.stdout   # server-side cache


def test_session_resumes_from_the_shared_cache(client):
    out = client.host.check_output(
        f"timeout 20 openssl s_client -connect {client.server}:443 -servername {client.server} -tls1_2 "
        f"-reconnect </dev/null 2>/dev/null | grep -c '^Reused' || true"
    )
    assert int(out) >= 1, out


def test_ocsp_stapling_is_off_for_the_lab_ca(client):
    r = client.s_client("-status")
    assert r.rc == 0 and "OCSP response: no response sent" in r.stdout, r.stdout
