//! Compiles the project's `.proto` files with `protox` (pure Rust, no `protoc`) and generates the
//! prost messages, plus (not for wasm32) the tonic client and server of `world.World`: browsers
//! call it through the crate's own gRPC-web client, so the wasm module links no tonic.

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let protos = [
        "proto/world.proto",
        "proto/types.proto",
        "proto/schema.proto",
    ];
    for proto in protos {
        println!("cargo:rerun-if-changed={proto}");
    }
    let descriptors = protox::compile(protos, ["proto"])?;
    let tonic = std::env::var("CARGO_CFG_TARGET_ARCH").map_or(true, |arch| arch != "wasm32");
    tonic_prost_build::configure()
        .build_client(tonic)
        .build_server(tonic)
        .build_transport(false)
        .generate_default_stubs(true)
        .compile_fds(descriptors)?;
    Ok(())
}
