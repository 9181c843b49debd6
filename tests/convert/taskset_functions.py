# A user whose only task is a TaskSet mixing plain functions and @task methods.
from locust import HttpUser, TaskSet, between, task


def home(user):
    user.client.get("/")


def health(user):
    user.client.get("/health")


class Browsing(TaskSet):
    tasks = {home: 3, health: 1}

    @task(2)
    def missing(self):
        self.client.get("/no/such/page")


class Visitor(HttpUser):
    host = "http://127.0.0.1:8089"
    wait_time = between(1, 2)
    tasks = [Browsing]
