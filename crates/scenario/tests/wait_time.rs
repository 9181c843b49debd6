//! The wait functions beyond Locust's four, through a whole scenario file: they load
//! into the class, and a bad one is an error naming file, line and key with a
//! did-you-mean.

use locust_scenario::{load_str, WaitTime};

fn class_wait(wait: &str) -> Result<WaitTime, String> {
    let text = format!(
        "[users.A]\nwait_time = \"{wait}\"\n[[users.A.tasks]]\nrequest = {{ path = \"/\" }}\n"
    );
    let plan = load_str("s.toml", &text).map_err(|e| e.to_string())?;
    plan.get("A")
        .map(|c| c.wait_time)
        .ok_or_else(|| "no class A".to_string())
}

#[test]
fn exponential_and_normal_load_into_the_class() {
    assert_eq!(
        class_wait("exponential(2)"),
        Ok(WaitTime::Exponential {
            mean: 2.0,
            max: None
        })
    );
    assert_eq!(
        class_wait("exponential(2, 10)"),
        Ok(WaitTime::Exponential {
            mean: 2.0,
            max: Some(10.0)
        })
    );
    assert_eq!(
        class_wait("normal(1.5, 0.5)"),
        Ok(WaitTime::Normal {
            mean: 1.5,
            stddev: 0.5
        })
    );
}

#[test]
fn bad_ones_name_file_line_key_and_the_function_meant() {
    for (wait, fragments) in [
        (
            "exponentail(2)",
            &[
                "s.toml:2:13: `users.A.wait_time`",
                "did you mean `exponential`?",
            ][..],
        ),
        (
            "poisson(2)",
            &[
                "s.toml:2:13",
                "Poisson task starts",
                "did you mean `exponential`?",
            ][..],
        ),
        ("exponential(0)", &["s.toml:2:13", "needs a value > 0"][..]),
        (
            "normal(1)",
            &["s.toml:2:13", "normal takes 2 arguments"][..],
        ),
    ] {
        let Err(message) = class_wait(wait) else {
            panic!("{wait} should fail");
        };
        for fragment in fragments {
            assert!(message.contains(fragment), "{fragment:?} not in {message}");
        }
    }
}
