// The scale bench's region (scale.js, scale-ours.js, scale-peer.js): a square of cells
// [x, x + side) × [y, y + side) of `arena-Position.vec`, said as Torii's clause (the same for
// ours' sync target and torii-wasm's query) and as a query filter (ours' viewport queries).

/** The model whose `vec` places an entity. */
export const POSITION = "arena-Position";
/** The model synced with it. */
export const PLAYER = "arena-Player";
/** The model of the other entities (mock-torii's every fourth entity). */
export const INVENTORY = "arena-Inventory";

/** `[member, operator, value]` bounds of the square. */
function bounds({ x, y, side }) {
    return [
        ["vec.x", "Gte", x],
        ["vec.x", "Lt", x + side],
        ["vec.y", "Gte", y],
        ["vec.y", "Lt", y + side],
    ];
}

/** The square as a sync target's clause (Torii's JSON clause shape, values typed by the manifest). */
export function regionClause(square) {
    return {
        Composite: {
            operator: "And",
            clauses: bounds(square).map(([member, operator, value]) => ({ Member: { model: POSITION, member, operator, value } })),
        },
    };
}

/** The square as torii-wasm's clause (its values carry their Cairo type: `vec` is two `u32`s). */
export function toriiWasmClause(square) {
    return {
        Composite: {
            operator: "And",
            clauses: bounds(square).map(([member, operator, value]) => ({
                Member: { model: POSITION, member, operator, value: { Primitive: { U32: value } } },
            })),
        },
    };
}

/** The square as a query's `where` (what the declared `(vec.x, vec.y)` index serves). */
export function viewportWhere(square) {
    return bounds(square).map(([member, operator, value]) => ({ member, op: operator.toLowerCase(), value }));
}
