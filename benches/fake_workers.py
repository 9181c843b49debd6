"""Many fake Locust workers for one master (make bench, distributed section).

Each fake worker is a ZeroMQ DEALER speaking Locust 2.x's protocol (msgpack
[type, data, node_id]): client_ready, a heartbeat every second, and every 3 s (Locust's
WORKER_REPORT_INTERVAL, the workers' reports spread over the interval) a `stats` delta
of ENTRIES request names with realistic bucket maps. It answers spawn with spawning and
spawning_complete, and quit with a last stats and quit. It sends no HTTP request: the
master's cost of merging reports is all that is measured.

    python fake_workers.py --port 5557 --workers 200 --seconds 30 [--entries 20]

Prints `reports=N` (stats messages sent) and `workers=N` on stdout at the end. Talks to
127.0.0.1 only. Needs pyzmq and msgpack (both come with Locust).
"""

import argparse
import random
import time
import uuid

import msgpack
import zmq

VERSION = "2.47.0"


def stats_entry(name, method, now, rng):
    buckets = {}
    requests = 0
    for _ in range(20):
        ms = rng.choice([1, 2, 3, 4, 5, 6, 8, 10, 12, 15, 20, 30, 40, 50, 70, 90, 120, 200])
        n = rng.randint(1, 30)
        buckets[ms] = buckets.get(ms, 0) + n
        requests += n
    total = sum(ms * n for ms, n in buckets.items())
    second = int(now)
    return {
        "name": name,
        "method": method,
        "last_request_timestamp": now,
        "start_time": now - 3.0,
        "num_requests": requests,
        "num_none_requests": 0,
        "num_failures": requests // 50,
        "total_response_time": float(total),
        "max_response_time": float(max(buckets)),
        "min_response_time": float(min(buckets)),
        "total_content_length": requests * 100,
        "response_times": buckets,
        "num_reqs_per_sec": {second - 2: requests // 3, second - 1: requests // 3, second: requests - 2 * (requests // 3)},
        "num_fail_per_sec": {second: requests // 50},
    }


def report(entries, classes, rng):
    now = time.time()
    stats = [stats_entry(f"/endpoint/{i}", "GET", now, rng) for i in range(entries)]
    total = stats_entry("Aggregated", "", now, rng)
    return {
        "stats": stats,
        "stats_total": total,
        "errors": {},
        "user_classes_count": classes,
        "user_count": sum(classes.values()),
    }


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--workers", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--entries", type=int, default=20)
    args = parser.parse_args()

    context = zmq.Context()
    rng = random.Random(7)
    workers = []
    for i in range(args.workers):
        node_id = f"fakehost{i % 16}_{uuid.uuid4().hex}"
        socket = context.socket(zmq.DEALER)
        socket.setsockopt(zmq.IDENTITY, node_id.encode())
        socket.setsockopt(zmq.LINGER, 1000)
        socket.connect(f"tcp://127.0.0.1:{args.port}")
        socket.send(msgpack.packb(["client_ready", VERSION, node_id], use_bin_type=True))
        # Reports spread over the 3 s interval, as independent workers' would be.
        workers.append({"id": node_id, "socket": socket, "classes": {}, "next_report": time.time() + 3.0 * i / args.workers, "state": "ready"})

    poller = zmq.Poller()
    for w in workers:
        poller.register(w["socket"], zmq.POLLIN)
    by_socket = {w["socket"]: w for w in workers}

    def send(w, kind, data):
        w["socket"].send(msgpack.packb([kind, data, w["id"]], use_bin_type=True))

    reports = 0
    quit_seen = 0
    end = time.time() + args.seconds
    next_heartbeat = time.time()
    while time.time() < end and quit_seen < len(workers):
        for socket, _ in poller.poll(50):
            w = by_socket[socket]
            while True:
                try:
                    frame = socket.recv(zmq.NOBLOCK)
                except zmq.Again:
                    break
                kind, data, _ = msgpack.unpackb(frame, raw=False, strict_map_key=False)
                if kind == "spawn":
                    w["classes"] = dict(data["user_classes_count"])
                    w["state"] = "running"
                    send(w, "spawning", None)
                    send(w, "spawning_complete", {"user_classes_count": w["classes"], "user_count": sum(w["classes"].values())})
                elif kind == "quit":
                    send(w, "stats", report(args.entries, w["classes"], rng))
                    reports += 1
                    send(w, "quit", None)
                    quit_seen += 1
                    w["state"] = "quit"
        now = time.time()
        if now >= next_heartbeat:
            next_heartbeat = now + 1.0
            for w in workers:
                if w["state"] != "quit":
                    send(w, "heartbeat", {"state": w["state"], "current_cpu_usage": 1.0, "current_memory_usage": 10_000_000})
        for w in workers:
            if w["state"] != "quit" and now >= w["next_report"]:
                w["next_report"] += 3.0
                send(w, "stats", report(args.entries, w["classes"], rng))
                reports += 1
    print(f"reports={reports}")
    print(f"workers={len(workers)}")
    for w in workers:
        w["socket"].close()
    context.term()


if __name__ == "__main__":
    main()
