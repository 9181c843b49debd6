"""Each request claims another client address, as a proxy in front would say."""
import random

from locust import HttpUser, constant, task


class Forwarded(HttpUser):
    wait_time = constant(0.1)

    @task
    def health(self):
        address = f"10.0.{random.randint(0, 255)}.{random.randint(1, 254)}"
        self.client.get("/health", headers={"X-Forwarded-For": address})
