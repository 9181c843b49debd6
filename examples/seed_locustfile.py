"""The seed's locustfile, written in Python as ../shared/seed/LOAD_TESTING_SUMMARY.md
describes it: three user classes load-testing the scaling system of target-api.md (an
nginx gateway, three FastAPI instances behind a load balancer, a Redis cache).

    locust-rs convert examples/seed_locustfile.py -o scenarios/seed.toml --check

is the worked example of README.md and LOAD_TESTING.md ("Converting a locustfile").
"""

import random
import uuid

from locust import HttpUser, between, tag, task

INSTANCES = ["app1", "app2", "app3"]


class ScalingSystemUser(HttpUser):
    """Normal users: CRUD on users, health checks, cache and load-balancer tests."""

    weight = 3
    wait_time = between(1, 3)
    host = "http://localhost:8080"

    def on_start(self):
        self.user_ids = []
        with self.client.get("/gateway-health", catch_response=True) as response:
            if response.json()["status"] != "healthy":
                response.failure("gateway is not healthy")

    @tag("crud", "cache")
    @task(3)
    def create_user(self):
        response = self.client.post(
            "/users",
            json={"name": f"Load Test User {uuid.uuid4()}", "email": f"loadtest-{uuid.uuid4()}@example.com"},
        )
        self.user_ids.append(response.json()["id"])

    @tag("crud")
    @task(5)
    def read_user(self):
        if self.user_ids:
            user_id = random.choice(self.user_ids)
            self.client.get(f"/users/{user_id}", name="/users/[id]")

    @tag("crud")
    @task(2)
    def list_users(self):
        self.client.get("/users", params={"skip": 0, "limit": 10})

    @tag("crud")
    @task
    def update_user(self):
        if self.user_ids:
            user_id = random.choice(self.user_ids)
            self.client.put(
                f"/users/{user_id}",
                json={"name": f"Updated User {uuid.uuid4()}", "email": f"updated-{uuid.uuid4()}@example.com"},
                name="/users/[id]",
            )

    @tag("crud")
    @task
    def create_and_delete_user(self):
        response = self.client.post(
            "/users", json={"name": f"Temp User {uuid.uuid4()}", "email": f"temp-{uuid.uuid4()}@example.com"}
        )
        temp_id = response.json()["id"]
        self.client.delete(f"/users/{temp_id}", name="/users/[id]")

    @tag("health")
    @task(2)
    def health_checks(self):
        with self.client.get("/health", catch_response=True) as response:
            if response.json()["status"] != "healthy":
                response.failure("load-balanced service is not healthy")
        for instance in INSTANCES:
            with self.client.get(f"/{instance}/health", name=f"/{instance}/health", catch_response=True) as response:
                if response.json()["status"] != "healthy":
                    response.failure(f"{instance} is not healthy")

    @tag("cache")
    @task(2)
    def cache_test(self):
        if self.user_ids:
            user_id = random.choice(self.user_ids)
            self.client.get(f"/users/{user_id}", name="/users/[id] (cache first)")
            with self.client.get(f"/users/{user_id}", name="/users/[id] (cache repeat)", catch_response=True) as response:
                if "X-Cache" not in response.headers:
                    response.failure("no X-Cache header")

    @tag("loadbalancer")
    @task
    def load_balancer_check(self):
        for _ in range(5):
            with self.client.get("/health", name="/health (load balancer)", catch_response=True) as response:
                if "X-Instance-ID" not in response.headers:
                    response.failure("no X-Instance-ID header")


class HighVolumeUser(HttpUser):
    """High-frequency reads of a small working set, which the cache should answer."""

    weight = 2
    wait_time = between(0.1, 0.5)
    host = "http://localhost:8080"

    def on_start(self):
        self.hot_ids = []
        for _ in range(3):
            response = self.client.post(
                "/users", json={"name": f"HV User {uuid.uuid4()}", "email": f"hv-{uuid.uuid4()}@example.com"}
            )
            self.hot_ids.append(response.json()["id"])

    @tag("crud", "cache")
    @task(5)
    def rapid_read(self):
        self.client.get(f"/users/{random.choice(self.hot_ids)}", name="/users/[id]")

    @tag("health", "loadbalancer")
    @task(2)
    def rapid_health(self):
        self.client.get("/health")

    @tag("cache")
    @task(3)
    def repeated_reads(self):
        user_id = random.choice(self.hot_ids)
        self.client.get(f"/users/{user_id}", name="/users/[id] (cache first)")
        for _ in range(2):
            self.client.get(f"/users/{user_id}", name="/users/[id] (cache repeat)")


class AdminUser(HttpUser):
    """Bulk creation and reading, and monitoring of every instance."""

    weight = 1
    wait_time = between(2, 5)
    host = "http://localhost:8080"

    @tag("bulk", "crud")
    @task
    def bulk_create_users(self):
        for _ in range(5):
            self.client.post(
                "/users",
                json={"name": f"Bulk User {uuid.uuid4()}", "email": f"bulk-{uuid.uuid4()}@example.com"},
                name="/users (bulk)",
            )

    @tag("bulk")
    @task(2)
    def bulk_read_users(self):
        self.client.get("/users", params={"skip": 0, "limit": 100})

    @tag("monitoring", "health")
    @task(2)
    def system_monitoring(self):
        for path in ["/gateway-health", "/app1/health", "/app2/health", "/app3/health"]:
            with self.client.get(path, catch_response=True) as response:
                if response.json()["status"] != "healthy":
                    response.failure(f"{path} is not healthy")
