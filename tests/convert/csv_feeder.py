"""Logs in with the accounts of a CSV file, round after round."""
import csv
import os

from locust import HttpUser, constant, task

accounts_file = open(os.path.join(os.path.dirname(__file__), "accounts.csv"))
accounts = csv.reader(accounts_file)


class Member(HttpUser):
    wait_time = constant(0.1)

    @task
    def login(self):
        try:
            username, password = next(accounts)
        except StopIteration:
            accounts_file.seek(0, 0)
            username, password = next(accounts)
        self.client.post("/users", json={"name": username, "email": "%s@example.com" % username})
