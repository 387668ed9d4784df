// The bench's markdown report: one table, ours next to the peers, with ratios and goals.

const ms = (x) => (Number.isFinite(x) ? `${x >= 100 ? x.toFixed(0) : x.toFixed(1)} ms` : "—");
const us = (x) => (Number.isFinite(x) ? (x >= 1 ? ms(x) : `${(x * 1000).toFixed(1)} µs`) : "—");
const kb = (x) => `${(x / 1024).toFixed(0)} KiB`;
const ratio = (a, b) => {
    if (!(Number.isFinite(a) && Number.isFinite(b) && b > 0)) return "—";
    const r = a / b;
    return `${r >= 0.1 ? r.toFixed(1) : r.toFixed(3)}×`;
};
const verdict = (ok) => (ok === undefined ? "" : ok ? " (met)" : " (**not met**)");

function bytes(b) {
    if (!b) return "—";
    const part = (k) => (b[k].files ? `${k} ${kb(b[k].raw)} / ${kb(b[k].gzip)} gz` : `${k} —`);
    return `${part("js")}; ${part("wasm")}`;
}

function latency(l) {
    if (!l) return "—";
    if (l.starved) return "**no answer**: the page's main thread was still busy 3 min after the rate stopped";
    const notes = [`n=${l.n}`];
    if (l.superseded) notes.push(`${l.superseded} superseded by a later marker`);
    if (l.lost) notes.push(`**${l.lost} lost**`);
    return `p50 ${ms(l.p50)}, p95 ${ms(l.p95)}, max ${ms(l.max)} (${notes.join(", ")})`;
}

const mib = (x) => (Number.isFinite(x) ? `${(x / 1048576).toFixed(0)} MiB` : "—");

/** The renderer's resident set, and per entity (all of it, divided by the entities held). */
function rss(m, entities) {
    if (m?.error) return `not measured (${m.error})`;
    if (!m?.renderer) return "—";
    const perEntity = (x) => `${(x / entities / 1000).toFixed(2)} KB`;
    return `RSS ${mib(m.renderer.rss)} (${perEntity(m.renderer.rss)}/entity), anonymous ${mib(m.renderer.rssAnon)} (${perEntity(m.renderer.rssAnon)}/entity)`;
}

/** JS heaps and wasm memories of the page's main thread and of its workers. */
function isolates(m) {
    if (!m || m.error) return "—";
    const part = (name, i) =>
        i.error ? `${name}: not measured (${i.error})` : `${name}: JS heap ${mib(i.jsHeapUsed)}, wasm ${i.wasmMemories ? mib(i.wasm) : "none"}`;
    return [part("page", m.main), ...m.workers.map((w) => part("worker", w))].join("; ");
}

/** Where ours' update latency went (see pages/ours.js `markers`). */
function latencySplit(l) {
    if (!l?.toMainThread?.n) return "—";
    return `sent → DELTA on the main thread p50 ${ms(l.toMainThread.p50)}, p95 ${ms(l.toMainThread.p95)}; DELTA → listener p50 ${ms(l.onMainThread.p50)}, p95 ${ms(l.onMainThread.p95)} (n=${l.toMainThread.n})`;
}

/** Ours' reads of every entity by id under the update rate (see pages/ours.js `reads`). */
function reads(r) {
    if (!r) return "—";
    const [slices, timed] = r.passes;
    const grain = `${(r.grainMs * 1000).toFixed(0)} µs clock`;
    const heap = Number.isFinite(r.cold.heapPerEntity) ? `, JS heap +${r.cold.heapPerEntity.toFixed(0)} B per entity held` : "";
    return (
        `p50 ${us(slices.p50)}, p99 ${us(timed.p99)} (${grain}), max ${us(timed.max)}; ` +
        `${slices.firstAfterChange.n + timed.firstAfterChange.n} first reads after a change among them (timed ones: ${timed.firstAfterChange.n}, mean ${us(timed.firstAfterChange.mean)}); ` +
        `first read of each (object built) mean ${us(r.cold.meanMs)}${heap}; ${timed.found} of ${timed.reads} found`
    );
}

/** Whether ours' p95 latency is at most 1.2× the peer's (undefined when either is missing). */
function within12(ours, peer) {
    return Number.isFinite(ours?.p95) && Number.isFinite(peer?.p95) ? ours.p95 <= 1.2 * peer.p95 : undefined;
}

function longTasks(c) {
    return c ? `${ms(c.longTasks.longestMs)} (${c.longTasks.count} long tasks)` : "—";
}

