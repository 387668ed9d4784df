// Loads the official `@dojoengine/torii-wasm` web build in a page without a bundler. Its
// `pkg/web` is wasm-pack's "bundler" target (`import * as wasm from "./dojo_wasm_bg.wasm"`), so
// this module does what a bundler would: instantiate the wasm with the glue module as its import
// object, hand the instance to the glue and run its start function. Import maps point
// `@dojoengine/torii-wasm` here, so the SDK bundle shares this one instance.

import * as glue from "/node_modules/@dojoengine/torii-wasm/pkg/web/dojo_wasm_bg.js";

const { instance } = await WebAssembly.instantiateStreaming(
    fetch("/node_modules/@dojoengine/torii-wasm/pkg/web/dojo_wasm_bg.wasm"),
    { "./dojo_wasm_bg.js": glue },
);
glue.__wbg_set_wasm(instance.exports);
instance.exports.__wbindgen_start();

export * from "/node_modules/@dojoengine/torii-wasm/pkg/web/dojo_wasm_bg.js";
