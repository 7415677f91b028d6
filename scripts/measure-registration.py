#!/usr/bin/env python3
"""Median time from a REST registration's 2xx to a real Envoy routing to the new
instance (target: docs/performance.md). Run after `make build`:
    python3 scripts/measure-registration.py [samples]
Starts sextant serve, two loopback upstreams and Envoy on free ports; each sample
registers instance `b` next to `a`, polls Envoy's outbound listener until `b` answers,
then deregisters `b` and waits until only `a` answers."""
import http.server, json, os, socket, statistics, subprocess, sys, tempfile, threading, time, urllib.request

def free_port():
    s = socket.socket(); s.bind(("127.0.0.1", 0)); p = s.getsockname()[1]; s.close(); return p

def upstream(name):
    class H(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200); self.send_header("content-length", str(len(name))); self.end_headers(); self.wfile.write(name.encode())
        def log_message(self, *a): pass
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server.server_address[1]

def call(api, method, path, body=None):
    req = urllib.request.Request(f"http://127.0.0.1:{api}{path}", method=method, data=json.dumps(body).encode() if body else None,
                                 headers={"Content-Type": "application/json"})
    return urllib.request.urlopen(req, timeout=5).status

def through(listener):
    conn = socket.create_connection(("127.0.0.1", listener), timeout=2)
    conn.sendall(b"GET / HTTP/1.1\r\nHost: echo\r\nConnection: close\r\n\r\n")
    data = b""
    while chunk := conn.recv(4096): data += chunk
    conn.close()
    return data.split(b"\r\n\r\n", 1)[-1].decode()

samples = int(sys.argv[1]) if len(sys.argv) > 1 else 30
root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
binary = subprocess.check_output(["swift", "build", "--show-bin-path"], cwd=root, text=True).strip() + "/sextant"
work = tempfile.mkdtemp()
xds, api, admin, listener = free_port(), free_port(), free_port(), free_port()
port_a, port_b = upstream("a"), upstream("b")
procs = [subprocess.Popen([binary, "serve", "--data-dir", work + "/data", "--xds-address", f"127.0.0.1:{xds}", "--api-address", f"127.0.0.1:{api}"], stderr=subprocess.DEVNULL)]
try:
    boot = subprocess.check_output([binary, "bootstrap", "--node-id", "bench", "--service", "bench", "--xds-address", f"127.0.0.1:{xds}",
                                    "--admin-port", str(admin), "--outbound-port", str(listener)], text=True)
    open(work + "/envoy.yaml", "w").write(boot)
    procs.append(subprocess.Popen([root + "/.venv/bin/envoy", "-c", work + "/envoy.yaml", "--disable-hot-restart", "--log-level", "error"],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
    for _ in range(100):
        try: call(api, "GET", "/readyz"); break
        except Exception: time.sleep(0.1)
    call(api, "PUT", "/v1/services/echo", {"protocol": "http"})
    call(api, "PUT", "/v1/services/echo/instances/a", {"address": "127.0.0.1", "port": port_a})
    deadline = time.time() + 30
    while time.time() < deadline:
        try:
            if through(listener) == "a": break
        except Exception: pass
        time.sleep(0.05)
    times = []
    for _ in range(samples):
        call(api, "PUT", "/v1/services/echo/instances/b", {"address": "127.0.0.1", "port": port_b})
        start = time.perf_counter()
        while through(listener) != "b": pass
        times.append((time.perf_counter() - start) * 1000)
        call(api, "DELETE", "/v1/services/echo/instances/b")
        while any(through(listener) == "b" for _ in range(4)): time.sleep(0.005)
    print(f"registration → Envoy routes to it: median {statistics.median(times):.1f} ms, p90 {sorted(times)[int(len(times)*0.9)-1]:.1f} ms, "
          f"min {min(times):.1f} ms, max {max(times):.1f} ms over {len(times)} samples")
finally:
    for p in procs: p.terminate()
