#!/usr/bin/env python3
"""Summarises a tessera-bench JSON file: the issue's targets as ratios within one run.

Usage: bench/summarize.py bench/results/mnist.json
Prints, per index and thread count, each engine's best QPS at recall@10 >= 0.95 (unfiltered,
one query per call), the build times, the FLAT scan rate and batched QPS, and filtered recall.
"""
import json
import sys
from collections import defaultdict


def best_qps(points, min_recall=0.95):
    good = [p for p in points if p["recall_at_10"] >= min_recall]
    return max(good, key=lambda p: p["qps"]) if good else None


def main(path):
    rows = json.load(open(path))
    by_key = defaultdict(list)
    for r in rows:
        by_key[(r["index"], r["engine"], r["mode"], r["threads"], round(r["filter_selectivity"], 3))].append(r)

    print("## Best QPS at recall@10 >= 0.95 (unfiltered, one query per call)\n")
    print("| index | threads | engine | QPS | recall | search params | vs hnswlib | vs faiss |")
    print("|---|---|---|---|---|---|---|---|")
    for index in sorted({k[0] for k in by_key}):
        for threads in sorted({k[3] for k in by_key if k[0] == index and k[2] == "single"}):
            best = {}
            for engine in ("tessera", "hnswlib", "faiss"):
                pts = by_key.get((index, engine, "single", threads, 1.0), [])
                b = best_qps(pts)
                if b:
                    best[engine] = b
            # HNSW_SQ8 is compared with the baselines' HNSW.
            base_index = "HNSW" if index == "HNSW_SQ8" else index
            for engine, b in best.items():
                ratios = []
                for other in ("hnswlib", "faiss"):
                    ob = best_qps(by_key.get((base_index, other, "single", threads, 1.0), []))
                    ratios.append(f"{b['qps'] / ob['qps']:.2f}x" if ob and engine == "tessera" else "")
                print(f"| {index} | {threads} | {engine} | {b['qps']:.0f} | {b['recall_at_10']:.4f} | "
                      f"{json.dumps(b['search_params'])} | {ratios[0]} | {ratios[1]} |")

    print("\n## Build time (seconds, build threads as run)\n")
    print("| index | engine | build_s | index MB |")
    print("|---|---|---|---|")
    seen = set()
    for r in rows:
        k = (r["index"], r["engine"])
        if k not in seen:
            seen.add(k)
            print(f"| {r['index']} | {r['engine']} | {r['build_seconds']:.2f} | {r['index_bytes'] / 2**20:.1f} |")

    print("\n## FLAT\n")
    for r in rows:
        if r["index"] == "FLAT" and r["filter_selectivity"] == 1.0:
            extra = ""
            if "scan_gbps" in r and r["mode"] == "single":
                extra = f", scan {r['scan_gbps']:.1f} GB/s ({100 * r['scan_fraction_of_read_bandwidth']:.0f}% of measured read bandwidth x threads)"
            print(f"- {r['engine']} {r['mode']} threads={r['threads']}: {r['qps']:.1f} QPS{extra}")

    print("\n## Filtered search (1 thread): best recall and its QPS per selectivity\n")
    print("| index | engine | selectivity | search params | recall | QPS |")
    print("|---|---|---|---|---|---|")
    for (index, engine, mode, threads, sel), pts in sorted(by_key.items()):
        if sel == 1.0 or mode != "single":
            continue
        b = best_qps(pts) or max(pts, key=lambda p: p["recall_at_10"])
        print(f"| {index} | {engine} | {sel:.3f} | {json.dumps(b['search_params'])} | "
              f"{b['recall_at_10']:.4f} | {b['qps']:.0f} |")


if __name__ == "__main__":
    main(sys.argv[1])
