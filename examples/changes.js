// What changed in a model state, in words for the live feed: "hp 300 → 812 · gold +42". Only
// states the page showed before are compared, so the rows of a first sync (new to the page) are
// never listed as changes.

/** Members a person does not care to read about. */
const HIDDEN = new Set(["player", "last_updated_at"]);
const MOST = 3;

const isNumber = (value) => typeof value === "number" || typeof value === "bigint";

/** A value of the SDK shape in a few characters. */
function show(value) {
    if (value && typeof value === "object" && "variant" in value) return value.variant;
    if (value && typeof value === "object" && "x" in value && "y" in value) return `${value.x}, ${value.y}`;
    if (typeof value === "object") return JSON.stringify(value, (_, v) => (typeof v === "bigint" ? String(v) : v));
    return String(value);
}

/** Whether two member values are the same (SDK values: primitives, bigints, frozen objects). */
function same(a, b) {
    return a === b || show(a) === show(b);
}

/** One member's change: a difference for counters that grew, "old → new" otherwise. */
function describeMember(name, before, after) {
    if (isNumber(before) && isNumber(after) && typeof before === typeof after && name !== "hp" && after > before) {
        return `${name} +${after - before}`;
    }
    return `${name} ${show(before)} → ${show(after)}`;
}

/**
 * The changes from `before` to `after` (two states of one model, members in the SDK shape) as
 * one line, or undefined when no member a person reads changed.
 */
export function describeChange(before, after) {
    const parts = [];
    for (const name of Object.keys(after)) {
        if (HIDDEN.has(name) || !Object.hasOwn(before, name) || same(before[name], after[name])) continue;
        parts.push(name === "vec" ? `moved ${show(before.vec)} → ${show(after.vec)}` : describeMember(name, before[name], after[name]));
    }
    if (parts.length === 0) return undefined;
    return parts.length > MOST ? `${parts.slice(0, MOST).join(" · ")} · …` : parts.join(" · ");
}
