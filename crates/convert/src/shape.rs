//! A `LoadTestShape` whose `tick()` walks a stage table (`stages = [{"duration": 60,
//! "users": 10, "spawn_rate": 10}, ...]`, returning the first stage whose duration is
//! still ahead) into the stages of a `locust.toml` profile. Any other `tick()` is a TODO.

use rustpython_parser::ast::{self, Expr, Ranged, Stmt};

use crate::classes::{own_attr, Classes};
use crate::context::{dotted, Fx, Module};
use crate::model::{Profile, Val};

/// `StagesShape` → `stages-shape`.
pub fn profile_name(class: &str) -> String {
    let mut out = String::new();
    for (i, c) in class.chars().enumerate() {
        if c.is_ascii_uppercase() && i > 0 && !out.ends_with('-') {
            out.push('-');
        }
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('-') {
            out.push('-');
        }
    }
    out.trim_matches('-').to_string()
}

/// Whether `tick` reads `self.stages` and compares the run time with `"duration"`.
fn is_stage_walk(tick: &ast::StmtFunctionDef) -> bool {
    let text = format!("{:?}", tick.body);
    tick.body.iter().any(|s| matches!(s, Stmt::For(_)))
        && text.contains("Identifier(\"stages\")")
        && text.contains("\"duration\"")
        && text.contains("\"users\"")
}

pub fn shape<'a>(classes: &Classes<'a>, m: &Module<'a>, cd: &'a ast::StmtClassDef) -> Profile {
    let mut profile = Profile {
        name: profile_name(&cd.name),
        class: cd.name.to_string(),
        ..Profile::default()
    };
    let methods = classes.methods(cd);
    let Some(tick) = methods.get("tick") else {
        profile
            .todos
            .push(m.todo(cd, "a LoadTestShape without tick()"));
        return profile;
    };
    let stages = own_attr(cd, "stages").or_else(|| classes.attr(cd, "stages"));
    let (true, Some(Expr::List(list))) = (is_stage_walk(tick), stages) else {
        profile.todos.push(m.todo(
            *tick,
            "a tick() that is not a walk over a `stages` table: write the profile's stages (or a formula stage, users = \"<expression of t>\") by hand",
        ));
        return profile;
    };
    let fx = Fx::new(m, "self");
    for item in &list.elts {
        match stage(&fx, item) {
            Ok(v) => profile.stages.push(v),
            Err(why) => profile.todos.push(m.todo(item, why)),
        }
    }
    profile
}

fn stage(fx: &Fx, item: &Expr) -> Result<Val, String> {
    let Expr::Dict(d) = item else {
        return Err("a stage that is not a dict".into());
    };
    let mut fields = Vec::new();
    for (k, v) in d.keys.iter().zip(&d.values) {
        let key = k
            .as_ref()
            .and_then(crate::context::const_str)
            .ok_or("a stage key computed at run time")?;
        match key {
            "duration" => match fx.literal(v) {
                Some(Val::Int(s)) => fields.push(("until".to_string(), Val::Str(format!("{s}s")))),
                Some(Val::Float(f)) if f.fract() == 0.0 => {
                    fields.push(("until".to_string(), Val::Str(format!("{}s", f as i64))))
                }
                _ => return Err("a stage duration that is not whole seconds".into()),
            },
            "users" => fields.push((
                "users".into(),
                fx.literal(v).ok_or("a user count computed at run time")?,
            )),
            "spawn_rate" => fields.push((
                "spawn-rate".into(),
                fx.literal(v).ok_or("a spawn rate computed at run time")?,
            )),
            "user_classes" => {
                let Expr::List(l) = v else {
                    return Err("user_classes that is not a list of classes".into());
                };
                let names = l
                    .elts
                    .iter()
                    .map(|e| dotted(e).map(Val::Str))
                    .collect::<Option<Vec<_>>>()
                    .ok_or("user_classes that is not a list of classes")?;
                fields.push(("user-classes".into(), Val::Arr(names)));
            }
            other => return Err(format!("the stage key `{other}` has no counterpart")),
        }
    }
    let _ = item.start();
    Ok(Val::Table(fields))
}

#[cfg(test)]
mod tests {
    #[test]
    fn profile_names_are_kebab_case() {
        assert_eq!(super::profile_name("StagesShape"), "stages-shape");
        assert_eq!(super::profile_name("my_shape"), "my-shape");
    }
}
