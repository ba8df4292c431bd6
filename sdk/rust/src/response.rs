//! What a handler returns: actions and transaction attributes.

use crate::json::{self, write_map};
use std::collections::BTreeMap;

/// One action: its `Type` and its parameters as a JSON object. The builders
/// of this crate ([`play_audio`](crate::play_audio) …) make them.
#[derive(Clone, Debug, PartialEq)]
pub struct Action {
    pub type_: String,
    /// The parameters as one JSON object.
    pub parameters: String,
}

impl Action {
    /// An action of any type with verbatim JSON parameters (an object).
    pub fn custom(type_: &str, parameters_json: &str) -> Action {
        Action { type_: type_.to_string(), parameters: parameters_json.to_string() }
    }

    fn write(&self, out: &mut String) {
        let mut o = json::Object::begin(out);
        o.str_always("Type", &self.type_);
        o.key("Parameters");
        o.out().push_str(if self.parameters.is_empty() { "{}" } else { &self.parameters });
        o.end();
    }
}

/// A handler's response.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Response {
    /// `None` leaves out the list, which keeps the call's current actions;
    /// `Some(vec![])` means "do nothing".
    pub actions: Option<Vec<Action>>,
    /// `Some` replaces the call's attributes (an empty map clears them);
    /// `None` leaves them unchanged.
    pub transaction_attributes: Option<BTreeMap<String, String>>,
}

/// A response with these actions (an empty list: do nothing).
pub fn respond(actions: Vec<Action>) -> Response {
    Response { actions: Some(actions), transaction_attributes: None }
}

impl Response {
    /// A response without an action list: the call's current actions go on.
    pub fn keep() -> Response {
        Response::default()
    }

    /// Appends an action.
    pub fn add(mut self, a: Action) -> Response {
        self.actions.get_or_insert_with(Vec::new).push(a);
        self
    }

    /// Sets one transaction attribute.
    pub fn set_attribute(mut self, k: &str, v: &str) -> Response {
        self.transaction_attributes.get_or_insert_with(BTreeMap::new).insert(k.to_string(), v.to_string());
        self
    }

    /// Replaces the transaction attributes.
    pub fn with_attributes(mut self, m: BTreeMap<String, String>) -> Response {
        self.transaction_attributes = Some(m);
        self
    }

    /// The response JSON.
    pub fn to_json(&self) -> String {
        let mut out = String::with_capacity(256);
        out.push_str("{\"SchemaVersion\":\"1.0\"");
        if let Some(actions) = &self.actions {
            out.push_str(",\"Actions\":[");
            for (i, a) in actions.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                a.write(&mut out);
            }
            out.push(']');
        }
        if let Some(m) = &self.transaction_attributes {
            out.push_str(",\"TransactionAttributes\":");
            write_map(&mut out, m);
        }
        out.push('}');
        out
    }
}

