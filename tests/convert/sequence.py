from locust import HttpUser, SequentialTaskSet, constant, task


class Checkout(SequentialTaskSet):
    @task
    def browse(self):
        self.client.get("/users")

    @task
    def pick(self):
        self.client.get("/health")

    @task
    def pay(self):
        self.client.get("/gateway-health")


class Buyer(HttpUser):
    wait_time = constant(0.1)
    tasks = [Checkout]
