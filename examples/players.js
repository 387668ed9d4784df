// Every player of the world (its Player and Position states, by entity id), kept up to date from
// the client's `entityUpdates` without re-reading the whole world on each change: the ids a
// change names are read again by their keys (a keyed lookup in the view), and only ids the page
// has never seen (a first sync, a new player) lead to reading every player again, at most once
// per `fullReadMs`. A filter subscription of every player would do the same in two lines, but
// hands its listener all 75,000 players of a large world on every change.

const MODELS = { player: "arena-Player", position: "arena-Position", inventory: "arena-Inventory" };

/**
 * Follows the players of `client`. `onChange({ players, positions, changes })` gets the two Maps
 * (entity id → state, the same Maps every time) and the states that changed since the page last
 * held them: `[{ id, before, after }]` (never the states of a first read).
 */
export function followPlayers(client, onChange, { throttleMs = 250, fullReadMs = 1000 } = {}) {
    const players = new Map();
    const positions = new Map();
    const others = new Set(); // ids of entities that hold no player (inventories)
    const dirty = new Set();
    let unknown = false;
    let timer = 0;
    let lastFullRead = -Infinity;

    const stateOf = (entity, name) => entity?.models.arena?.[name];

    /** Reads every player again; `changes` lists those that differ from what was held. */
    function readAll(changes) {
        lastFullRead = performance.now();
        unknown = false;
        for (const [map, model, name] of [[players, MODELS.player, "Player"], [positions, MODELS.position, "Position"]]) {
            const seen = new Set();
            for (const entity of client.query(model).items) {
                const after = stateOf(entity, name);
                const before = map.get(entity.entityId);
                if (before && before !== after) changes.push({ id: entity.entityId, before, after });
                map.set(entity.entityId, after);
                seen.add(entity.entityId);
            }
            for (const id of map.keys()) if (!seen.has(id)) map.delete(id);
        }
        others.clear();
        for (const entity of client.query(MODELS.inventory).items) others.add(entity.entityId);
    }

    /** Reads the entity `id` (a player the page holds) again by its key. */
    function readOne(id, changes) {
        const key = (players.get(id) ?? positions.get(id))?.player;
        for (const [map, model, name] of [[players, MODELS.player, "Player"], [positions, MODELS.position, "Position"]]) {
            const after = stateOf(client.query(model, { filter: { keys: { player: key } } }).items[0], name);
            const before = map.get(id);
            if (after === undefined) map.delete(id);
            else map.set(id, after);
            if (before && after && before !== after) changes.push({ id, before, after });
        }
    }

    function flush() {
        timer = 0;
        const changes = [];
        if (unknown && performance.now() - lastFullRead >= fullReadMs) {
            dirty.clear();
            readAll(changes);
        } else {
            for (const id of dirty) readOne(id, changes);
            dirty.clear();
            if (unknown) schedule(fullReadMs);
        }
        onChange({ players, positions, changes });
    }

    function schedule(delay = throttleMs) {
        if (timer === 0) timer = setTimeout(flush, delay);
    }

    client.entityUpdates.subscribe((update) => {
        if (update.ids.length === 0) {
            // `restore` and `reset`: any entity may have changed.
            unknown = true;
            lastFullRead = -Infinity;
        }
        for (const id of update.ids) {
            if (others.has(id)) continue;
            if (players.has(id) || positions.has(id)) dirty.add(id);
            else unknown = true;
        }
        if (unknown || dirty.size > 0) schedule();
    });
    unknown = true;
    schedule(0);
}
