// The manifest of mock-torii's `arena` world as a game would ship it: `GET /_mock/manifest`, plus
// the ABI entries of the world's user types (enums and structs) that sozo writes into a real
// manifest's `abis`. mock-torii's manifest has none; with them the package knows every model's
// shape from the start (without them it learns the shapes from the first synced states, which
// tests/vite-consumer exercises). They are added only when the manifest has no ABIs.

/** ABI entries of `arena::models::{Class, Vec2, Direction}`. */
export const ARENA_ABIS = [
    {
        type: "enum",
        name: "arena::models::Class",
        variants: [
            { name: "Warrior", type: "()" },
            { name: "Mage", type: "()" },
            { name: "Rogue", type: "core::integer::u8" },
        ],
    },
    {
        type: "struct",
        name: "arena::models::Vec2",
        members: [
            { name: "x", type: "core::integer::u32" },
            { name: "y", type: "core::integer::u32" },
        ],
    },
    {
        type: "enum",
        name: "arena::models::Direction",
        variants: ["Left", "Right", "Up", "Down"].map((name) => ({ name, type: "()" })),
    },
];

/** Fetches the mock's manifest object from `toriiUrl`, with the arena ABIs when it has none. */
export async function fetchArenaManifest(toriiUrl) {
    const response = await fetch(`${toriiUrl}/_mock/manifest`);
    if (!response.ok) throw new Error(`GET ${toriiUrl}/_mock/manifest: ${response.status} ${await response.text()}`);
    const manifest = await response.json();
    return manifest.abis ? manifest : { ...manifest, abis: ARENA_ABIS };
}
