//! Generates the Rust wire types from `proto/kovan.proto` with a pure-Rust
//! protobuf compiler (protox), so building needs no system `protoc`.

fn main() -> Result<(), Box<dyn std::error::Error>> {
    println!("cargo:rerun-if-changed=proto/kovan.proto");
    let fds = protox::compile(["proto/kovan.proto"], ["proto"])?;
    prost_build::Config::new().compile_fds(fds)?;
    Ok(())
}
