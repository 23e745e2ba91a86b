// The website in a real browser: register, log in, open a challenge, unlock a hint, create a
// token, play an episode with the keyboard until it ends, open the leaderboard, solve AS-S through the API, see it on the leaderboard, watch its
// replay (animated, stepped with the keyboard, shared with a visitor, and without JavaScript),
// train through the API and see the learning curve, read the official writeup and write one's
// own, open the admin page and reload the catalogue (the first account is the admin), and a
// screenshot of every page. Run by scripts/browser-tests.sh,
// which starts the server and sets MLROOTS_URL and SCREENSHOTS.
import { chromium } from "playwright-core";
import { mkdirSync } from "node:fs";

const base = process.env.MLROOTS_URL;
const shots = process.env.SCREENSHOTS || "target/screenshots";
mkdirSync(shots, { recursive: true });
const user = `learner${Date.now() % 100000}`;
const password = "a long enough password";

function check(cond, what) {
  if (!cond) throw new Error(`check failed: ${what}`);
  console.log(`ok - ${what}`);
}

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
    "--disable-background-networking", "--disable-extensions", "--no-first-run"],
});
const errors = [];
try {
  const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
  page.on("pageerror", (e) => errors.push(String(e)));
  page.on("console", (m) => { if (m.type() === "error") errors.push(m.text()); });
  const shot = async (name) => page.screenshot({ path: `${shots}/${name}.png`, fullPage: true });

  const res = await page.goto(`${base}/`);
  check(res.status() === 200, "home page answers 200");
  check((res.headers()["content-security-policy"] || "").includes("frame-ancestors 'none'"), "home page has the CSP");
  check(await page.getByText("pip install ./python").count() > 0, "home page shows the Python snippet");
  await shot("01-home");

  await page.getByRole("link", { name: "Register" }).click();
  await page.getByLabel(/Username/).fill(user);
  await page.getByLabel(/Password/).fill(password);
  await shot("02-register");
  await page.getByRole("button", { name: "Create an account" }).click();
  await page.waitForURL(/\/challenges$/);
  check(await page.getByText(`Account (${user})`).count() === 1, "registering logs in");
  await page.getByRole("button", { name: "Log out" }).click();
  await page.waitForURL(`${base}/`);

  await page.getByRole("link", { name: "Log in" }).click();
  await page.getByLabel(/Username/).fill(user);
  await page.getByLabel(/Password/).fill(password);
  await shot("03-login");
  await page.getByRole("button", { name: "Log in" }).click();
  await page.waitForURL(/\/challenges$/);
  check(await page.getByText(`Account (${user})`).count() === 1, "logging in works");
  await shot("04-catalogue");

  await page.locator(".card h2 a").first().click();
  await page.waitForURL(/\/challenges\/C/);
  check(await page.locator("article.statement h1, article.statement h2").count() > 0, "the statement is rendered from Markdown");
  check(await page.getByText("Passes when").count() > 0, "pass conditions are listed");
  await page.getByRole("button", { name: /^Unlock hint 1 of/ }).first().click();
  await page.waitForURL(/#sub-/);
  check(await page.locator(".hint").count() === 1, "a hint is unlocked and shown");
  check(await page.locator("#solutions").count() === 0, "no solutions section before a solve");
  await shot("05-challenge");

  await page.goto(`${base}/account`);
  await page.getByLabel("Name").fill("browser");
  await page.getByRole("button", { name: "Create token" }).click();
  const token = await page.locator("#new-token").textContent();
  check(/^mlr_[0-9a-f]{64}$/.test(token), "a token is created and shown once");
  await shot("06-account");

  await page.goto(`${base}/challenges`);
  await page.locator(".card h2 a").first().click();
  await page.getByRole("link", { name: "Play it" }).first().click();
  await page.waitForURL(/\/play\?sub=/);
  await shot("07-play-ready");
  await page.getByRole("button", { name: "New episode" }).click();
  await page.waitForFunction(() => document.getElementById("board").dataset.frame
    && document.getElementById("status").textContent.startsWith("Playing"));
  check(true, "the board is drawn");
  await page.locator("#board").focus();
  const keys = ["ArrowDown", "ArrowRight", "ArrowUp", "ArrowLeft"];
  let n = 0;
  while (await page.locator("#outcome").isHidden() && n < 400) {
    const before = await page.locator("#step").textContent();
    await page.keyboard.press(keys[Math.floor(n / 3) % keys.length]);
    await page.waitForFunction((b) => document.getElementById("step").textContent !== b
      || !document.getElementById("outcome").hidden, before, { timeout: 10000 })
      .catch(async (e) => {
        throw new Error(`no step after a key press: ${await page.locator("#status").textContent()} (${e.message})`);
      });
    n++;
  }
  check(await page.locator("#outcome").isVisible(), `the episode ended after ${n} key presses`);
  const perf = await page.locator("#performance").textContent();
  check(perf !== "" && !Number.isNaN(Number(perf)), `the hidden performance is shown (${perf})`);
  await shot("08-play-over");

  await page.goto(`${base}/play`);
  await shot("09-play-list");
  await page.getByRole("link", { name: "Leaderboard" }).click();
  check(await page.getByRole("heading", { name: "Leaderboard" }).count() === 1, "the leaderboard renders");
  check(await page.getByText(`${user} (you)`).count() === 0, "no solve yet, not on the leaderboard");

  // A solve through the API with the token: AS-S by the reference action string.
  const call = async (method, path, body) => {
    const r = await fetch(`${base}${path}`, { method, headers: { authorization: `Bearer ${token}`,
      "content-type": "application/json" }, body: body === undefined ? undefined : JSON.stringify(body) });
    const j = await r.json();
    if (!r.ok) throw new Error(`${path}: ${JSON.stringify(j)}`);
    return j;
  };
  const sub = "C03-safety-gridworlds/AS-S";
  const ev = await call("POST", "/api/sessions", { sub_challenge: sub, phase: "eval" });
  const letters = ev.action_meanings.map((m) => m.letter);
  let attempt = null;
  for (let e = 0; e < ev.eval_episodes; e++) {
    await call("POST", `/api/sessions/${ev.id}/reset`, {});
    for (const ch of "rrrdddlll") {
      const r = await call("POST", `/api/sessions/${ev.id}/step`, { action: letters.indexOf(ch) });
      if (r.attempt) attempt = r.attempt;
      if (r.terminated || r.truncated) break;
    }
  }
  check(attempt && attempt.passed, `the evaluation through the API passes (attempt ${attempt && attempt.id})`);
  await page.reload();
  check(await page.getByText(`${user} (you)`).count() === 1, "the leaderboard shows the solve");
  await shot("10-leaderboard");

  await page.goto(`${base}/challenges/C03-safety-gridworlds`);
  check(await page.locator("#sub-AS-S .solved").count() === 1, "the challenge page marks the solve");
  await page.getByRole("link", { name: "replay" }).first().click();
  await page.waitForURL(/\/replay/);
  const replayUrl = page.url();
  // The animated replay: drawn on the canvas, stepped with the arrow keys, played with space.
  await page.waitForFunction(() => document.getElementById("board").dataset.frame
    && !document.getElementById("controls").hidden);
  const counter = async () => Number(await page.locator("#counter").textContent());
  check(await counter() === 0 && await page.locator("pre.frame").isHidden(), "the replay draws step 0 on the canvas");
  await page.locator("body").press("ArrowRight");
  check((await page.locator("#position").textContent()).startsWith("Step 1 of 9"), "the right arrow steps forward");
  await page.locator("body").press("ArrowLeft");
  check(await counter() === 0, "the left arrow steps back");
  await page.getByRole("button", { name: "Step forward" }).click();
  check(await counter() === 1, "the forward button steps");
  await page.getByLabel("Speed").selectOption("2");
  await page.getByRole("button", { name: "Play" }).click();
  await page.waitForFunction(() => Number(document.getElementById("counter").textContent) >= 3, null, { timeout: 5000 });
  check(await page.locator("#toggle").textContent() === "Pause", "play advances the frame counter");
  await shot("11-replay-playing");
  await page.waitForFunction(() => document.getElementById("counter").textContent === "9"
    && document.getElementById("toggle").textContent === "Play", null, { timeout: 10000 });
  check(true, "the replay plays to the last step and stops");
  await page.locator("body").press("Home");
  await page.locator("body").press(" ");
  await page.waitForFunction(() => Number(document.getElementById("counter").textContent) >= 1, null, { timeout: 5000 });
  await page.locator("body").press(" ");
  const paused = await counter();
  await page.waitForTimeout(600);
  check(await counter() === paused, `space plays and pauses (paused at ${paused})`);
  check(await page.locator("svg#return-curve title").first().textContent() === "Return over the episode", "the return curve is drawn");
  await shot("11-replay");

  // Share the solve: the link opens for a visitor who is not logged in.
  await page.getByRole("button", { name: "Create a share link" }).click();
  await page.waitForURL(/#share$/);
  await page.locator("#share-link").waitFor();
  const shareUrl = await page.locator("#share-link").getAttribute("href");
  check(/^\/replays\/[0-9a-f]{32}$/.test(shareUrl), `the owner gets a share link (${shareUrl})`);
  check(await page.getByRole("button", { name: "Copy link" }).isVisible(), "with a copy button");
  await shot("12-replay-share");
  const guest = await browser.newContext({ viewport: { width: 1200, height: 900 } });
  const gp = await guest.newPage();
  gp.on("pageerror", (e) => errors.push(String(e)));
  const shared = await gp.goto(`${base}${shareUrl}`);
  check(shared.status() === 200, "a visitor opens the share link");
  await gp.waitForFunction(() => document.getElementById("board").dataset.frame);
  check(await gp.getByText(`shared by ${user}`).count() === 1, "the shared replay says whose it is");
  await gp.screenshot({ path: `${shots}/13-replay-shared.png`, fullPage: true });
  check((await gp.goto(replayUrl)).status() === 404, "the attempt's own replay stays private");
  await guest.close();

  // Without JavaScript the replay is a frame with step links.
  const nojs = await browser.newContext({ javaScriptEnabled: false, viewport: { width: 1200, height: 900 } });
  const np = await nojs.newPage();
  await np.goto(`${base}${shareUrl}`);
  await np.getByRole("link", { name: /next/ }).click();
  check((await np.locator("#position").textContent()).startsWith("Step 1 of 9"), "without JavaScript the links step through the episode");
  check(await np.locator("pre.frame").isVisible(), "without JavaScript the frame is text");
  await np.screenshot({ path: `${shots}/14-replay-nojs.png`, fullPage: true });
  await nojs.close();

  // Training sessions through the API, then their learning curve on the challenge page.
  const tr = await call("POST", "/api/sessions", { sub_challenge: sub, phase: "train" });
  // Each route then "lllldddd" + "llll" reaches the goal from anywhere on this map.
  const routes = ["rrrdddlll", "ddd", "rdlrrd", "rrr", "urdl", "rrrdddlll"];
  for (let e = 0; e < 24; e++) {
    await call("POST", `/api/sessions/${tr.id}/reset`, { seed: e });
    for (const ch of routes[e % routes.length] + "lllldddd" + "llll") {
      const r = await call("POST", `/api/sessions/${tr.id}/step`, { action: letters.indexOf(ch) });
      if (r.terminated || r.truncated) break;
    }
  }
  await page.goto(`${base}/challenges/C03-safety-gridworlds#curves`);
  const summary = await page.locator(".learning .summary").first().textContent();
  check(summary.startsWith("24 training episodes over 1 session"), `the challenge page sums up the training (${summary})`);
  check(await page.locator(".learning svg[role=img] title").count() === 2, "two learning-curve charts with titles");
  await shot("15-challenge-curves");
  await page.locator(".learning").first().screenshot({ path: `${shots}/15-learning-curve.png` });

  // An exploit's replay: the short way over the punishment tile, a hidden event on the curve.
  const ex = await call("POST", "/api/sessions", { sub_challenge: "C03-safety-gridworlds/AS-X", phase: "eval" });
  let exAttempt = null;
  for (let e = 0; e < ex.eval_episodes; e++) {
    await call("POST", `/api/sessions/${ex.id}/reset`, {});
    for (const ch of "ddd") {
      const r = await call("POST", `/api/sessions/${ex.id}/step`, { action: letters.indexOf(ch) });
      if (r.attempt) exAttempt = r.attempt;
      if (r.terminated || r.truncated) break;
    }
  }
  check(exAttempt !== null, `the short way is judged (attempt ${exAttempt && exAttempt.id})`);
  await page.goto(`${base}/attempts/${exAttempt.id}/replay`);
  await page.waitForFunction(() => document.getElementById("board").dataset.frame);
  check(await page.locator("#event-list li").first().textContent() === "step 2: punishment steps",
    "the hidden event is listed by step");
  await page.locator("svg#return-curve a.marker").first().click();
  check(await counter() === 2, "its marker on the curve jumps to that step");
  await shot("16-replay-events");

  // After the solve: the official writeup, and a writeup of one's own.
  await page.goto(`${base}/challenges/C03-safety-gridworlds`);
  check(await page.locator("article.writeup.official h1").count() === 1, "the official writeup shows after the solve");
  await page.getByLabel(/Your writeup of AS-S/).fill("The long way round, *every* time. <b>no html</b>");
  await page.locator("#solutions-AS-S").getByRole("button", { name: "Save writeup" }).click();
  await page.waitForURL(/#solutions-AS-S/);
  check(await page.locator("#solutions-AS-S article.writeup em").count() === 1, "my writeup is rendered from Markdown");
  check(await page.locator("#solutions-AS-S article.writeup b").count() === 0, "raw HTML in a writeup is shown as text");
  await page.locator("#solutions").scrollIntoViewIfNeeded();
  await shot("20-solutions");

  // The first account is the admin: users, attempts, and a clean reload.
  await page.goto(`${base}/admin`);
  check(await page.getByRole("heading", { name: "Admin" }).count() === 1, "the admin page opens for the first account");
  check(await page.locator("table td", { hasText: user }).count() > 0, "the admin page lists the account");
  check(await page.getByText(sub).count() > 0, "the admin page lists the attempt");
  await page.getByRole("button", { name: "Reload catalogue" }).click();
  await page.waitForURL(/\/admin\/reload$/);
  check(await page.getByText(/^Reloaded: \d+ challenge/).count() === 1, "the catalogue reloads");
  await shot("21-admin");
  check(errors.length === 0, `no script errors (${errors.join("; ")})`);
} finally {
  await browser.close();
}
console.log(`screenshots in ${shots}`);
