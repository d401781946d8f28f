#!/usr/bin/env python3
"""Screenshots of BOH pages at desktop and phone width, for looking at the UI.

Drives Debian's chromium through chromedriver with plain WebDriver HTTP calls (no Python
packages needed). Logs in as a demo user, then saves one PNG per page and width.

    scripts/screenshots.py --base http://127.0.0.1:8080 --user admin --password … \
        --out target/screenshots /inventory /inventory/items "/inventory/stock?low=true"

Options: --lang zh-CN|en (default en), --widths 1280,390.
"""

import argparse
import base64
import json
import os
import re
import socket
import subprocess
import sys
import time
import urllib.request


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Driver:
    def __init__(self, url):
        self.url = url
        caps = {
            "capabilities": {
                "alwaysMatch": {
                    "browserName": "chrome",
                    "goog:chromeOptions": {
                        "binary": "/usr/bin/chromium",
                        "args": [
                            "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic",
                            "--no-first-run", "--disable-background-networking",
                            "--disable-component-update", "--disable-sync",
                            "--hide-scrollbars", "--force-device-scale-factor=1",
                        ],
                    },
                }
            }
        }
        self.sid = self.call("POST", "/session", caps)["sessionId"]

    def call(self, method, path, body=None):
        data = json.dumps(body).encode() if body is not None else None
        if method == "POST" and data is None:
            data = b"{}"
        req = urllib.request.Request(self.url + path, data=data, method=method,
                                     headers={"content-type": "application/json"})
        with urllib.request.urlopen(req, timeout=60) as r:
            return json.loads(r.read() or b"{}").get("value", {})

    def s(self, method, path, body=None):
        return self.call(method, f"/session/{self.sid}{path}", body)

    def go(self, url):
        self.s("POST", "/url", {"url": url})

    def find(self, css):
        el = self.s("POST", "/element", {"using": "css selector", "value": css})
        return next(iter(el.values()))

    def type(self, css, text):
        self.s("POST", f"/element/{self.find(css)}/value", {"text": text})

    def click(self, css):
        self.s("POST", f"/element/{self.find(css)}/click")

    def resize(self, w, h):
        self.s("POST", "/window/rect", {"width": w, "height": h})

    def script(self, js):
        return self.s("POST", "/execute/sync", {"script": js, "args": []})

    def shot(self, path):
        # Grow the window to the page's height so the whole page is captured.
        height = self.script("return Math.max(document.body.scrollHeight, 600);")
        rect = self.s("GET", "/window/rect")
        self.resize(rect["width"], min(int(height) + 120, 6000))
        png = base64.b64decode(self.s("GET", "/screenshot"))
        with open(path, "wb") as f:
            f.write(png)

    def quit(self):
        try:
            self.call("DELETE", f"/session/{self.sid}")
        except Exception:
            pass


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--base", required=True)
    ap.add_argument("--user", default="admin")
    ap.add_argument("--password", default=os.environ.get("BOH_DEMO_PASSWORD", ""))
    ap.add_argument("--out", default="target/screenshots")
    ap.add_argument("--lang", default="en")
    ap.add_argument("--widths", default="1280,390")
    ap.add_argument("paths", nargs="+")
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    port = free_port()
    proc = subprocess.Popen(["chromedriver", f"--port={port}"], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        for _ in range(50):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/status", timeout=1)
                break
            except Exception:
                time.sleep(0.1)
        d = Driver(f"http://127.0.0.1:{port}")
        try:
            d.resize(1280, 900)
            d.go(a.base + "/login")
            d.type("input[name=username]", a.user)
            d.type("input[name=password]", a.password)
            d.click("button[type=submit]")
            time.sleep(0.5)
            # Demo users start in Chinese; the language switch toggles it for the account.
            lang = d.script("return document.documentElement.lang;")
            if a.lang and lang != a.lang:
                d.click("#lang-switch")
                time.sleep(0.5)
            for path in a.paths:
                for w in [int(x) for x in a.widths.split(",")]:
                    d.resize(w, 900)
                    d.go(a.base + path)
                    time.sleep(0.3)
                    name = re.sub(r"[^a-zA-Z0-9]+", "_", path).strip("_") or "home"
                    out = os.path.join(a.out, f"{name}_{a.lang}_{w}.png")
                    d.shot(out)
                    print(out)
        finally:
            d.quit()
    finally:
        proc.terminate()


if __name__ == "__main__":
    sys.exit(main())
