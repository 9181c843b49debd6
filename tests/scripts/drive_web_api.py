"""Drives a load test through Locust's web API with `requests`, the way scripts written
for Locust do: start a swarm, poll the stats until requests arrive, stop, and print a
JSON summary. Usage: drive_web_api.py BASE_URL TARGET_HOST. Talks to 127.0.0.1 only."""

import json
import sys
import time

import requests

base, host = sys.argv[1], sys.argv[2]
assert base.startswith("http://127.0.0.1:"), base

session = requests.Session()
session.trust_env = False  # no proxy: everything is on loopback

answer = session.post(f"{base}/swarm", data={"user_count": 3, "spawn_rate": 3, "host": host}).json()
assert answer["success"] is True, answer
assert answer["message"] == "Swarming started", answer

stats = {}
deadline = time.time() + 30
while time.time() < deadline:
    stats = session.get(f"{base}/stats/requests").json()
    total = stats["stats"][-1]
    if stats["state"] == "running" and total["num_requests"] >= 30:
        break
    time.sleep(0.5)
else:
    sys.exit(f"no requests arrived: {stats}")

assert total["name"] == "Aggregated"
assert 0.0 <= stats["fail_ratio"] <= 1.0
assert set(stats["current_response_time_percentiles"]) == {
    "response_time_percentile_0.5",
    "response_time_percentile_0.95",
}

stopped = session.post(f"{base}/stop").json()
assert stopped == {"message": "Test stopped", "success": True}, stopped
final = session.get(f"{base}/stats/requests").json()
csv_text = session.get(f"{base}/stats/requests/csv").text
assert csv_text.splitlines()[0].startswith("Type,Name,Request Count,Failure Count")

print(json.dumps({
    "state_after_stop": final["state"],
    "requests": final["stats"][-1]["num_requests"],
}))
