"""The bureau at once: 50 staff browsing, searching, looking up and calling the API.

Run through `make loadtest` (loadtest/run.py starts the server and the data).
"""

import os
import random

from locust import HttpUser, between, task

LOOKUPS = ["失信被执行人", "严重质量违法失信", "海关失信企业", "纳税信用A级纳税人", "sxbzxr"]
SEARCHES = ["失信", "海关", "行政审批处", "发改财金(2016)2202号", "惩戒"]
CODES = [code for code in os.environ.get("LOADTEST_CODES", "").split(",") if code]


# Seconds a clerk waits between two clicks.  The default (0.1–0.5 s) offers
# more than two cores can serve, so the run finds the capacity and proves
# nothing fails at it; LOADTEST_WAIT=2,8 is closer to people reading pages.
WAIT = [float(value) for value in os.environ.get("LOADTEST_WAIT", "0.1,0.5").split(",")]


class Clerk(HttpUser):
    wait_time = between(*WAIT)

    def on_start(self):
        # Staff sign in once through the site's login form (CSRF and all);
        # the admin's would also ask staff for a second factor.
        self.client.get("/accounts/login/", name="login page")
        token = self.client.cookies.get("csrftoken", "")
        with self.client.post(
            "/accounts/login/?next=/",
            data={
                "username": os.environ["LOADTEST_USER"],
                "password": os.environ["LOADTEST_PASSWORD"],
                "csrfmiddlewaretoken": token,
            },
            headers={"Referer": self.host + "/accounts/login/"},
            name="login",
            catch_response=True,
        ) as response:
            # A refused login shows the form again with status 200: count it
            # as the failure it is, or every later request runs signed out.
            if "sessionid" not in self.client.cookies:
                response.failure("not signed in")

    @task(3)
    def list_page(self):
        self.client.get("/", name="/")

    @task(3)
    def search(self):
        self.client.get("/", params={"search": random.choice(SEARCHES)}, name="/?search=")

    @task(3)
    def lookup(self):
        self.client.get("/lookup/", params={"q": random.choice(LOOKUPS)}, name="/lookup/")

    @task(2)
    def memo_api(self):
        self.client.get("/api/memos/", name="/api/memos/")

    @task(3)
    def subject_api(self):
        if CODES:
            self.client.get(f"/api/subjects/{random.choice(CODES)}/", name="/api/subjects/<code>/")
