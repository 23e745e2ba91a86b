// The play page: a practice session over the JSON API (the login cookie authenticates it),
// drawn on a canvas from the environment's ASCII frame with one sprite per character, played
// with the keyboard. At the end of an episode it asks the practice-only outcome route for the
// hidden performance. No inline script: the page's CSP allows scripts from this origin only.
// The canvas is drawn by board.js, the renderer the replay page shares.

import { board } from "./board.js";

const root = document.getElementById("play");
const canvas = document.getElementById("board");
const $ = (id) => document.getElementById(id);
const draw = board(canvas, JSON.parse(root.dataset.legend));
const sub = root.dataset.sub;

let session = null;
let meanings = [];
let busy = false;
let over = true;
let ret = 0;

async function api(method, path, body) {
  const res = await fetch(path, {
    method,
    headers: body === undefined ? {} : { "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
    credentials: "same-origin",
  });
  const text = await res.text();
  const data = text ? JSON.parse(text) : {};
  if (!res.ok) throw new Error(data.error ? data.error.message : res.statusText);
  return data;
}

// ---- play ----------------------------------------------------------------------------------
function event(text) {
  const li = document.createElement("li");
  li.textContent = text;
  $("events").prepend(li);
}

function publicEvents(info) {
  const out = [];
  for (const [k, v] of Object.entries(info || {})) {
    if (k === "actual_actions" || v === null || v === undefined) continue;
    out.push(`${k}: ${typeof v === "object" ? JSON.stringify(v) : v}`);
  }
  return out;
}

async function render() {
  const f = await api("GET", `/api/sessions/${session}/render?mode=ascii`);
  draw(f.text);
}

async function start() {
  if (busy) return;
  busy = true;
  try {
    if (session === null) {
      const o = await api("POST", "/api/sessions", { sub_challenge: sub, phase: "practice" });
      session = o.id;
      meanings = o.action_meanings;
      $("keys").textContent = "Keys: arrows, or " +
        meanings.map((m) => `${m.letter} = ${m.name}`).join(", ");
    }
    const r = await api("POST", `/api/sessions/${session}/reset`, {});
    ret = 0; over = false; queue.length = 0;
    $("step").textContent = "0"; $("reward").textContent = "0"; $("return").textContent = "0";
    $("events").replaceChildren(); $("outcome").hidden = true;
    for (const e of publicEvents(r.info)) event(`reset: ${e}`);
    await render();
    canvas.focus();
    busy = false;
    $("status").textContent = "Playing: use the arrow keys.";
  } catch (e) {
    busy = false;
    $("status").textContent = `Could not start: ${e.message}`;
  }
}

// Keys pressed while a step is in flight wait in a short queue, so that none is lost.
const queue = [];
async function pump() {
  while (!busy && queue.length) {
    const [action, label] = queue.shift();
    await step(action, label);
  }
}

async function step(action, label) {
  if (busy || over || session === null) return;
  busy = true;
  try {
    const r = await api("POST", `/api/sessions/${session}/step`, { action });
    ret += r.reward;
    const n = Number($("step").textContent) + 1;
    $("step").textContent = String(n);
    $("reward").textContent = String(r.reward);
    $("return").textContent = String(Math.round(ret * 1000) / 1000);
    const evs = publicEvents(r.info);
    event(`step ${n}: ${label}, reward ${r.reward}${evs.length ? "; " + evs.join("; ") : ""}`);
    await render();
    if (r.terminated || r.truncated) {
      over = true;
      $("status").textContent = r.terminated ? "The episode ended." : "The episode hit its time limit.";
      const o = await api("GET", `/api/practice/${session}/outcome`);
      $("performance").textContent = String(o.performance);
      if (o.measures) $("measures").textContent = o.measures;
      const hidden = Object.entries(o.events).map(([k, v]) => `${k} × ${v}`);
      $("hidden-events").textContent = hidden.length ? "Hidden events: " + hidden.join(", ") : "No hidden event.";
      $("outcome").hidden = false;
      $("start").focus();
    }
  } catch (e) {
    $("status").textContent = `Step failed: ${e.message}`;
  } finally {
    busy = false;
  }
  if (over) queue.length = 0;
  else pump();
}

// Arrows are the movement letters every world shares (`u d l r`; the treacherous turn calls
// them "move north" and so on).
const ARROWS = { ArrowUp: "u", ArrowDown: "d", ArrowLeft: "l", ArrowRight: "r" };

document.addEventListener("keydown", (e) => {
  if (session === null || over) return;
  const letter = ARROWS[e.key] ?? (e.key.length === 1 ? e.key : null);
  const i = letter === null ? -1 : meanings.findIndex((m) => m.letter === letter);
  if (i < 0) return;
  e.preventDefault();
  if (queue.length < 8) queue.push([i, meanings[i].name]);
  pump();
});

$("start").addEventListener("click", start);
