//! Each construct of the "Converted" list, as a small locustfile: what it becomes,
//! and that the result loads as a scenario (`locust_scenario::load_str`).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::convert;

/// Converts `py`; asserts it converted fully and that the scenario loads.
fn ok(py: &str) -> String {
    let out = convert("t.py", py).unwrap();
    assert!(out.todos.is_empty(), "{:?}\n{}", out.todos, out.scenario);
    if let Err(e) = locust_scenario::load_str("/tmp/t.toml", &out.scenario) {
        panic!("does not load: {e}\n{}", out.scenario);
    }
    out.scenario
}

fn has(toml: &str, pieces: &[&str]) {
    for p in pieces {
        assert!(toml.contains(p), "{p:?} is not in\n{toml}");
    }
}

const HEAD: &str = "import os, random, time, uuid\nfrom locust import *\n\n";

fn user(attrs: &str, body: &str) -> String {
    format!("{HEAD}class U(HttpUser):\n{attrs}\n    @task\n    def t(self):\n{body}\n")
}

#[test]
fn class_attributes() {
    let toml = ok(&user(
        "    host = \"http://h:1\"\n    weight = 2\n    wait_time = constant_pacing(3)\n",
        "        self.client.get(\"/\")",
    ));
    has(
        &toml,
        &[
            "host = \"http://h:1\"",
            "weight = 2",
            "wait_time = \"constant_pacing(3)\"",
        ],
    );
    let toml = ok(&user(
        "    fixed_count = 2\n    wait_time = constant_throughput(0.5)\n",
        "        self.client.get(\"/\")",
    ));
    has(&toml, &["fixed_count = 2", "constant_throughput(0.5)"]);
}

#[test]
fn request_arguments() {
    let toml = ok(&user(
        "",
        "        self.client.post(\"/a\", data={\"x\": \"1\"}, headers={\"X-A\": \"b\"}, allow_redirects=False, timeout=3)\n\
         \x20       self.client.request(\"PATCH\", \"/b\", json={\"n\": [1, 2.5, True]}, params={\"q\": \"z\"})",
    ));
    // files= names a file next to the scenario: converted, not loaded here.
    let py = user("", "        self.client.put(\"/c\", files={\"f\": (\"a.png\", open(\"a.png\", \"rb\"), \"image/png\")})");
    let files = convert("t.py", &py).unwrap();
    assert!(files.todos.is_empty());
    has(&files.scenario, &["files = { f = { path = \"a.png\", filename = \"a.png\", content_type = \"image/png\" } }"]);
    has(
        &toml,
        &[
            "{ method = \"POST\", path = \"/a\", form = { x = \"1\" }, allow_redirects = false, timeout = 3, headers = { X-A = \"b\" } }",
            "method = \"PATCH\", path = \"/b\", json = { n = [1, 2.5, true] }, query = { q = \"z\" }",
        ],
    );
}

#[test]
fn strings_formats_and_values() {
    let toml = ok(&user(
        "",
        "        n = random.randint(1, 9)\n\
         \x20       self.client.get(\"/a/%s/%d\" % (n, 2), name=\"/a/{}\".format(\"[n]\"))\n\
         \x20       self.client.get(f\"/b/{uuid.uuid4()}\", headers={\"T\": os.environ.get(\"TOK\", \"x\")})\n\
         \x20       self.client.get(\"/c\", params={\"r\": os.getenv(\"R\", \"eu\"), \"p\": random.choice([\"a\", \"b\"])})",
    ));
    has(
        &toml,
        &[
            "{ set = { n = \"{{ random_int(1, 9) }}\" } }",
            "path = \"/a/{{ n }}/2\", name = \"/a/[n]\"",
            "path = \"/b/{{ uuid() }}\", headers = { T = \"{{ env('TOK', 'x') }}\" }",
            "query = { r = \"{{ env('R', 'eu') }}\", p = \"{{ (['a', 'b'] | random) }}\" }",
        ],
    );
}

#[test]
fn responses_checks_and_extraction() {
    let toml = ok(&user(
        "",
        "        with self.client.get(\"/a\", catch_response=True) as r:\n\
         \x20           if r.status_code == 200 and r.json()[\"ok\"]:\n\
         \x20               r.success()\n\
         \x20           else:\n\
         \x20               r.failure(f\"bad: {r.text}\")\n\
         \x20       r2 = self.client.post(\"/b\")\n\
         \x20       self.token = r2.json()[\"data\"][0][\"token\"]\n\
         \x20       if self.token:\n\
         \x20           self.client.get(\"/c\", headers={\"Authorization\": \"Bearer \" + self.token})",
    ));
    has(
        &toml,
        &[
            "checks = [{ expr = \"((status == 200) and json['ok'])\", message = \"bad: {{ text }}\" }]",
            "extract = [{ var = \"token\", json = \"/data/0/token\" }]",
            "{ if = \"token\", then = [",
            "headers = { Authorization = \"Bearer {{ token }}\" }",
        ],
    );
}

