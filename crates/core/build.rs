//! Compiles proto/sparkplug_b.proto with protox (pure Rust, no protoc needed) and prost, and
//! keeps its encoded FileDescriptorSet: recordings carry it as the schema of Sparkplug channels
//! so Foxglove can decode them.

use prost::Message;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    println!("cargo:rerun-if-changed=proto/sparkplug_b.proto");
    let descriptors = protox::compile(["proto/sparkplug_b.proto"], ["proto"])?;
    let out_dir = std::path::PathBuf::from(std::env::var("OUT_DIR")?);
    std::fs::write(out_dir.join("sparkplug_b.fds"), descriptors.encode_to_vec())?;
    prost_build::Config::new().compile_fds(descriptors)?;
    Ok(())
}
