//! Typed events: each module declares one enum, and the kit turns it into the receipt's
//! `kind` and string attributes.
//!
//! An event enum derives `Serialize` with `#[serde(tag = "kind", rename_all = "snake_case")]`:
//! the variant name is the event kind and each field an attribute. Field values become strings
//! the way the audit log has always stored them: strings as they are, integers and booleans in
//! decimal / `true` / `false`, hashes and addresses through their own (hex) serialization,
//! `None` leaves the attribute out, anything nested becomes compact JSON.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::Value;

/// A module's event enum (see the [module docs](self)).
///
/// # Examples
///
/// ```
/// use counterweight_state::ModuleEvent;
/// use serde::Serialize;
///
/// #[derive(Serialize)]
/// #[serde(tag = "kind", rename_all = "snake_case")]
/// enum BankEvent {
///     Transfer { to: String, amount: u64 },
/// }
/// impl ModuleEvent for BankEvent {}
///
/// let (kind, attrs) = BankEvent::Transfer { to: "ab".into(), amount: 5 }.to_parts().unwrap();
/// assert_eq!(kind, "transfer");
/// assert_eq!(attrs["amount"], "5");
/// assert_eq!(attrs["to"], "ab");
/// ```
pub trait ModuleEvent: Serialize {
    /// Returns the event's kind and attributes.
    ///
    /// # Errors
    /// [`EventError`] if the value is not an internally tagged enum of plain fields (a
    /// programming error in the module, which callers treat as fatal).
    fn to_parts(&self) -> Result<(String, BTreeMap<String, String>), EventError> {
        let value = serde_json::to_value(self).map_err(|e| EventError(e.to_string()))?;
        let Value::Object(fields) = value else {
            return Err(EventError("an event serializes as a JSON object".into()));
        };
        let mut kind = None;
        let mut attributes = BTreeMap::new();
        for (key, value) in fields {
            if key == "kind" {
                let Value::String(k) = value else {
                    return Err(EventError("an event's kind is a string".into()));
                };
                kind = Some(k);
                continue;
            }
            let text = match value {
                Value::Null => continue,
                Value::String(s) => s,
                Value::Bool(b) => b.to_string(),
                Value::Number(n) => n.to_string(),
                nested @ (Value::Array(_) | Value::Object(_)) => nested.to_string(),
            };
            attributes.insert(key, text);
        }
        let kind = kind.ok_or_else(|| EventError("an event has a `kind` tag".into()))?;
        Ok((kind, attributes))
    }
}

/// An event that does not have the shape [`ModuleEvent`] needs.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("event does not serialize as kind and attributes: {0}")]
pub struct EventError(pub String);

#[cfg(test)]
mod tests {
    use super::*;
    use counterweight_types::{Address, Hash};

    #[derive(Serialize)]
    #[serde(tag = "kind", rename_all = "snake_case")]
    enum Sample {
        Opened {
            id: Hash,
            by: Address,
            amount: u64,
            ok: bool,
            note: Option<String>,
            list: Vec<u32>,
        },
        Closed,
    }
    impl ModuleEvent for Sample {}

    #[test]
    fn fields_become_the_strings_the_audit_log_stores() {
        let e = Sample::Opened {
            id: Hash([1; 32]),
            by: Address([2; 32]),
            amount: u64::MAX,
            ok: true,
            note: None,
            list: vec![1, 2],
        };
        let (kind, attrs) = e.to_parts().expect("parts");
        assert_eq!(kind, "opened");
        assert_eq!(attrs["id"], Hash([1; 32]).to_hex());
        assert_eq!(attrs["by"], Address([2; 32]).to_hex());
        assert_eq!(attrs["amount"], u64::MAX.to_string());
        assert_eq!(attrs["ok"], "true");
        assert_eq!(attrs["list"], "[1,2]");
        assert!(!attrs.contains_key("note"), "None is left out");
        let (kind, attrs) = Sample::Closed.to_parts().expect("parts");
        assert_eq!(kind, "closed");
        assert!(attrs.is_empty());
    }

    #[derive(Serialize)]
    struct Untagged {
        a: u8,
    }
    impl ModuleEvent for Untagged {}

    #[derive(Serialize)]
    struct Plain(u8);
    impl ModuleEvent for Plain {}

    #[test]
    fn rejects_values_that_are_not_tagged_objects() {
        assert!(Untagged { a: 1 }.to_parts().is_err());
        assert!(Plain(7).to_parts().is_err());
    }
}
