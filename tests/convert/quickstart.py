"""Logs in, then reads pages and items; sleeps between item reads."""
import time

from locust import HttpUser, between, task


class Shopper(HttpUser):
    wait_time = between(0.5, 1.5)

    def on_start(self):
        self.client.post("/login", json={"username": "ann", "password": "secret"})

    @task
    def pages(self):
        self.client.get("/hello")
        self.client.get("/world")

    @task(4)
    def items(self):
        for n in range(3):
            self.client.get(f"/item?id={n}", name="/item")
            time.sleep(0.1)
