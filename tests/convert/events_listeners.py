"""Tasks of a TaskSet whose methods name their argument `l`; listeners that only
count content lengths and extend the web UI, which a scenario does not need."""
from locust import HttpUser, TaskSet, between, events, task

totals = {"bytes": 0}


class Pages(TaskSet):
    @task(2)
    def index(l):
        l.client.get("/")

    @task(1)
    def stats(l):
        l.client.get("/health")


class Reader(HttpUser):
    host = "http://127.0.0.1:8089"
    wait_time = between(2, 5)
    tasks = [Pages]


@events.init.add_listener
def on_init(environment, **kwargs):
    if environment.web_ui:

        @environment.web_ui.app.route("/content-length")
        def content_length():
            return "total: %i" % totals["bytes"]


@events.request.add_listener
def on_request(response_length, **kwargs):
    totals["bytes"] += response_length
