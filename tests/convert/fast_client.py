from locust import FastHttpUser, constant, task


class Fast(FastHttpUser):
    """Two reads, one twice as often."""

    wait_time = constant(0.2)

    @task(2)
    def users(self):
        self.client.get("/users")

    @task
    def health(self):
        self.client.get("/health")
