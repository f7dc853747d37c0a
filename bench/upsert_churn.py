#!/usr/bin/env python3
"""Upsert churn against a running Tessera server (standard library only).

Usage: bench/upsert_churn.py PORT SECONDS DIM

Creates collection "churn" (quick setup, L2), then 4 threads upsert 500 random rows at a
time over the same 2000 primary keys for SECONDS: every sealed segment is then almost all
replaced rows. Every 15 s it prints the upsert rate and the server's index-build, segment
and WAL-lag series; after the writes it times Strong count(*) reads and waits (up to two
minutes) for the pending and deferred index builds to drain.
"""
import json, random, sys, threading, time, urllib.request
PORT = int(sys.argv[1]); SECS = float(sys.argv[2]); DIM = int(sys.argv[3])
IDS, THREADS, BATCH = 2000, 4, 500
BASE = f"http://127.0.0.1:{PORT}/v2/vectordb"
def post(path, body, timeout=60):
    req = urllib.request.Request(BASE + path, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=timeout) as r:
        return json.loads(r.read())
WATCH = ["tessera_coord_pending_index_builds", "tessera_coord_deferred_index_builds", "tessera_querynode_wal_lag_records",
         "tessera_querynode_growing_rows", "tessera_querynode_loaded_segments", 'tessera_coord_segments{state="flushed"}',
         'tessera_coord_index_builds_total{result="built"}']
def metrics():
    txt = urllib.request.urlopen(f"http://127.0.0.1:{PORT}/metrics", timeout=30).read().decode()
    out = {}
    for l in txt.splitlines():
        name, _, value = l.rpartition(" ")
        if name in WATCH: out[name] = value
    return " ".join(f"{k.replace('tessera_','')}={v}" for k, v in out.items())
print(post("/collections/create", {"collectionName": "churn", "dimension": DIM, "metricType": "L2"}))
stop = time.time() + SECS
count = [0]
def worker(seed):
    rnd = random.Random(seed)
    while time.time() < stop:
        ids = rnd.sample(range(IDS), BATCH)
        data = [{"id": i, "vector": [rnd.random() for _ in range(DIM)]} for i in ids]
        r = post("/entities/upsert", {"collectionName": "churn", "data": data})
        if r.get("code") != 0: print("upsert", r); return
        count[0] += BATCH
ths = [threading.Thread(target=worker, args=(s,)) for s in range(THREADS)]
t0 = time.time()
for t in ths: t.start()
last = 0
while any(t.is_alive() for t in ths):
    time.sleep(15)
    print(f"t={time.time()-t0:.0f}s upserted={count[0]} rate={(count[0]-last)/15:.0f}/s {metrics()}", flush=True)
    last = count[0]
for t in ths: t.join()
print(f"t={time.time()-t0:.0f}s writes stopped after {count[0]} rows", flush=True)
end = time.time() + 900
while time.time() < end:
    t1 = time.time()
    try:
        r = post("/entities/query", {"collectionName": "churn", "filter": "", "outputFields": ["count(*)"], "consistencyLevel": "Strong"}, timeout=60)
        took = time.time() - t1
        print(f"t={time.time()-t0:.0f}s strong count: {json.dumps(r)[:120]} in {took:.2f}s {metrics()}", flush=True)
        if r.get("code") == 0 and took < 1: break
    except Exception as e:
        print(f"t={time.time()-t0:.0f}s strong count failed after {time.time()-t1:.1f}s: {e}", flush=True)
    time.sleep(5)
for _ in range(12):
    print(f"t={time.time()-t0:.0f}s {metrics()}", flush=True)
    if "pending_index_builds=0" in metrics() and "deferred_index_builds=0" in metrics(): break
    time.sleep(10)
