#!/usr/bin/python3
"""Test client for the log_shipping scenario: speaks RELP (plain or over TLS)
to the aggregator and reports, as one JSON object, how far it got.

  relp_probe.py HOST PORT MESSAGE [--tls --ca CA --cert CRT --key KEY] [--max-tls 1.1]

Result keys: connected, tls (handshake done), open (server's answer to the
RELP 'open' command, or null), syslog (answer to the message), error.
"""
import argparse
import json
import socket
import ssl
import time


def frame(txnr, command, data=""):
    body = data.encode()
    return f"{txnr} {command} {len(body)}".encode() + (b" " + body if body else b"") + b"\n"


def read_reply(sock, timeout=10.0):
    sock.settimeout(timeout)
    buf = b""
    deadline = time.monotonic() + timeout
    while b"\n" not in buf and time.monotonic() < deadline:
        try:
            chunk = sock.recv(4096)
        except (socket.timeout, ssl.SSLError, OSError) as exc:
            return buf.decode(errors="replace") or None, str(exc)
        if not chunk:
            break
        buf += chunk
    return (buf.decode(errors="replace") or None), None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("host")
    ap.add_argument("port", type=int)
    ap.add_argument("message")
    ap.add_argument("--tls", action="store_true")
    ap.add_argument("--ca")
    ap.add_argument("--cert")
    ap.add_argument("--key")
    ap.add_argument("--max-tls", choices=["1.1", "1.2"])
    a = ap.parse_args()
    result = {"connected": False, "tls": False, "open": None, "syslog": None, "error": None}
    try:
        sock = socket.create_connection((a.host, a.port), timeout=10)
        result["connected"] = True
        if a.tls:
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
            ctx.load_verify_locations(a.ca)
            if a.cert:
                ctx.load_cert_chain(a.cert, a.key)
            if a.max_tls:
                ctx.minimum_version = ssl.TLSVersion.TLSv1
                ctx.maximum_version = {"1.1": ssl.TLSVersion.TLSv1_1, "1.2": ssl.TLSVersion.TLSv1_2}[a.max_tls]
                ctx.set_ciphers("ALL:@SECLEVEL=0")
            sock = ctx.wrap_socket(sock, server_hostname=a.host)
            result["tls"] = True
            result["tls_version"] = sock.version()
        sock.sendall(frame(1, "open", "relp_version=0\nrelp_software=log-shipping-probe\ncommands=syslog"))
        result["open"], err = read_reply(sock)
        if result["open"] and " rsp " in result["open"] and "200" in result["open"]:
            sock.sendall(frame(2, "syslog", f"<13>1 - log-shipping-probe probe - - - {a.message}"))
            result["syslog"], err = read_reply(sock)
        else:
            # Send the message anyway, as a careless client would.
            try:
                sock.sendall(frame(2, "syslog", f"<13>1 - log-shipping-probe probe - - - {a.message}"))
                sock.sendall(f"<13>{a.message}\n".encode())
            except OSError:
                pass
        result["error"] = err
        sock.close()
    except (OSError, ssl.SSLError) as exc:
        result["error"] = f"{type(exc).__name__}: {exc}"
    print(json.dumps(result))


if __name__ == "__main__":
    main()
