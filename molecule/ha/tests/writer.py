"""The failover writer, run on the client host as Odoo connects (libpq: every
member listed, target_session_attrs=read-write, verify-full, keepalives):
one INSERT per transaction, each acknowledged (committed) sequence number
recorded with its time. Prints a JSON summary at the end.

    python3 writer.py RUN SECONDS"""

import json
import sys
import time

import psycopg2

RUN, SECONDS = sys.argv[1], float(sys.argv[2])
DSN = ("host=ha-db1-d13,ha-db2-d13,ha-db3-d13 dbname=odoo user=odoo password=lab-only-Odoo-db-passw0rd"
       " sslmode=verify-full sslrootcert=/root/pgclient/ca.crt sslcert=/root/pgclient/odoo-client.crt"
       " sslkey=/root/pgclient/odoo-client.key target_session_attrs=read-write connect_timeout=3"
       " keepalives=1 keepalives_idle=5 keepalives_interval=2 keepalives_count=3 tcp_user_timeout=10000")

acked, errors, conn, seq = [], [], None, 0
start = time.time()
while time.time() - start < SECONDS:
    try:
        if conn is None:
            conn = psycopg2.connect(DSN)
            with conn.cursor() as cur:
                cur.execute("CREATE TABLE IF NOT EXISTS ha_probe (run text, seq int, at timestamptz DEFAULT now(),"
                            " PRIMARY KEY (run, seq))")
            conn.commit()
        seq += 1
        with conn.cursor() as cur:
            cur.execute("INSERT INTO ha_probe (run, seq) VALUES (%s, %s) ON CONFLICT DO NOTHING", (RUN, seq))
        conn.commit()
        acked.append([seq, round(time.time() - start, 3)])
    except psycopg2.Error as exc:
        errors.append([round(time.time() - start, 3), type(exc).__name__, str(exc).strip()[:160]])
        try:
            if conn is not None:
                conn.close()
        except psycopg2.Error:
            pass
        conn = None
        time.sleep(0.2)
    time.sleep(0.02)

times = [t for _, t in acked]
gaps = [b - a for a, b in zip(times, times[1:])]
print(json.dumps({"run": RUN, "acked": [s for s, _ in acked], "attempted": seq, "errors": errors[:20],
                  "error_count": len(errors), "max_gap_s": round(max(gaps), 3) if gaps else None}))
