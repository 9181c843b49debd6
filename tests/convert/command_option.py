"""A page size given on the command line (--page-size), read in a task."""
from locust import HttpUser, constant, events, task


@events.init_command_line_parser.add_listener
def add_options(parser):
    parser.add_argument("--page-size", type=str, default="10", help="Users per page")


class Pager(HttpUser):
    wait_time = constant(0.1)

    @task
    def page(self):
        size = self.environment.parsed_options.page_size
        self.client.get(f"/users?skip=0&limit={size}", name="/users (page)")
