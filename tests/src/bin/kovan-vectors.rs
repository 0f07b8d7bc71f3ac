//! Writes (`write`) or checks (`check`, the default) the spec's test vectors
//! in `spec/vectors/`.

use std::path::PathBuf;

fn main() -> anyhow::Result<()> {
    let mode = std::env::args().nth(1).unwrap_or_else(|| "check".into());
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../spec/vectors");
    let mut stale = 0;
    for v in kovan_tests::vectors::generate()? {
        let path = dir.join(v.name);
        match mode.as_str() {
            "write" => {
                std::fs::write(&path, &v.text)?;
                println!("wrote {}", path.display());
            }
            "check" => {
                if std::fs::read_to_string(&path).ok().as_deref() != Some(v.text.as_str()) {
                    println!("stale: {}", v.name);
                    stale += 1;
                }
            }
            other => anyhow::bail!("unknown mode {other:?}: use `write` or `check`"),
        }
    }
    if stale > 0 {
        anyhow::bail!(
            "{stale} vector files are stale; run `cargo run -p kovan-tests --bin kovan-vectors -- write`"
        );
    }
    Ok(())
}
