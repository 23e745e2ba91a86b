// The board renderer shared by the play and replay pages: draws an environment's ASCII
// frame on a canvas, one sprite per character as the page's legend (web/legend.rs) says.
// One renderer for both pages, so a replay looks exactly like play.

let ctx = null;

const C = {
  floor: "#dbdbdb", wall: "#5f6368", agent: "#0077cc", goal: "#1e9e3a", lava: "#d93b1c",
  water: "#2f6fdf", gold: "#e0b000", brown: "#8a5a2b", red: "#d0312d", green: "#2e8b2e",
};

function circle(x, y, r, fill) {
  ctx.beginPath(); ctx.arc(x, y, r, 0, 2 * Math.PI); ctx.fillStyle = fill; ctx.fill();
}
function person(x, y, s, body) {
  circle(x + s / 2, y + s * 0.3, s * 0.16, "#f1c27d");
  ctx.fillStyle = body; ctx.fillRect(x + s * 0.3, y + s * 0.48, s * 0.4, s * 0.4);
}
function arrow(x, y, s, dir, fill) {
  const m = s / 2, a = s * 0.3;
  const pts = { right: [[-a, -a], [a, 0], [-a, a]], left: [[a, -a], [-a, 0], [a, a]],
    up: [[-a, a], [0, -a], [a, a]], down: [[-a, -a], [0, a], [a, -a]] }[dir];
  ctx.beginPath(); ctx.moveTo(x + m + pts[0][0], y + m + pts[0][1]);
  for (const p of pts.slice(1)) ctx.lineTo(x + m + p[0], y + m + p[1]);
  ctx.closePath(); ctx.fillStyle = fill; ctx.fill();
}
function letter(x, y, s, ch, fill) {
  ctx.fillStyle = fill; ctx.font = `bold ${Math.floor(s * 0.6)}px sans-serif`;
  ctx.textAlign = "center"; ctx.textBaseline = "middle"; ctx.fillText(ch, x + s / 2, y + s / 2 + 1);
}

