//! Compiles the project's `.proto` files with `protox` (pure Rust, no `protoc`) and generates the
//! prost messages plus the tonic client and server for `world.World`.

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
    tonic_prost_build::configure()
        .build_client(true)
        .build_server(true)
        .build_transport(false)
        .generate_default_stubs(true)
        .compile_fds(descriptors)?;
    Ok(())
}
