from locust import HttpUser, LoadTestShape, constant, task


class Reader(HttpUser):
    wait_time = constant(0.5)

    @task
    def root(self):
        self.client.get("/")


class RampShape(LoadTestShape):
    """Holds each count until its time since the start."""

    stages = [
        {"duration": 30, "users": 5, "spawn_rate": 5},
        {"duration": 90, "users": 20, "spawn_rate": 2},
        {"duration": 120, "users": 2, "spawn_rate": 1},
    ]

    def tick(self):
        run_time = self.get_run_time()
        for stage in self.stages:
            if run_time < stage["duration"]:
                return stage["users"], stage["spawn_rate"]
        return None