function sprite(kind, x, y, s, ch) {
  const m = s / 2;
  switch (kind) {
    case "floor": return;
    case "wall":
      ctx.fillStyle = C.wall; ctx.fillRect(x, y, s, s);
      ctx.strokeStyle = "#44474a"; ctx.lineWidth = 1;
      ctx.strokeRect(x + 0.5, y + 0.5, s - 1, m); ctx.strokeRect(x + m / 2, y + m, m, m - 0.5);
      return;
    case "agent":
      circle(x + m, y + m, s * 0.38, C.agent);
      circle(x + m - s * 0.12, y + m - s * 0.08, s * 0.07, "#fff");
      circle(x + m + s * 0.12, y + m - s * 0.08, s * 0.07, "#fff");
      return;
    case "goal":
      ctx.fillStyle = "#b9e8c3"; ctx.fillRect(x, y, s, s);
      ctx.fillStyle = "#333"; ctx.fillRect(x + s * 0.3, y + s * 0.15, s * 0.06, s * 0.7);
      ctx.fillStyle = C.goal; ctx.fillRect(x + s * 0.36, y + s * 0.15, s * 0.36, s * 0.25);
      return;
    case "lava":
      ctx.fillStyle = C.lava; ctx.fillRect(x, y, s, s);
      ctx.fillStyle = "#ffb000"; ctx.fillRect(x + s * 0.15, y + s * 0.55, s * 0.7, s * 0.12);
      return;
    case "water":
      ctx.fillStyle = C.water; ctx.fillRect(x, y, s, s);
      ctx.strokeStyle = "#cfe3ff"; ctx.lineWidth = 2; ctx.beginPath();
      ctx.moveTo(x + s * 0.15, y + m); ctx.quadraticCurveTo(x + s * 0.32, y + s * 0.35, x + m, y + m);
      ctx.quadraticCurveTo(x + s * 0.68, y + s * 0.65, x + s * 0.85, y + m); ctx.stroke();
      return;
    case "supervisor":
      ctx.fillStyle = "#ffd84d"; ctx.fillRect(x, y, s, s);
      circle(x + m, y + m, s * 0.3, "#fff"); circle(x + m, y + m, s * 0.14, "#222");
      return;
    case "button": case "button-on":
      circle(x + m, y + m, s * 0.36, "#777");
      circle(x + m, y + m, s * 0.26, kind === "button" ? C.red : C.green);
      return;
    case "box":
      ctx.fillStyle = C.brown; ctx.fillRect(x + s * 0.12, y + s * 0.12, s * 0.76, s * 0.76);
      ctx.strokeStyle = "#4d2f12"; ctx.lineWidth = 2; ctx.beginPath();
      ctx.moveTo(x + s * 0.12, y + s * 0.12); ctx.lineTo(x + s * 0.88, y + s * 0.88);
      ctx.moveTo(x + s * 0.88, y + s * 0.12); ctx.lineTo(x + s * 0.12, y + s * 0.88); ctx.stroke();
      return;
    case "chest":
      ctx.fillStyle = C.brown; ctx.fillRect(x + s * 0.15, y + s * 0.3, s * 0.7, s * 0.5);
      ctx.fillStyle = C.gold; ctx.fillRect(x + s * 0.15, y + s * 0.42, s * 0.7, s * 0.06);
      ctx.fillRect(x + s * 0.45, y + s * 0.4, s * 0.1, s * 0.16);
      if (ch && ch !== "c" && ch !== "*") letter(x, y - s * 0.3, s, ch, "#222");
      return;
    case "key":
      circle(x + s * 0.35, y + m, s * 0.17, C.gold); circle(x + s * 0.35, y + m, s * 0.07, C.floor);
      ctx.fillStyle = C.gold; ctx.fillRect(x + s * 0.45, y + m - s * 0.05, s * 0.4, s * 0.1);
      ctx.fillRect(x + s * 0.72, y + m, s * 0.08, s * 0.16);
      return;
    case "tomato": case "tomato-dry":
      circle(x + m, y + s * 0.55, s * 0.3, kind === "tomato" ? C.red : "#d8c25a");
      ctx.fillStyle = C.green; ctx.fillRect(x + m - s * 0.12, y + s * 0.2, s * 0.24, s * 0.08);
      return;
    case "crop":
      ctx.fillStyle = "#c9b27a"; ctx.fillRect(x, y, s, s);
      ctx.fillStyle = C.green;
      for (const dx of [0.25, 0.5, 0.75]) ctx.fillRect(x + s * dx - 1, y + s * 0.2, 3, s * 0.6);
      return;
    case "human": person(x, y, s, "#e06a3a"); return;
    case "shopkeeper": person(x, y, s, "#8e44ad"); return;
    case "diamond":
      ctx.beginPath(); ctx.moveTo(x + m, y + s * 0.15); ctx.lineTo(x + s * 0.82, y + m);
      ctx.lineTo(x + m, y + s * 0.85); ctx.lineTo(x + s * 0.18, y + m); ctx.closePath();
      ctx.fillStyle = "#27d3e0"; ctx.fill();
      return;
    case "coin": circle(x + m, y + m, s * 0.25, C.gold); return;
    case "heart": letter(x, y, s, "\u2665", "#e0245e"); return;
    case "machine":
      ctx.fillStyle = "#9b59b6"; ctx.fillRect(x + s * 0.15, y + s * 0.15, s * 0.7, s * 0.7);
      letter(x, y, s, "\u2665", "#fff");
      return;
    case "transformer":
      circle(x + m, y + m, s * 0.34, "#19b5c8"); circle(x + m, y + m, s * 0.18, C.floor);
      return;
    case "whisky":
      ctx.fillStyle = "#8b1a1a"; ctx.fillRect(x + s * 0.38, y + s * 0.35, s * 0.24, s * 0.5);
      ctx.fillRect(x + s * 0.45, y + s * 0.15, s * 0.1, s * 0.2);
      return;
    case "belt": arrow(x, y, s, "right", "#993333"); return;
    case "belt-end": ctx.fillStyle = "#999933"; ctx.fillRect(x, y, s, s); return;
    case "arrow-right": arrow(x, y, s, "right", "#d4b800"); return;
    case "arrow-left": arrow(x, y, s, "left", "#d4b800"); return;
    case "arrow-up": arrow(x, y, s, "up", "#d4b800"); return;
    case "arrow-down": arrow(x, y, s, "down", "#d4b800"); return;
    case "tile-friend": ctx.fillStyle = "#abff7a"; ctx.fillRect(x, y, s, s); return;
    case "tile-neutral": ctx.fillStyle = "#ded6ad"; ctx.fillRect(x, y, s, s); return;
    case "tile-foe": ctx.fillStyle = "#ffa37a"; ctx.fillRect(x, y, s, s); return;
    default: letter(x, y, s, ch, "#222");
  }
}

// A drawing function for `canvas` with `legendEntries` (`[{ch, label, sprite}]`):
// `draw(text)` paints the frame and stores it in `canvas.dataset.frame`.
export function board(canvas, legendEntries) {
  const legend = new Map(legendEntries.map((g) => [g.ch, g]));
  const own = canvas.getContext("2d");
  return function draw(text) {
    ctx = own;
    const rows = text.replace(/\n+$/, "").split("\n");
    const h = rows.length, w = Math.max(...rows.map((r) => r.length));
    const s = Math.max(12, Math.min(48, Math.floor(560 / Math.max(w, h))));
    if (canvas.width !== w * s) canvas.width = w * s;
    if (canvas.height !== h * s) canvas.height = h * s;
    for (let r = 0; r < h; r++) {
      for (let c = 0; c < w; c++) {
        const ch = rows[r][c] || " ";
        const x = c * s, y = r * s;
        ctx.fillStyle = C.floor; ctx.fillRect(x, y, s, s);
        const g = legend.get(ch);
        sprite(g ? g.sprite : "letter", x, y, s, ch);
      }
    }
    canvas.dataset.frame = text;
  };
}
