//! The documentation lists every diagnostic code.

use topology::diagnostic::Code;

#[test]
fn every_code_is_documented() {
    let doc = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/diagnostics.md"))
        .unwrap();
    for code in Code::ALL {
        assert!(
            doc.contains(&format!("| `{}` |", code.as_str())),
            "{} is not in docs/diagnostics.md",
            code.as_str()
        );
    }
}
