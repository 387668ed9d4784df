// Shared by the bench pages: the page's parameters, long-task bookkeeping, sample statistics, the
// marker protocol of the update-latency measurement, and timing of repeated queries. Each page
// exposes `window.bench` (its phases, called by bench.js through Playwright) once it has started.

/** The page's parameters (`?torii=...&world=...&...`). */
export const params = Object.fromEntries(new URL(location.href).searchParams);

/** An entity id as `0x` + 64 lowercase hex digits, whatever padding it came with. */
export function canonicalId(id) {
    return "0x" + BigInt(id).toString(16).padStart(64, "0");
}

/** Long tasks seen so far (recorded by the inline observer every page installs first). */
export function longTasks() {
    return window.__longTasks ?? [];
}

/** The longest long task that started before `untilMs` (0 when there was none), and their count. */
export function longestTaskBefore(untilMs) {
    const tasks = longTasks().filter((t) => t.startTime < untilMs);
    return { longestMs: tasks.reduce((max, t) => Math.max(max, t.duration), 0), count: tasks.length };
}

/** p50/p95/max/mean of a list of numbers (milliseconds). */
export function stats(samples) {
    const sorted = [...samples].sort((a, b) => a - b);
    const at = (q) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] : NaN);
    const mean = sorted.reduce((s, x) => s + x, 0) / (sorted.length || 1);
    return { n: sorted.length, p50: at(0.5), p95: at(0.95), max: sorted.at(-1) ?? NaN, mean };
}

/**
 * Runs `fn` over every item of `inputs`, `rounds` times. One sample per round: its time divided
 * by the number of inputs (the page clock is coarsened to 0.1 ms, too coarse for one lookup).
 * Returns the stats of the samples and the results of the last round.
 */
export function timeCalls(inputs, rounds, fn) {
    const samples = [];
    let results = [];
    for (let round = 0; round < rounds; round++) {
        results = [];
        const t0 = performance.now();
        for (const input of inputs) results.push(fn(input));
        samples.push((performance.now() - t0) / inputs.length);
    }
    return { ...stats(samples), results };
}

/** Milliseconds since the Unix epoch with sub-millisecond precision (the same clock in Node). */
export function epochMs() {
    return performance.timeOrigin + performance.now();
}

/**
 * Update-to-listener latency with markers. While the mock's steady rate runs, bench.js sets
 * `arena-Player.name` of one entity to `bench-marker-<tag>-<i>-<epoch ms when sent>` (`/_mock/set`,
 * applied and broadcast by the mock); the contender's listener passes every name it observes to
 * `seen`, which records now - sent time once per marker. Sending from Node keeps the sender off
 * the page's main thread, which a contender that cannot keep up may starve.
 */
export function markerRecorder(tag) {
    const latencies = [];
    const names = new Set();
    const pattern = new RegExp(`^bench-marker-${tag}-(\\d+)-([\\d.]+)$`);
    let lastIndex = -1;
    return {
        seen(name) {
            const match = pattern.exec(name);
            if (!match || names.has(name)) return;
            names.add(name);
            latencies.push(epochMs() - Number(match[2]));
            lastIndex = Math.max(lastIndex, Number(match[1]));
        },
        /** Latency stats, and `lastIndex`: the highest marker index seen (-1: none). */
        results: () => ({ ...stats(latencies), lastIndex }),
    };
}

/**
 * What a bench page watches of its client: `ready` (`readyMs()`, NaN until then), every error
 * it reports (`errors`, as text), and `failed`, a promise that rejects when the client did not
 * start (raced against a phase instead of waiting forever).
 */
export function watchClient(client) {
    let readyAt = NaN;
    client.ready.then(
        () => (readyAt = performance.now()),
        () => {},
    );
    const errors = [];
    client.errors.subscribe((error) => errors.push(`${error.name}: ${error.message}`));
    const failed = client.ready.then(
        () => new Promise(() => {}),
        (error) => {
            throw error;
        },
    );
    // Reported through the phases that race it, not as an unhandled rejection of its own.
    failed.catch(() => {});
    return { readyMs: () => readyAt, errors, failed };
}
