//! `locust-rs convert`, part 5: the converter under seeded mutations of Python
//! locustfiles (the fixtures of `tests/convert/` and the seed's locustfile), with the
//! shared mutation helpers of `locust_scenario::fuzz`: every case ends in a conversion
//! or a syntax error with a line and column inside the file, never a panic or a hang;
//! and a converted case that parsed always yields TOML that the toml parser reads.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use locust_scenario::fuzz::{cases, mutated, run_case, Rng, Watchdog};

/// Python syntax and locustfile pieces to insert.
const SNIPPETS: &[&str] = &[
    "\n    @task(3)\n    def t(self):\n        self.client.get(f\"/x/{self.y}\")\n",
    "self.client.post(\"/u\", json={\"a\": [1, {\"b\": None}]}, name=\"n\")",
    "with self.client.get(\"/\", catch_response=True) as r:\n            r.failure(r.text)\n",
    "tasks = {A: 2, B: 0}\n",
    "class X(X):\n    pass\n",
    "class T(TaskSet):\n    tasks = [T]\n",
    "wait_time = between(1e309, -1)\n",
    "for i in range(99999999999999999999):\n",
    "f\"{x!r:>{width}}\"",
    "\"%s %d %q\" % (1,)",
    "\"{} {0} {name}\".format()",
    "lambda: (yield)",
    "async def f():\n    await x\n",
    "match x:\n    case 1:\n        pass\n",
    "x := y",
    "\\\n",
    "'''",
    "\"\"\"",
    "\t",
    "-" ,
    "not not not not not not not x",
    "a.b.c.d.e.f.g.h[0][1][2]",
    "os.getenv()",
    "random.choice()",
    "self.client.request()",
    "raise",
    "@events.test_start.add_listener\ndef s(environment, **kw):\n    requests.get(environment.host)\n",
];

#[test]
fn fuzz_convert_never_panics() {
    let mut corpus: Vec<Vec<u8>> = Vec::new();
    for name in std::fs::read_dir(common::repo_root().join("tests/convert")).unwrap() {
        let path = name.unwrap().path();
        if path.extension().is_some_and(|e| e == "py") {
            corpus.push(std::fs::read(path).unwrap());
        }
    }
    corpus.push(common::convert::fixture("seed_locustfile.py").into_bytes());
    assert!(corpus.len() >= 8, "the corpus is missing");
    let seeds: Vec<&[u8]> = corpus.iter().map(|c| c.as_slice()).collect();
    let watchdog = Watchdog::start("fuzz_convert_never_panics");
    let mut rng = Rng(0x00c0_ffee_2047_0014);
    let (mut parsed, mut refused) = (0, 0);
    for case in 0..cases(300, 1) {
        watchdog.case(case);
        let input = mutated(&mut rng, &seeds, SNIPPETS);
        let text = String::from_utf8_lossy(&input).into_owned();
        let lines = text.lines().count().max(1);
        run_case(
            "fuzz_convert_never_panics",
            case,
            &input,
            || match locust_convert::convert("case.py", &text) {
                Ok(out) => {
                    parsed += 1;
                    if let Err(e) = out.scenario.parse::<toml::Table>() {
                        panic!("the output is not TOML: {e}\n{}", out.scenario);
                    }
                    if let Some((_, profile)) = &out.profile {
                        if let Err(e) = profile.parse::<toml::Table>() {
                            panic!("the profile is not TOML: {e}\n{profile}");
                        }
                    }
                    for todo in &out.todos {
                        assert!(
                            todo.line >= 1 && todo.line <= lines + 1,
                            "TODO line {}",
                            todo.line
                        );
                    }
                }
                Err(e) => {
                    refused += 1;
                    assert!(
                        e.line >= 1 && e.line <= lines + 1,
                        "error line {} of {lines}",
                        e.line
                    );
                    assert!(e.column >= 1, "column {}", e.column);
                }
            },
        );
    }
    assert!(
        parsed > 10 && refused > 10,
        "parsed {parsed}, refused {refused}"
    );
}