#[test]
fn loops_sleeps_and_raises() {
    let toml = ok(&user(
        "",
        "        for _ in range(2):\n            self.client.get(\"/a\")\n\
         \x20       for p in [\"/x\", \"/y\"]:\n            self.client.get(p)\n\
         \x20       time.sleep(random.uniform(0.5, 1.5))\n\
         \x20       raise StopUser()",
    ));
    has(
        &toml,
        &[
            "{ repeat = 2, steps = [",
            "{ for = { var = \"p\", in = \"['/x', '/y']\" }, steps = [",
            "{ think = \"between(0.5, 1.5)\" }",
            "{ stop_user = true }",
        ],
    );
}

#[test]
fn events_become_setup_and_teardown() {
    let toml = ok(&format!(
        "{HEAD}import requests\n\n@events.test_start.add_listener\ndef s(environment, **kw):\n    requests.post(environment.host + \"/runs\", json={{\"a\": 1}})\n\n\
         @events.test_stop.add_listener\ndef e(environment, **kw):\n    requests.delete(f\"{{environment.host}}/runs\")\n\n\
         class U(HttpUser):\n    @task\n    def t(self):\n        self.client.get(\"/\")\n"
    ));
    has(
        &toml,
        &[
            "[[setup]]\nmethod = \"POST\"\npath = \"/runs\"",
            "[[teardown]]\nmethod = \"DELETE\"\npath = \"/runs\"",
        ],
    );
}

#[test]
fn csv_dict_rows_become_a_feeder() {
    let py = format!(
        "{HEAD}import csv\nwith open(\"users.csv\") as f:\n    USERS = list(csv.DictReader(f))\n\n\
         class U(HttpUser):\n    def on_start(self):\n        self.me = USERS.pop()\n\n    @task\n    def t(self):\n        self.client.get(f\"/u/{{self.me['name']}}\")\n"
    );
    let out = convert("t.py", &py).unwrap();
    assert!(out.todos.is_empty(), "{:?}", out.todos);
    has(
        &out.scenario,
        &[
            "[feeders.users]\nfile = \"users.csv\"\norder = \"unique\"",
            "{ feed = \"users\", as = \"me\" }",
            "path = \"/u/{{ me['name'] }}\"",
        ],
    );
    assert_eq!(out.data_files, ["users.csv"]);
}

#[test]
fn a_stage_table_shape_is_a_profile() {
    let py = format!(
        "{HEAD}class S(LoadTestShape):\n    stages = [{{\"duration\": 10, \"users\": 2, \"spawn_rate\": 1, \"user_classes\": [U]}}]\n\n\
         \x20   def tick(self):\n        for stage in self.stages:\n            if self.get_run_time() < stage[\"duration\"]:\n                return stage[\"users\"], stage[\"spawn_rate\"], stage[\"user_classes\"]\n        return None\n\n\
         class U(HttpUser):\n    @task\n    def t(self):\n        self.client.get(\"/\")\n"
    );
    let out = convert("t.py", &py).unwrap();
    let (name, profile) = out.profile.unwrap();
    assert_eq!(name, "s");
    has(
        &profile,
        &[
            "[profiles.s]",
            "{ until = \"10s\", users = 2, spawn-rate = 1, user-classes = [\"U\"] }",
        ],
    );
    profile
        .parse::<toml::Table>()
        .unwrap_or_else(|e| panic!("{e}"));
}

#[test]
fn declared_ratios_multiply_nested_tasksets() {
    let py = format!(
        "{HEAD}class T(TaskSet):\n    @task(3)\n    def a(self):\n        self.client.get(\"/a\")\n    @task\n    def b(self):\n        self.client.get(\"/b\")\n\n\
         class U(HttpUser):\n    weight = 3\n    tasks = {{T: 1, }}\n\n    @task\n    def c(self):\n        self.client.get(\"/c\")\n\n\
         class V(HttpUser):\n    @task\n    def d(self):\n        self.client.get(\"/d\")\n"
    );
    let out = convert("t.py", &py).unwrap();
    let u = &out.declared[0];
    assert_eq!(u.class, "U");
    assert_eq!(
        u.tasks,
        vec![
            ("a".to_string(), 0.375),
            ("b".to_string(), 0.125),
            ("c".to_string(), 0.5)
        ]
    );
    assert_eq!(crate::class_shares(&out.declared), vec![0.75, 0.25]);
    has(
        &out.scenario,
        &["name = \"a\"\nweight = 3", "name = \"c\"\nweight = 4"],
    );
}

