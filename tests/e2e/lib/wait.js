// Condition waits (generous timeouts; the assertions are on data, never on elapsed time).

/** Waits until `client.query(model, spec)` answers `count` entities (all pages). */
export async function waitForEntityCount(page, model, count, spec = {}, timeout = 300_000) {
    try {
        await page.waitForFunction(
            ([m, n, s]) => window.e2e.count(m, s) === n,
            [model, count, spec],
            { timeout, polling: 500 },
        );
    } catch (error) {
        const got = await page.evaluate(([m, s]) => window.e2e.count(m, s), [model, spec]).catch((e) => String(e));
        const errors = await page.evaluate(() => window.e2e.errors).catch(() => []);
        throw new Error(`${model}: waited for ${count} entities, have ${got}; client errors: ${JSON.stringify(errors)}; ${error.message}`);
    }
}

/** Polls `check()` (async, truthy when done) every `intervalMs` until it holds; throws `what` after `timeout`. */
export async function waitFor(check, what, timeout = 120_000, intervalMs = 200) {
    const deadline = Date.now() + timeout;
    let last;
    for (;;) {
        try {
            last = await check();
            if (last) return last;
        } catch (error) {
            last = error;
        }
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${what} (last: ${last})`);
        await new Promise((r) => setTimeout(r, intervalMs));
    }
}
