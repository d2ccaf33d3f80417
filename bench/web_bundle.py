"""Dashboard weight and first-load time: the gzipped JS the browser downloads, and how long
Chromium takes to show a page, served by the real API from a production build on loopback.

    .venv/bin/python bench/web_bundle.py              # build web/ into a temp dir, 7 loads each
    .venv/bin/python bench/web_bundle.py --loads 15 --dist web/dist

Each load is cold: a fresh browser context (empty cache). Timings come from the page's own
Navigation Timing and from polling until the rendered page shows its heading.
"""

from __future__ import annotations

import argparse
import gzip
import json
import logging
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from backend.api.app import create_app
from backend.settings import Settings
from tests.api.server import serve
from tests.web.seed import seed

WEB = Path(__file__).resolve().parents[1] / "web"
BUDGET_KB = 500

# Runs in web/ so playwright-core resolves; prints one JSON line per load.
LOADER = r"""
import { chromium } from "playwright-core";
const [base, token, loads] = [process.env.URL, process.env.TOKEN, Number(process.env.LOADS)];
const browser = await chromium.launch({ executablePath: "/usr/bin/chromium", args: [
  "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
  "--disable-background-networking", "--disable-component-update", "--disable-sync"] });
async function load(path, heading, auth) {
  const context = await browser.newContext();
  if (auth) await context.addInitScript((t) => sessionStorage.setItem("faultline.token", t), token);
  const page = await context.newPage();
  await page.goto(base + path);
  await page.getByRole("heading", { name: heading }).waitFor({ timeout: 0 });
  const shown = await page.evaluate(() => performance.now());
  const nav = await page.evaluate(() => performance.getEntriesByType("navigation")[0].toJSON());
  await context.close();
  return { path, dcl: nav.domContentLoadedEventEnd, load: nav.loadEventEnd, shown };
}
for (let i = 0; i < loads; i++) {
  console.log(JSON.stringify(await load("/login", "Faultline", false)));
  console.log(JSON.stringify(await load("/", "Overview", true)));
}
await browser.close();
"""


def bundle_sizes(dist: Path) -> dict[str, tuple[int, int]]:
    sizes = {}
    for f in sorted((dist / "assets").iterdir()):
        data = f.read_bytes()
        sizes[f.name] = (len(data), len(gzip.compress(data, compresslevel=9)))
    return sizes


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--loads", type=int, default=7)
    parser.add_argument("--dist", type=Path, help="an existing build (default: build one now)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="faultline-web-bench-") as tmp:
        dist = args.dist or Path(tmp) / "dist"
        if args.dist is None:
            vite = str(WEB / "node_modules/.bin/vite")
            build = [vite, "build", "--outDir", str(dist), "--emptyOutDir"]
            subprocess.run(build, cwd=WEB, check=True, stdout=subprocess.DEVNULL)
        sizes = bundle_sizes(dist)
        js_gz = sum(gz for name, (_, gz) in sizes.items() if name.endswith(".js"))
        print("bundle (production build):")
        for name, (raw, gz) in sizes.items():
            print(f"  {name:32s} {raw / 1024:8.1f} KiB  gzip {gz / 1024:7.1f} KiB")
        verdict = "within" if js_gz / 1024 < BUDGET_KB else "OVER"
        print(f"  total JS gzip: {js_gz / 1024:.1f} KiB ({verdict} the {BUDGET_KB} KiB budget)")

        settings = Settings(data_dir=Path(tmp) / "data", housekeeping_enabled=False,
                            log_level="WARNING")  # fmt: skip
        app = create_app(settings, web_dist=dist, configure_logs=False)
        logging.getLogger("faultline").setLevel(logging.ERROR)  # no throwaway-token banner
        with serve(app) as server:
            token = str(app.state.initial_admin_token)
            auth = {"Authorization": f"Bearer {token}"}
            with httpx.Client(base_url=server.base_url, headers=auth) as api:
                seed(api, app.state.sessions)
            env = {
                "URL": server.base_url,
                "TOKEN": token,
                "LOADS": str(args.loads),
                "PATH": "/usr/bin:/bin",
            }
            out = subprocess.run(
                ["node", "--input-type=module", "-e", LOADER],
                cwd=WEB, env=env, check=True, capture_output=True, text=True,
            ).stdout  # fmt: skip
    rows = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    print(f"first load, cold cache, loopback, {args.loads} loads each (median [min..max] ms):")
    for path, label in (("/login", "login page"), ("/", "overview with seeded data")):
        for key, what in (("dcl", "DOMContentLoaded"), ("load", "load event"),
                          ("shown", "heading rendered")):  # fmt: skip
            values = [r[key] for r in rows if r["path"] == path]
            print(f"  {label:27s} {what:17s} {statistics.median(values):7.1f} "
                  f"[{min(values):.1f}..{max(values):.1f}]")  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
