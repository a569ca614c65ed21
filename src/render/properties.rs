//! The properties of an exchange, a queue and a binding as RabbitMQ names and orders them:
//! the part of each entity that the definitions export ([`super::definitions`]) and the
//! JSON output ([`super::json`]) write alike. Each format puts its own fields around them
//! (`vhost`; `connection`, `origin`) and its own arguments type `A`; the properties are
//! flattened in, so the keys stay in one object, in the same order as before.

use serde::Serialize;

#[derive(Serialize)]
pub struct ExchangeProperties<'a, A> {
    #[serde(rename = "type")]
    pub kind: &'a str,
    pub durable: bool,
    pub auto_delete: bool,
    pub internal: bool,
    pub arguments: A,
}

#[derive(Serialize)]
pub struct QueueProperties<A> {
    pub durable: bool,
    pub auto_delete: bool,
    pub arguments: A,
}

/// A binding after its source.
#[derive(Serialize)]
pub struct BindingProperties<'a, A> {
    pub destination: &'a str,
    pub destination_type: &'static str,
    pub routing_key: &'a str,
    pub arguments: A,
}
