import os

from locust import HttpUser, constant, events, task

REGION = os.getenv("REGION", "eu")


@events.test_start.add_listener
def create_run(environment, **kwargs):
    requests.post(f"{environment.host}/users", json={"name": "run", "email": "run@example.com"})


@events.test_stop.add_listener
def close_run(environment, **kwargs):
    requests.get(environment.host + "/health")


class Tenant(HttpUser):
    wait_time = constant(0.1)

    @task
    def by_region(self):
        with self.client.rename_request("/users?region=[region]"):
            self.client.get("/users?region={}".format(REGION))
        self.client.get("/users/%d" % 1, name="/users/[id]", timeout=(2, 5), allow_redirects=False)
