// The website in a real browser: register, log in, open a challenge, unlock a hint, create a
// token, play an episode with the keyboard until it ends, open the leaderboard, solve AS-S through the API, see it on the leaderboard, watch its
// replay, read the official writeup and write one's own, open the admin page and reload the
// catalogue (the first account is the admin), and a screenshot of every page. Run by scripts/browser-tests.sh,
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
  await page.getByRole("link", { name: /next/ }).click();
  check(await page.getByText(/^Step 1 of 9/).count() === 1, "the replay steps through the episode");
  await shot("11-replay");

  // After the solve: the official writeup, and a writeup of one's own.
  await page.goto(`${base}/challenges/C03-safety-gridworlds`);
  check(await page.locator("article.writeup.official h1").count() === 1, "the official writeup shows after the solve");
  await page.getByLabel(/Your writeup of AS-S/).fill("The long way round, *every* time. <b>no html</b>");
  await page.getByRole("button", { name: "Save writeup" }).click();
  await page.waitForURL(/#solutions-AS-S/);
  check(await page.locator("#solutions-AS-S article.writeup em").count() === 1, "my writeup is rendered from Markdown");
  check(await page.locator("#solutions-AS-S article.writeup b").count() === 0, "raw HTML in a writeup is shown as text");
  await page.locator("#solutions").scrollIntoViewIfNeeded();
  await shot("12-solutions");

  // The first account is the admin: users, attempts, and a clean reload.
  await page.goto(`${base}/admin`);
  check(await page.getByRole("heading", { name: "Admin" }).count() === 1, "the admin page opens for the first account");
  check(await page.locator("table td", { hasText: user }).count() > 0, "the admin page lists the account");
  check(await page.getByText(sub).count() > 0, "the admin page lists the attempt");
  await page.getByRole("button", { name: "Reload catalogue" }).click();
  await page.waitForURL(/\/admin\/reload$/);
  check(await page.getByText(/^Reloaded: \d+ challenge/).count() === 1, "the catalogue reloads");
  await shot("13-admin");
  check(errors.length === 0, `no script errors (${errors.join("; ")})`);
} finally {
  await browser.close();
}
console.log(`screenshots in ${shots}`);
