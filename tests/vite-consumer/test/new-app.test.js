// A new game developer's first app, made by following only the words of the repository README's
// "Use it in your app" section: its shell blocks are run line by line (each block starts with a
// `# in <folder>` comment saying where; `cd` moves on), its file blocks (first line
// `// <path>`) are written into the app, then the built app is opened in Chromium against a
// mock-torii and must show the synced players. Two things differ from a person's run, both
// stated here: the README's Torii URL (http://localhost:8080) is the test mock's, and
// `bash js/build.sh` is skipped when the package is already built (CI's build-package stage).
// Needs the npm registry (create-vite and the template's dependencies, about 20 s).
// `KEEP_NEW_APP=1` keeps the app (its folder is printed) to look at after a failure.

import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { after, before, test } from "node:test";
import { startStaticServer } from "../../../examples/serve.mjs";
import { launchBrowser } from "../../e2e/lib/browser.js";
import { ROOT, startMock } from "../../e2e/lib/mock.js";

const README_URL = "http://localhost:8080";
const SECTION = "## Use it in your app";
const BUILT = ["js/dist/index.js", "js/wasm/dojo_reactive_bg.wasm"].every((file) => existsSync(join(ROOT, file)));

/** The fenced code blocks of the README's "Use it in your app" section, in order. */
function readmeBlocks() {
    const text = readFileSync(join(ROOT, "README.md"), "utf8");
    const start = text.indexOf(`\n${SECTION}\n`);
    assert.ok(start >= 0, `README.md has a "${SECTION}" section`);
    const end = text.indexOf("\n## ", start + SECTION.length);
    const section = text.slice(start, end < 0 ? undefined : end);
    return [...section.matchAll(/```(\w+)\n([\s\S]*?)```/g)].map((match) => ({ lang: match[1], lines: match[2].trimEnd().split("\n") }));
}

let work, mock, server, browser, tarballsBefore;

before(async () => {
    mock = await startMock(["--entities", "400", "--seed", "83"]);
    work = mkdtempSync(join(tmpdir(), "reactive-new-app-"));
    symlinkSync(ROOT, join(work, "reactive"));
    tarballsBefore = new Set(readdirSync(ROOT).filter((name) => name.endsWith(".tgz")));
});

after(async () => {
    await browser?.close();
    await server?.close();
    await mock?.stop();
    for (const name of readdirSync(ROOT)) if (name.endsWith(".tgz") && !tarballsBefore.has(name)) rmSync(join(ROOT, name));
    if (work && !process.env.KEEP_NEW_APP) rmSync(work, { recursive: true, force: true });
    else if (work) console.log(`the app is kept in ${work}`);
});

/** Where a shell block's `# in <folder>` comment says to run it. */
function folderOf(comment) {
    if (/^# in the repository\b/.test(comment)) return ROOT;
    if (/^# in the folder that holds the repository\b/.test(comment)) return work;
    const named = /^# in (\S+)$/.exec(comment);
    if (named) return join(work, named[1]);
    throw new Error(`a shell block of the README must start with "# in <folder>": ${comment}`);
}

test("a fresh Vite + React + TypeScript app made from the README's words syncs and shows the world", async () => {
    const env = { ...process.env, VITE_TORII_URL: mock.url };
    let cwd = work;
    const ran = [];
    for (const block of readmeBlocks()) {
        if (block.lang === "sh") {
            cwd = folderOf(block.lines[0]);
            for (const raw of block.lines.slice(1)) {
                const line = raw.replace(/\s+#\s.*$/, "").trim();
                if (line === "") continue;
                if (line.startsWith("cd ")) {
                    cwd = resolve(cwd, line.slice(3).trim());
                    continue;
                }
                if (line === "bash js/build.sh" && BUILT) continue;
                const command = line.replaceAll(README_URL, mock.url);
                ran.push(command);
                try {
                    execFileSync("bash", ["-c", command], { cwd, env, stdio: "pipe", timeout: 300_000 });
                } catch (error) {
                    throw new Error(`\`${command}\` (in ${cwd}) failed:\n${error.stdout}\n${error.stderr}`);
                }
            }
        } else {
            const path = /^\/\/ (\S+)$/.exec(block.lines[0])?.[1];
            assert.ok(path, `a ${block.lang} block of the README names its file on its first line: ${block.lines[0]}`);
            const file = join(cwd, path);
            mkdirSync(dirname(file), { recursive: true });
            writeFileSync(file, `${block.lines.join("\n")}\n`);
        }
    }
    assert.ok(ran.some((command) => command.startsWith("npm pack")), `the README packs the package: ${ran.join("; ")}`);
    assert.ok(ran.some((command) => command === "npm run build"), "the README builds the app");
    const dist = join(cwd, "dist");
    assert.ok(existsSync(join(dist, "index.html")), "the app was built into dist/");

    server = await startStaticServer({ mounts: { "/": dist } });
    browser = await launchBrowser();
    const page = await browser.newPage();
    const problems = [];
    page.on("pageerror", (error) => problems.push(error.message));
    page.on("console", (message) => message.type() === "error" && problems.push(`console: ${message.text()}`));
    await page.goto(`${server.url}/`);
    try {
        await page.waitForFunction(
            () => document.querySelectorAll("#players li").length === 5 || document.getElementById("sync")?.textContent.startsWith("failed"),
            null,
            { timeout: 120_000 },
        );
        assert.ok(!(await page.textContent("#sync")).startsWith("failed"), "the client did not fail");
        await page.waitForFunction(() => document.getElementById("sync").textContent.startsWith("ready · "), null, { timeout: 60_000 });
    } catch (error) {
        throw new Error(`${error.message}\npage: ${await page.textContent("body")}\n${problems.join("\n")}`);
    }
    const names = await page.$$eval("#players li", (items) => items.map((item) => item.textContent));
    assert.ok(names.every((name) => name !== "" && name !== "undefined"), `player names shown: ${names}`);
    assert.equal(page.workers().length, 1, "the sync worker runs");
    assert.deepEqual(problems, []);
});
