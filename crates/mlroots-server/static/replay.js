// The replay page, animated: every frame of the episode comes with the page (data-frames,
// re-simulated by the server), drawn by board.js, the renderer the play page uses. Play,
// pause, step back and forward, speed 1× to 8×, and the keyboard (space, arrows, Home,
// End). Without this script the page is one frame with step links; with it, those links
// and the event markers seek in place. No inline script: the CSP allows this origin only.

import { board } from "./board.js";

const root = document.getElementById("replay");
const $ = (id) => document.getElementById(id);
const frames = JSON.parse(root.dataset.frames);
const rewards = JSON.parse(root.dataset.rewards);
const canvas = $("board");
const draw = board(canvas, JSON.parse(root.dataset.legend));
const last = frames.length - 1;
const returns = [0];
for (const r of rewards) returns.push(returns[returns.length - 1] + r);
const cursor = $("return-curve-cursor");
const STEP_MS = 250; // 1×: four steps a second

let step = Math.min(Number(root.dataset.step) || 0, last);
let timer = null;

const fmt = (v) => String(Math.round(v * 100) / 100);

function show(n) {
  step = Math.max(0, Math.min(last, n));
  draw(frames[step]);
  $("counter").textContent = String(step);
  $("return").textContent = fmt(returns[step]);
  if (cursor) {
    const x = Number(cursor.dataset.x0) + step * Number(cursor.dataset.dx);
    cursor.setAttribute("x1", x.toFixed(1));
    cursor.setAttribute("x2", x.toFixed(1));
  }
  for (const a of root.querySelectorAll("#event-list a[data-step]")) {
    a.parentElement.classList.toggle("current", Number(a.dataset.step) === step);
  }
  if (timer === null) {
    history.replaceState(null, "", `${root.dataset.link}&step=${step}${location.hash}`);
  }
}

function pause() {
  if (timer !== null) clearInterval(timer);
  timer = null;
  $("toggle").textContent = "Play";
  $("position").setAttribute("aria-live", "polite");
  show(step);
}

function play() {
  if (step >= last) show(0);
  $("toggle").textContent = "Pause";
  // While playing, the position would be read out four to thirty times a second.
  $("position").setAttribute("aria-live", "off");
  const speed = Number($("speed").value) || 1;
  if (timer !== null) clearInterval(timer);
  timer = setInterval(() => {
    if (step >= last) pause();
    else show(step + 1);
  }, STEP_MS / speed);
}

const toggle = () => (timer === null ? play() : pause());
const seek = (n) => { pause(); show(n); };

$("toggle").addEventListener("click", toggle);
$("back").addEventListener("click", () => seek(step - 1));
$("forward").addEventListener("click", () => seek(step + 1));
$("speed").addEventListener("change", () => { if (timer !== null) play(); });

document.addEventListener("keydown", (e) => {
  if (e.altKey || e.ctrlKey || e.metaKey) return;
  const tag = e.target.tagName;
  if (tag === "SELECT" || tag === "INPUT" || tag === "TEXTAREA") return;
  // Space on a focused button or link activates it as usual.
  if (e.key === " " && (tag === "BUTTON" || tag === "A")) return;
  switch (e.key) {
    case " ": toggle(); break;
    case "ArrowLeft": seek(step - 1); break;
    case "ArrowRight": seek(step + 1); break;
    case "Home": seek(0); break;
    case "End": seek(last); break;
    default: return;
  }
  e.preventDefault();
});

// Event links and the curve's markers seek in place instead of loading the page again.
root.addEventListener("click", (e) => {
  const a = e.target.closest("a[data-step]");
  if (!a) return;
  e.preventDefault();
  seek(Number(a.dataset.step));
});

// The share link: shown whole, with a copy button.
const link = $("share-link");
if (link) {
  link.textContent = link.href;
  const copy = $("copy");
  copy.hidden = false;
  copy.addEventListener("click", async () => {
    try {
      await navigator.clipboard.writeText(link.href);
      $("copied").textContent = "Copied.";
    } catch {
      getSelection().selectAllChildren(link);
      $("copied").textContent = "Selected: press Ctrl+C to copy.";
    }
  });
}

$("frame").hidden = true;
$("stepper").hidden = true;
canvas.hidden = false;
$("controls").hidden = false;
show(step);
