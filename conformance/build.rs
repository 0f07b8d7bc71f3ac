//! The wire types come from the spec's own schema, `spec/proto/kovan.proto`,
//! compiled here (protox + prost): this client shares no code with kovan.

fn main() -> Result<(), Box<dyn std::error::Error>> {
    println!("cargo:rerun-if-changed=../spec/proto/kovan.proto");
    let fds = protox::compile(["kovan.proto"], ["../spec/proto"])?;
    prost_build::Config::new().compile_fds(fds)?;
    Ok(())
}
