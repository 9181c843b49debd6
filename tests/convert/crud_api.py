"""A CRUD user of the demo target: creates users, reads them back, checks answers."""
import os
import random
import uuid

from locust import HttpUser, between, tag, task

PAGE_SIZES = [5, 10, 20]


class Crud(HttpUser):
    weight = 3
    wait_time = between(0.1, 0.3)

    def on_start(self):
        self.user_ids = []
        with self.client.get("/gateway-health", catch_response=True) as response:
            if response.status_code != 200:
                response.failure(f"gateway unhealthy: {response.status_code}")

    @tag("crud")
    @task(3)
    def create_user(self):
        name = f"user {uuid.uuid4()}"
        r = self.client.post("/users", json={"name": name, "email": f"{uuid.uuid4()}@example.com"})
        self.user_ids.append(r.json()["id"])

    @tag("crud", "read")
    @task(5)
    def read_user(self):
        if self.user_ids:
            user_id = random.choice(self.user_ids)
            self.client.get(f"/users/{user_id}", name="/users/[id]")

    @task(2)
    def list_users(self):
        self.client.get("/users", params={"skip": 0, "limit": random.choice(PAGE_SIZES)})

    @tag("health")
    @task
    def health(self):
        with self.client.get("/health", catch_response=True) as response:
            if response.json()["status"] != "healthy":
                response.failure("not healthy")


class Admin(HttpUser):
    fixed_count = 1
    wait_time = between(1, 2)
    token = os.getenv("ADMIN_TOKEN", "dev-token")

    @task
    def stats(self):
        self.client.get("/users", headers={"Authorization": f"Bearer {self.token}"}, name="/users (admin)")