#[test]
fn a_syntax_error_has_line_and_column() {
    let e = convert("t.py", "x = 1\nif x\n    pass\n").unwrap_err();
    assert_eq!((e.line, e.column), (2, 5), "{e:?}");
    let deep = format!("x = {}1{}\n", "(".repeat(300), ")".repeat(300));
    let e = convert("t.py", &deep).unwrap_err();
    assert!(e.message.contains("nested"), "{e:?}");
}

#[test]
fn hooks_sequences_and_task_dicts() {
    let py = format!(
        "{HEAD}class Flow(SequentialTaskSet):\n    def on_start(self):\n        self.client.post(\"/login\")\n\n\
         \x20   @task\n    def one(self):\n        self.client.get(\"/1\")\n\n    @task\n    def two(self):\n        self.client.get(\"/2\")\n\n\
         class U(HttpUser):\n    wait_time = constant(1)\n    tasks = [Flow]\n\n    def on_stop(self):\n        self.client.post(\"/logout\")\n\n\
         def a(user):\n    user.client.get(\"/a\")\n\n\
         class V(HttpUser):\n    tasks = {{a: 4}}\n"
    );
    let toml = ok(&py);
    has(
        &toml,
        &[
            "sequential = true",
            "on_start = [\n  { method = \"POST\", path = \"/login\" },\n]",
            "on_stop = [\n  { method = \"POST\", path = \"/logout\" },\n]",
            "name = \"one\"",
            "[users.V]",
            "name = \"a\"",
        ],
    );
    assert!(toml.find("name = \"one\"") < toml.find("name = \"two\""));
}

#[test]
fn a_dict_reader_drawn_at_random_and_a_computed_class_attribute() {
    let py = format!(
        "{HEAD}import csv\nROWS = list(csv.DictReader(open(\"skus.csv\")))\n\n\
         class U(HttpUser):\n    token = os.environ[\"TOKEN\"]\n\n    @task\n    def t(self):\n        row = random.choice(ROWS)\n        self.client.get(\"/p\", params={{\"sku\": row[\"sku\"]}}, headers={{\"T\": self.token}})\n"
    );
    let out = convert("t.py", &py).unwrap();
    assert!(out.todos.is_empty(), "{:?}", out.todos);
    has(
        &out.scenario,
        &[
            "[feeders.skus]\nfile = \"skus.csv\"\norder = \"random\"",
            "vars = { token = \"{{ env('TOKEN') }}\" }",
            "{ feed = \"skus\", as = \"row\" }",
            "query = { sku = \"{{ row['sku'] }}\" }, headers = { T = \"{{ token }}\" }",
        ],
    );
}

#[test]
fn unset_names_init_and_missing_users_are_todos() {
    let py = user(
        "    def __init__(self, *args, **kwargs):\n        super().__init__(*args, **kwargs)\n        self.key = \"k\"\n",
        "        self.client.get(f\"/x/{self.key}\")\n        self.client.get(\"/y\")",
    );
    let out = convert("t.py", &py).unwrap();
    let why: Vec<(usize, &str)> = out.todos.iter().map(|t| (t.line, t.why.as_str())).collect();
    assert_eq!(why.len(), 2, "{why:?}");
    assert_eq!(why[0].0, 5);
    assert!(why[0].1.starts_with("__init__ is not converted"), "{why:?}");
    assert_eq!(why[1].0, 11);
    assert!(
        why[1]
            .1
            .starts_with("reads `key`, which nothing converted sets"),
        "{why:?}"
    );
    locust_scenario::load_str("/tmp/t.toml", &out.scenario)
        .unwrap_or_else(|e| panic!("{e}\n{}", out.scenario));
    let only_taskset = format!(
        "{HEAD}class T(TaskSet):\n    @task\n    def t(self):\n        self.client.get(\"/\")\n"
    );
    let out = convert("t.py", &only_taskset).unwrap();
    assert_eq!(out.todos.len(), 1);
    assert!(
        out.todos[0].why.starts_with("no HttpUser"),
        "{:?}",
        out.todos
    );
}
