//! What the rest of the tool may learn about a compiled step without running it: the
//! stats name when it is fixed at load (criteria check names against these), and the
//! values of headers a report must never show (secrets such as `Authorization`).

use http::HeaderName;

use crate::step::{default_name, Step};
use crate::template::{context, Template};
use crate::vars::UserVars;

impl Step {
    /// The stats name when no template decides it; None for templated names.
    /// The method, when it is no template.
    pub fn static_method(&self) -> Option<&http::Method> {
        match &self.method {
            crate::step::MethodTpl::Static(method) => Some(method),
            crate::step::MethodTpl::Dynamic(_) => None,
        }
    }

    pub fn static_name(&self) -> Option<String> {
        if let Some(fixed) = &self.fixed {
            return Some(fixed.name.clone());
        }
        match &self.name {
            Some(Template::Static(name)) => Some(name.to_string()),
            Some(Template::Dynamic(_)) => None,
            None => {
                let Template::Static(path) = &self.path else {
                    return None;
                };
                let mut url = path.to_string();
                for (i, (key, value)) in self.query.iter().enumerate() {
                    let Template::Static(value) = value else {
                        return None;
                    };
                    url.push(if i == 0 && !url.contains('?') {
                        '?'
                    } else {
                        '&'
                    });
                    url.push_str(key);
                    url.push('=');
                    url.push_str(&crate::step::encode_query(value));
                }
                Some(default_name(&url))
            }
        }
    }

    /// Values this step sends in headers for which `secret` is true: static values as
    /// written, templated ones rendered once with a fresh user's variables (so values
    /// from `env(...)` are known; ones that need extracted variables are not).
    pub fn secret_header_values(&self, secret: impl Fn(&HeaderName) -> bool) -> Vec<String> {
        let mut values: Vec<String> = self
            .headers
            .iter()
            .filter(|(name, _)| secret(name))
            .filter_map(|(_, value)| value.to_str().ok().map(str::to_owned))
            .collect();
        let vars = UserVars::new(0);
        let (ctx, _) = context(&vars, 0);
        let mut templated: Vec<&Template> = self
            .dyn_headers
            .iter()
            .filter(|(n, _)| secret(n))
            .map(|(_, template)| template)
            .collect();
        // A request's own cookies go out in the Cookie header: secret when it is.
        if secret(&http::header::COOKIE) {
            templated.extend(self.cookies.iter().map(|(_, template)| template));
        }
        for template in templated {
            if let Ok(text) = template.render(&self.env, &ctx) {
                if !text.is_empty() {
                    values.push(text.into_owned());
                }
            }
        }
        values
    }
}