/** Renders the results of one run (see bench.js) as markdown. */
export function renderReport(r, meta) {
    const { ours, raw, sdk } = r;
    const peerCold = raw?.cold.allAvailableMs;
    const rows = [
        [
            `time to all ${r.entities.toLocaleString("en")} entities available (from navigation start)`,
            ms(ours?.cold.allAvailableMs),
            ms(raw?.cold.allAvailableMs),
            ms(sdk?.cold.allAvailableMs),
            `peer/ours ${ratio(peerCold, ours?.cold.allAvailableMs)}`,
            `ours ≤ peer${verdict(ours && raw ? ours.cold.allAvailableMs <= peerCold : undefined)}`,
        ],
        [
            "of which after the client was created",
            ours ? `${ms(ours.cold.fromClientMs)} (\`ready\` ${ms(ours.cold.readyMs)} after navigation start)` : "—",
            ms(raw?.cold.fromClientMs),
            ms(sdk?.cold.fromClientMs),
            "",
            "",
        ],
        [
            "entities held at the end (check)",
            ours?.cold.held ?? "—",
            raw?.cold.held ?? "—",
            sdk?.cold.held ?? "—",
            "",
            "",
        ],
        [
            "longest main-thread task during sync",
            longTasks(ours?.cold),
            longTasks(raw?.cold),
            longTasks(sdk?.cold),
            "",
            `ours none > 50 ms${verdict(ours ? ours.cold.longTasks.longestMs <= 50 : undefined)}`,
        ],
        [
            "warm start after reload → first query answered (ours) vs cold fetch (peers)",
            ours?.warm
                ? `${ms(ours.warm.firstQueryMs)} (\`ready\` at ${ms(ours.warm.readyMs)}; ${ours.warm.restored} model states restored; mock calls: ${ours.warm.calls})`
                : "—",
            ms(peerCold),
            ms(sdk?.cold.allAvailableMs),
            `peer/ours ${ratio(peerCold, ours?.warm?.firstQueryMs)}`,
            `< 500 ms and ≥ 5×${verdict(ours?.warm && raw ? ours.warm.firstQueryMs < 500 && peerCold / ours.warm.firstQueryMs >= 5 : undefined)}`,
        ],
        [
            "ours: warm start timeline (ms since navigation start)",
            ours?.warm?.arrivals
                ? `${ours.warm.clientMs !== undefined ? `client created ${ms(ours.warm.clientMs)} (the page's own loading before it), ` : ""}${ours.warm.timings ? `worker start ${ms(ours.warm.timings.startedMs)} (open ${ms(ours.warm.timings.openMs)}, stored segments read and sent ${ms(ours.warm.timings.restoreMs)}), ` : ""}first stored DELTA ${ms(ours.warm.arrivals.firstDeltaMs)}, last ${ms(ours.warm.arrivals.lastRestoreDeltaMs)} (${ours.warm.arrivals.restoreDeltas} DELTAs, ${(ours.warm.arrivals.restoreBytes / 1048576).toFixed(1)} MiB, main thread busy restoring them ${ms(ours.warm.arrivals.restoreBusyMs)}), INIT_ACK ${ms(ours.warm.arrivals.initAckMs)}, \`ready\` ${ms(ours.warm.readyMs)}, first query ${ms(ours.warm.firstQueryMs)}`
                : "—",
            "",
            "",
            "",
            "",
        ],
        [
            "longest main-thread task during warm start",
            ours?.warm ? ms(ours.warm.longTasks.longestMs) : "—",
            "",
            "",
            "",
            "",
        ],
        [
            `update → listener latency under ${meta.rate} updates/s`,
            latency(ours?.latency),
            latency(raw?.latency),
            latency(sdk?.latency),
            `p95 peer/ours ${ratio(raw?.latency.p95, ours?.latency.p95)}`,
            `p95 ≤ 1.2× torii-wasm's${verdict(within12(ours?.latency, raw?.latency))}`,
        ],
        [
            `ours, in a follower tab (a second tab of the same origin; its worker follows the leader's)`,
            ours?.follower ? `${latency(ours.follower.latency)}; tab ${ours.follower.role}, restored in ${ms(ours.follower.heldMs)}` : "—",
            latency(raw?.latency),
            "",
            `p95 peer/ours ${ratio(raw?.latency.p95, ours?.follower?.latency?.p95)}`,
            `p95 ≤ 1.2× torii-wasm's${verdict(within12(ours?.follower?.latency, raw?.latency))}`,
        ],
        [
            "ours: update → listener, where the time goes (leader tab; follower tab)",
            `${latencySplit(ours?.latency)}; ${latencySplit(ours?.follower?.latency)}`,
            "",
            "",
            "",
            "",
        ],
        [
            `ours: read every entity by id (\`reader.entity\`, random order) while ${meta.rate} updates/s arrive`,
            reads(ours?.reads),
            "",
            "",
            "",
            "p50 ≤ 2 µs, p99 ≤ 20 µs" + verdict(ours?.reads ? ours.reads.passes[0].p50 <= 0.002 && ours.reads.passes[1].p99 <= 0.02 : undefined),
        ],
        [
            `query by id, per lookup (${meta.queryIds} ids × ${meta.queryRounds} rounds; ours: the selectors' reader.entity; peers: array find / store getEntity)`,
            ours ? `p50 ${us(ours.queries.byId.p50)}, p95 ${us(ours.queries.byId.p95)}` : "—",
            raw ? `p50 ${us(raw.queries.byId.p50)}, p95 ${us(raw.queries.byId.p95)}` : "—",
            sdk ? `p50 ${us(sdk.queries.byId.p50)}, p95 ${us(sdk.queries.byId.p95)}` : "—",
            `p50 raw/ours ${ratio(raw?.queries.byId.p50, ours?.queries.byId.p50)}`,
            "",
        ],
        [
            "ours: `query` by key (`filter.keys.player`), per lookup",
            ours ? `p50 ${us(ours.queries.byKey.p50)}, p95 ${us(ours.queries.byKey.p95)}` : "—",
            "",
            "",
            "",
            "",
        ],
        [
            `\`where\` scan: arena-Player.level ≥ ${meta.minLevel} (peers: JS filter)`,
            ours ? `p50 ${ms(ours.queries.scan.p50)} (${ours.queries.scan.matches} matches; first scan, items built: ${ms(ours.queries.scan.firstMs)})` : "—",
            raw ? `p50 ${ms(raw.queries.scan.p50)} (${raw.queries.scan.matches} matches)` : "—",
            sdk ? `p50 ${ms(sdk.queries.scan.p50)} (${sdk.queries.scan.matches} matches)` : "—",
            `raw/ours ${ratio(raw?.queries.scan.p50, ours?.queries.scan.p50)}`,
            `ours ≤ torii-wasm${verdict(ours && raw ? ours.queries.scan.p50 <= raw.queries.scan.p50 : undefined)}`,
        ],
        [
            "ours: the same scan with `limit: 100`",
            ours?.queries.scan100 ? `p50 ${ms(ours.queries.scan100.p50)} (${ours.queries.scan100.matches} items)` : "—",
            "",
            "",
            "",
            `≤ 2 ms${verdict(ours?.queries.scan100 ? ours.queries.scan100.p50 <= 2 : undefined)}`,
        ],
        [
            "renderer memory after sync and the queries (after a full GC; /proc of the page's renderer)",
            rss(ours?.memory, r.entities),
            rss(raw?.memory, r.entities),
            rss(sdk?.memory, r.entities),
            `RSS raw/ours ${ratio(raw?.memory?.renderer?.rss, ours?.memory?.renderer?.rss)}`,
            "≤ 1.5 KB/entity (growth)",
        ],
        [
            "of which JS heaps and wasm memories (CDP, per isolate)",
            isolates(ours?.memory),
            isolates(raw?.memory),
            isolates(sdk?.memory),
            "",
            "",
        ],
        [
            "ours: renderer memory after the warm start (first query answered)",
            ours?.warm?.memory
                ? `${rss(ours.warm.memory, r.entities)}; ${isolates(ours.warm.memory)}`
                : ours?.failedAfter
                  ? `— (${ours.failedAfter}: the results before it are kept)`
                  : "—",
            "",
            "",
            "",
            "",
        ],
        [
            "bytes shipped, raw / gzip -9 (as loaded by the page and its worker)",
            bytes(ours?.bytes),
            bytes(raw?.bytes),
            bytes(sdk?.bytes),
            `wasm gz raw/ours ${ratio(raw?.bytes.wasm.gzip, ours?.bytes.wasm.gzip)}`,
            "",
        ],
        [
            "ours: JS bundled + minified by esbuild (main entry + worker entry)",
            ours?.bytes.jsMinified ? `${kb(ours.bytes.jsMinified.raw)} / ${kb(ours.bytes.jsMinified.gzip)} gz` : "—",
            "",
            "",
            "",
            "",
        ],
    ];
    const load = (l) => l.map((x) => x.toFixed(2)).join(" ");
    return [
        `### Browser end to end, ${meta.date} (${meta.cores} cores, load average ${load(meta.loadBefore)} before, ${load(meta.loadAfter)} after)`,
        "",
        `Chromium ${r.chromium}, mock-torii \`${meta.mockBin.replace(/.*\/target\//, "target/")}\`, peers page ${meta.pageSize} entities per request, ` +
            `${meta.markers} markers every ${meta.markerIntervalMs} ms.`,
        "",
        "| measure | ours (`@dojoengine/reactive`) | `torii-wasm` getAllEntities → array | SDK store (`parseEntities` → `createDojoStore`) | ratio | goal |",
        "|---|---|---|---|---|---|",
        ...rows.map((row) => `| ${row.join(" | ")} |`),
        "",
    ].join("\n");
}
