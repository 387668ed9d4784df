// The map: every player of the world as a dot on a canvas, coloured by class, those Torii just
// changed flashing, and the hero as a gold ring. A pending move shows the hero at its target with
// a dashed ring and a line back to where Torii last put it; a confirmed move flashes green, a
// rolled-back one leaves a red cross where the hero was going.

/** The side of the world's square (mock-torii's positions start in 0..1000 and drift). */
export const WORLD_SIZE = 1000;

const CLASS_COLORS = { Warrior: "#ff7b72", Mage: "#79c0ff", Rogue: "#7ee787" };
const CHANGED_COLOR = "#ffffff";
/** The map's background. */
const BACKGROUND = "#0d1117";
/**
 * A colour (at `strength`, blended into the background) as one pixel of an ImageData seen as a
 * Uint32Array (little-endian: ABGR).
 */
const pixelOf = (hex, strength = 1) => {
    const channels = (color) => [1, 3, 5].map((at) => parseInt(color.slice(at, at + 2), 16));
    const under = channels(BACKGROUND);
    const [r, g, b] = channels(hex).map((value, i) => Math.round(under[i] + (value - under[i]) * strength));
    return ((255 << 24) | (b << 16) | (g << 8) | r) >>> 0;
};
const OTHER_PIXEL = pixelOf("#9aa1ad");
const FLASH_MS = { changed: 1500, confirmed: 1200, rolledBack: 2500 };

/** A point of the world on the canvas (positions outside the square are drawn at its edge). */
const clamp = (value) => Math.min(Math.max(Number(value), 0), WORLD_SIZE - 1);

/**
 * Draws on `canvas`. `setPlayers(positions, players)` takes two Maps, entity id → Position state
 * (`{ vec: { x, y } }`) and entity id → Player state (its `class.variant` picks the colour);
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
    let positions = new Map();
    let players = new Map();
    let hero;
    let flashes = [];
    let baseStale = true;
    let frame = 0;

    const at = (point) => [clamp(point.x) * scale, clamp(point.y) * scale];

    // The background (and its grid), drawn once; each redraw of the players starts from a copy.
    baseContext.fillStyle = BACKGROUND;
    baseContext.fillRect(0, 0, base.width, base.height);
    baseContext.strokeStyle = "#1f2530";
    baseContext.lineWidth = 1;
    for (let line = 100; line < WORLD_SIZE; line += 100) {
        baseContext.beginPath();
        baseContext.moveTo(Math.round(line * scale) + 0.5, 0);
        baseContext.lineTo(Math.round(line * scale) + 0.5, base.height);
        baseContext.moveTo(0, Math.round(line * scale) + 0.5);
        baseContext.lineTo(base.width, Math.round(line * scale) + 0.5);
        baseContext.stroke();
    }
    const image = baseContext.getImageData(0, 0, base.width, base.height);
    const pixels = new Uint32Array(image.data.buffer);
    const background = pixels.slice();
    const classPixels = new Map(Object.entries(CLASS_COLORS).map(([cls, color]) => [cls, pixelOf(color)]));
    // On a crowded map the dots are dimmed, so that the hero and the changes stand out.
    const dimPixels = new Map(Object.entries(CLASS_COLORS).map(([cls, color]) => [cls, pixelOf(color, 0.45)]));

    /** Every player as a square of pixels, written straight into the image (75,000 in a few ms). */
    function drawBase() {
        pixels.set(background);
        const crowded = positions.size >= 5000;
        const size = crowded ? 2 : 4;
        const colors = crowded ? dimPixels : classPixels;
        const width = base.width;
        const last = width - size;
        for (const [id, position] of positions) {
            const color = colors.get(players.get(id)?.class.variant) ?? OTHER_PIXEL;
            const [px, py] = at(position.vec);
            const left = Math.min(Math.max(Math.round(px - size / 2), 0), last);
            const top = Math.min(Math.max(Math.round(py - size / 2), 0), base.height - size);
            for (let row = top; row < top + size; row += 1) pixels.fill(color, row * width + left, row * width + left + size);
        }
        baseContext.putImageData(image, 0, 0);
        canvas.dataset.players = String(positions.size);
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
        drawRing(x, y, 13, BACKGROUND, false); // a dark halo: the ring stands out on any map
        drawRing(x, y, 11, hero.pending ? "#e3b341" : "#f2cc60", hero.pending);
        context.font = "bold 13px system-ui, sans-serif";
        context.textAlign = x > canvas.width - 120 ? "right" : "left";
        const label = hero.pending ? `${hero.name} (pending)` : hero.name;
        const labelX = x + (context.textAlign === "right" ? -16 : 16);
        context.strokeStyle = BACKGROUND; // an outline keeps the name readable over a crowded map
        context.lineWidth = 4;
        context.strokeText(label, labelX, y + 4);
        context.fillStyle = "#f2cc60";
        context.fillText(label, labelX, y + 4);
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
        setPlayers(nextPositions, nextPlayers) {
            positions = nextPositions;
            players = nextPlayers;
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
