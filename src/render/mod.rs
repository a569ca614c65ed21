//! Renderers: diagnostics and plans → text (human, JSON, GitHub annotations). The only
//! code, with `main.rs` and `app.rs`, that decides how anything looks. Logic stages return
//! data; these functions return strings and never print.

pub mod diagnostics;
pub mod github;
pub mod json;
pub mod plan;
