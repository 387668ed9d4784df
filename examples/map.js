// The map: every player of the world as a dot on a canvas, coloured by class, those Torii just
// changed flashing, and the hero as a gold ring. A pending move shows the hero at its target with
// a dashed ring and a line back to where Torii last put it; a confirmed move flashes green, a
// rolled-back one leaves a red cross where the hero was going.

/** The side of the world's square (mock-torii's positions start in 0..1000 and drift). */
export const WORLD_SIZE = 1000;

const CLASS_COLORS = { Warrior: "#ff7b72", Mage: "#79c0ff", Rogue: "#7ee787" };
const CHANGED_COLOR = "#ffffff";
const FLASH_MS = { changed: 1500, confirmed: 1200, rolledBack: 2500 };

/** A point of the world on the canvas (positions outside the square are drawn at its edge). */
const clamp = (value) => Math.min(Math.max(Number(value), 0), WORLD_SIZE - 1);

/**
 * Draws on `canvas`. `setPlayers(players)` takes a Map of entity id → `{ x, y, cls }`;
 * `setHero(hero)` takes `{ name, shown: {x, y}, synced?: {x, y}, pending }` or undefined;
 * `flash(point, kind)` marks a point for a moment (`changed`, `confirmed`, `rolledBack`);
 * `toWorld(event)` turns a pointer event into world coordinates.
 */
export function createMap(canvas) {
    const context = canvas.getContext("2d");
    const scale = canvas.width / WORLD_SIZE;
    // Every player is drawn on `base` only when the players change; each frame copies it and
    // draws the hero and the flashes over it.
    const base = document.createElement("canvas");
    base.width = canvas.width;
    base.height = canvas.height;
    const baseContext = base.getContext("2d");
    let players = new Map();
    let hero;
    let flashes = [];
    let baseStale = true;
    let frame = 0;

    const at = (point) => [clamp(point.x) * scale, clamp(point.y) * scale];

    function drawBase() {
        baseContext.fillStyle = "#0d1117";
        baseContext.fillRect(0, 0, base.width, base.height);
        baseContext.strokeStyle = "#1f2530";
        baseContext.lineWidth = 1;
        for (let line = 100; line < WORLD_SIZE; line += 100) {
            baseContext.beginPath();
            baseContext.moveTo(line * scale, 0);
            baseContext.lineTo(line * scale, base.height);
            baseContext.moveTo(0, line * scale);
            baseContext.lineTo(base.width, line * scale);
            baseContext.stroke();
        }
        // Bigger dots for a small world: a few hundred players stay visible, 75,000 stay apart.
        const size = players.size < 5000 ? 4 : 2.5;
        for (const [cls, color] of Object.entries(CLASS_COLORS)) {
            baseContext.fillStyle = color;
            for (const player of players.values()) {
                if (player.cls !== cls) continue;
                const [x, y] = at(player);
                baseContext.fillRect(x - size / 2, y - size / 2, size, size);
            }
        }
        canvas.dataset.players = String(players.size);
    }

    function drawRing(x, y, radius, color, dashed) {
        context.beginPath();
        context.setLineDash(dashed ? [4, 3] : []);
        context.strokeStyle = color;
        context.lineWidth = 3;
        context.arc(x, y, radius, 0, Math.PI * 2);
        context.stroke();
        context.setLineDash([]);
    }

    function drawFlash(item, now) {
        const left = 1 - (now - item.start) / FLASH_MS[item.kind];
        const [x, y] = at(item.point);
        context.globalAlpha = Math.max(left, 0);
        if (item.kind === "changed") {
            context.fillStyle = CHANGED_COLOR;
            context.beginPath();
            context.arc(x, y, 3 + 4 * left, 0, Math.PI * 2);
            context.fill();
        } else if (item.kind === "confirmed") {
            drawRing(x, y, 10 + 14 * (1 - left), "#7ee787", false);
        } else {
            context.strokeStyle = "#ff4d4f";
            context.lineWidth = 3;
            context.beginPath();
            context.moveTo(x - 8, y - 8);
            context.lineTo(x + 8, y + 8);
            context.moveTo(x + 8, y - 8);
            context.lineTo(x - 8, y + 8);
            context.stroke();
        }
        context.globalAlpha = 1;
    }

    function drawHero() {
        const [x, y] = at(hero.shown);
        if (hero.pending && hero.synced) {
            const [sx, sy] = at(hero.synced);
            context.strokeStyle = "#e3b341";
            context.setLineDash([2, 4]);
            context.lineWidth = 1.5;
            context.beginPath();
            context.moveTo(sx, sy);
            context.lineTo(x, y);
            context.stroke();
            context.setLineDash([]);
            context.fillStyle = "rgba(227, 179, 65, 0.35)";
            context.beginPath();
            context.arc(sx, sy, 5, 0, Math.PI * 2);
            context.fill();
        }
        context.fillStyle = "#f2cc60";
        context.beginPath();
        context.arc(x, y, 5, 0, Math.PI * 2);
        context.fill();
        drawRing(x, y, 11, hero.pending ? "#e3b341" : "#f2cc60", hero.pending);
        context.font = "bold 13px system-ui, sans-serif";
        context.fillStyle = "#f2cc60";
        context.textAlign = x > canvas.width - 120 ? "right" : "left";
        context.fillText(hero.pending ? `${hero.name} (pending)` : hero.name, x + (context.textAlign === "right" ? -16 : 16), y + 4);
        canvas.dataset.hero = `${clamp(hero.shown.x)},${clamp(hero.shown.y)}`;
        canvas.dataset.heroPending = String(hero.pending);
    }

    function draw() {
        frame = 0;
        const now = performance.now();
        if (baseStale) {
            drawBase();
            baseStale = false;
        }
        context.drawImage(base, 0, 0);
        flashes = flashes.filter((item) => now - item.start < FLASH_MS[item.kind]);
        for (const item of flashes) drawFlash(item, now);
        if (hero) drawHero();
        if (flashes.length > 0) schedule();
    }

    function schedule() {
        if (frame === 0) frame = requestAnimationFrame(draw);
    }

    return {
        setPlayers(next) {
            players = next;
            baseStale = true;
            schedule();
        },
        setHero(next) {
            hero = next;
            schedule();
        },
        flash(point, kind) {
            flashes.push({ point, kind, start: performance.now() });
            schedule();
        },
        toWorld(event) {
            const box = canvas.getBoundingClientRect();
            return {
                x: Math.round(((event.clientX - box.left) / box.width) * WORLD_SIZE),
                y: Math.round(((event.clientY - box.top) / box.height) * WORLD_SIZE),
            };
        },
    };
}
