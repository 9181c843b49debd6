import random

from locust import HttpUser, LoadTestShape, MarkovTaskSet, events, task, transition
from locust.exception import RescheduleTask

print("loading")


class Odd(HttpUser):
    wait_time = lambda self: random.expovariate(1)

    @task
    def loop(self):
        count = 0
        while count < 3:
            self.client.get("/users")
            count += 1

    @task(2)
    def other(self):
        self.client.get("/health", verify=False)
        self.interrupt()
        raise RescheduleTask()

    @task
    def streamed(self):
        self.client.get("/users", stream=True)
        data = {k: v for k, v in [("a", 1)]}
        self.client.post("/users", json=data)


class Chain(MarkovTaskSet):
    @transition("a")
    def a(self):
        self.client.get("/a")


class Walker(HttpUser):
    tasks = [Chain]


class Wave(LoadTestShape):
    def tick(self):
        return round(self.get_run_time()) % 10 + 1, 1


@events.request.add_listener
def on_request(**kwargs):
    pass
