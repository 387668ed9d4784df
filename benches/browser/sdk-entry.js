// The part of the Dojo SDK a game uses to hold synced entities: its entity parser and its zustand
// state store. Bundled by bench.js with esbuild (the SDK's modules import bare specifiers);
// `@dojoengine/torii-wasm` stays external and is resolved by the page's import map.
export { parseEntities } from "@dojoengine/sdk";
export { createDojoStore } from "@dojoengine/sdk/state";
