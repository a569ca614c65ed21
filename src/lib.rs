//! `topology`: provisions RabbitMQ from Magento-style `queue_topology.xml` files.
//!
//! The pipeline, one stage per module, each knowing nothing of later ones:
//! [`source`] (read) → [`syntax`] (XML tree) → [`schema`] (per-file declarations, their
//! [`arguments`] typed) →
//! [`model`] (merged topology) → [`lint`] (diagnostics) → [`plan`] (changes, pure) →
//! `apply` (AMQP). [`render`] turns diagnostics, plans and the topology into text.
//! [`commands`] is the top floor, one file a command; [`app`] is what they share (redacted
//! output, loading); [`error`] is how a command ends, and the
//! contract's table of exit codes.

pub mod app;
pub mod apply;
pub mod arguments;
pub mod broker;
pub mod cli;
pub mod commands;
pub mod communication;
pub mod connection;
pub mod diagnostic;
pub mod error;
pub mod lint;
pub mod load;
pub mod memory;
pub mod model;
pub mod plan;
pub mod render;
pub mod rules;
pub mod saved;
pub mod schema;
pub mod secret;
pub mod source;
pub mod spec;
pub mod syntax;
pub mod text;
