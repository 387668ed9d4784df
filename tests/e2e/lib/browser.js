// Chromium through playwright-core (no downloaded browsers): the Debian build at
// /usr/bin/chromium, or CHROMIUM_BIN, or a Chrome/Chromium found on PATH.

import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { chromium } from "playwright-core";

const ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
];

/** The browser executable: CHROMIUM_BIN, /usr/bin/chromium, or chromium/google-chrome on PATH. */
export function chromiumPath() {
    const candidates = [process.env.CHROMIUM_BIN, "/usr/bin/chromium"];
    for (const name of ["chromium", "chromium-browser", "google-chrome", "google-chrome-stable"]) {
        try {
            candidates.push(execFileSync("which", [name], { encoding: "utf8" }).trim());
        } catch {
            // not on PATH
        }
    }
    const found = candidates.find((path) => path && existsSync(path));
    if (!found) throw new Error("no Chromium found: install Debian `chromium` (bash .ci/setup) or set CHROMIUM_BIN");
    return found;
}

/** Launches headless Chromium. */
export function launchBrowser() {
    return chromium.launch({ executablePath: chromiumPath(), headless: true, args: ARGS });
}
