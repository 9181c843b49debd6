"""One flow over every route of the demo target, so that a short run sends each request:
create a user, read it, update it, list users, health of each instance, delete it."""
import uuid

from locust import HttpUser, constant, task

INSTANCES = ["app1", "app2", "app3"]


class Flow(HttpUser):
    wait_time = constant(0.2)

    def on_start(self):
        with self.client.get("/gateway-health", catch_response=True) as response:
            if response.json()["status"] != "healthy":
                response.failure("gateway down")

    @task
    def flow(self):
        created = self.client.post("/users", json={"name": f"u-{uuid.uuid4()}", "email": f"{uuid.uuid4()}@example.com"})
        user_id = created.json()["id"]
        self.client.get(f"/users/{user_id}", name="/users/[id]")
        self.client.put(
            "/users/%s" % user_id,
            json={"name": "renamed", "email": "renamed@example.com"},
            name="/users/[id]",
        )
        self.client.get("/users", params={"skip": 0, "limit": 10})
        for instance in INSTANCES:
            with self.client.get(f"/{instance}/health", name="/{}/health".format(instance), catch_response=True) as r:
                if "X-Instance-ID" not in r.headers:
                    r.failure("no instance header")
        self.client.delete(f"/users/{user_id}", name="/users/[id]")


class Monitor(HttpUser):
    fixed_count = 1
    wait_time = constant(0.5)

    @task
    def health(self):
        self.client.get("/health")
