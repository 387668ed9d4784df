// The mock's world (`GET /_mock/world`) in the canonical form the harness page produces, and a
// reference evaluation of the filter DSL on it, to compare the package's query answers against.

/** Canonical JSON value: 0x hex strings without leading zeros (the mock pads them, the SDK shape may not). */
export function canon(value) {
    if (typeof value === "string" && /^0x[0-9a-fA-F]+$/.test(value)) return `0x${BigInt(value).toString(16)}`;
    if (Array.isArray(value)) return value.map(canon);
    if (value !== null && typeof value === "object") {
        return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, canon(v)]));
    }
    return value;
}

/**
 * `GET /_mock/world` entities, canonical: `[{ entityId, models: { tag: state }, rawId }]`; `rawId`
 * is the id as the mock wrote it (`0x` + 64 hex), the form to hand to the package.
 */
export function canonEntities(world) {
    return world.entities.map((entity) => ({ ...canon(entity), rawId: entity.entityId }));
}

/** Sorts entity ids as the package orders query results (ascending id). */
export function sortIds(ids) {
    return [...ids].sort((a, b) => (BigInt(a) < BigInt(b) ? -1 : BigInt(a) > BigInt(b) ? 1 : 0));
}

function member(state, path) {
    return path.split(".").reduce((value, part) => (value === undefined ? undefined : value[part]), state);
}

const isEnum = (value) => value !== null && typeof value === "object" && typeof value.variant === "string";
const variantOf = (operand) => (typeof operand === "string" ? operand : operand.variant);

function equal(value, operand) {
    if (isEnum(value)) return value.variant === variantOf(operand);
    if (typeof value === "boolean" || typeof operand === "boolean") return value === operand;
    if (typeof value === "number" || /^-?\d+$|^0x[0-9a-f]+$/i.test(value)) return BigInt(value) === BigInt(operand);
    return value === operand;
}

function order(value, operand) {
    const [a, b] = [BigInt(value), BigInt(operand)];
    return a < b ? -1 : a > b ? 1 : 0;
}

/** Whether one `where` predicate `{ member, op, value }` holds on a model state (numbers, enums, bools, strings). */
export function predicateHolds(state, { member: path, op, value: operand }) {
    const value = member(state, path);
    switch (op) {
        case "eq":
            return equal(value, operand);
        case "neq":
            return !equal(value, operand);
        case "in":
            return operand.some((o) => equal(value, o));
        case "gt":
            return order(value, operand) > 0;
        case "gte":
            return order(value, operand) >= 0;
        case "lt":
            return order(value, operand) < 0;
        case "lte":
            return order(value, operand) <= 0;
        default:
            throw new Error(`unknown operator ${op}`);
    }
}

/** Sorted ids of the entities whose `model` state matches `filter` (`{ keys?, where? }`). */
export function expectedIds(entities, model, filter = {}) {
    const ids = [];
    for (const entity of entities) {
        const state = entity.models[model];
        if (!state) continue;
        const keysHold = Object.entries(filter.keys ?? {}).every(([name, value]) => equal(state[name], value));
        if (keysHold && (filter.where ?? []).every((p) => predicateHolds(state, p))) ids.push(entity.entityId);
    }
    return sortIds(ids);
}

/** `{ model: { entityId: last_updated_at } }` of a mock world (`mock.world()`), for `models`. */
export function worldVersions(world, models) {
    const out = Object.fromEntries(models.map((m) => [m, {}]));
    for (const entity of world.entities) {
        for (const model of models) {
            const state = entity.models[model];
            if (state) out[model][canon(entity.entityId)] = String(state.last_updated_at);
        }
    }
    return out;
}

/** JSON with every object's keys sorted (versions maps compare whatever their order). */
export function stable(value) {
    return JSON.stringify(value, (_, v) =>
        v && typeof v === "object" && !Array.isArray(v) ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : 1))) : v,
    );
}
