/// The dashboard's script, part one: DOM and formatting helpers, the REST client (bearer
/// token on mutations, the API's error shape turned into a message), the poll loop and
/// the buttons' actions. Plain JavaScript, no framework, same-origin calls only. The
/// region renderers are in DashboardRender.swift. API data reaches the DOM only as text
/// nodes and attribute values, never as markup.
extension DashboardPage {
    static let script = #"""
    "use strict";

    // ---- DOM and formatting helpers --------------------------------------------------

    /** Builds an element. `props`: class, data (dataset), on<event>, else attributes. */
    function h(tag, props, ...children) {
      const node = document.createElement(tag);
      for (const [key, value] of Object.entries(props || {})) {
        if (value === undefined || value === null || value === false) continue;
        if (key === "class") node.className = value;
        else if (key === "data") {
          for (const [name, item] of Object.entries(value)) {
            if (item !== undefined && item !== null) node.dataset[name] = String(item);
          }
        } else if (key.startsWith("on") && typeof value === "function") node.addEventListener(key.slice(2), value);
        else node.setAttribute(key, value === true ? "" : String(value));
      }
      return append(node, ...children);
    }

    /** Appends `children` (nested arrays flattened; null, undefined and false left out) as nodes or text. */
    function append(node, ...children) {
      for (const child of children.flat(Infinity)) {
        if (child === undefined || child === null || child === false) continue;
        node.append(child instanceof Node ? child : document.createTextNode(String(child)));
      }
      return node;
    }

    /** Replaces what `node` holds with `children`, as append() takes them. */
    function fill(node, ...children) {
      node.replaceChildren();
      return append(node, ...children);
    }

    const NONE = "—";
    const byId = (id) => document.getElementById(id);
    const present = (value) => value !== undefined && value !== null && value !== "";
    const show = (value) => (present(value) ? String(value) : NONE);
    const mono = (value) => h("span", { class: "mono" }, show(value));
    const th = (label, numeric) => h("th", { class: numeric ? "num" : null }, label);
    const num = (value) => h("td", { class: "num" }, present(value) ? String(value) : NONE);

    /** "2026-11-23 14:34:09 UTC" from the API's ISO 8601 timestamps. */
    function when(iso) {
      if (!present(iso)) return NONE;
      return String(iso).replace("T", " ").replace(/\.\d+/, "").replace(/Z$/, " UTC");
    }

    function percent(ratio) {
      return typeof ratio === "number" && isFinite(ratio) ? (ratio * 100).toFixed(1) + " %" : NONE;
    }

    function elapsed(iso) {
      const then = Date.parse(iso);
      if (isNaN(then)) return "";
      const seconds = Math.max(0, Math.round((Date.now() - then) / 1000));
      if (seconds < 90) return seconds + " s ago";
      if (seconds < 5400) return Math.round(seconds / 60) + " min ago";
      if (seconds < 172800) return Math.round(seconds / 3600) + " h ago";
      return Math.round(seconds / 86400) + " days ago";
    }

    /** A span kept current by tick(): "12 s ago". */
    const since = (iso) => h("span", { class: "elapsed muted", data: { since: iso } }, elapsed(iso));
    function tick() {
      for (const span of document.querySelectorAll(".elapsed")) span.textContent = elapsed(span.dataset.since);
    }

    const TONE = {
      SYNCED: "is-ok", STALE: "is-warn", NACKED: "is-bad",
      healthy: "is-ok", unhealthy: "is-bad", draining: "is-warn",
      running: "is-info", completed: "is-ok", promoted: "is-ok", aborted: "is-bad",
      auto: "is-ok", manual: "is-warn",
    };
    const badge = (word, tone) => h("span", { class: "badge " + (tone || TONE[word] || "") }, show(word));

    /** Versions like v7 sort by number, newest first. */
    function byVersionDescending(a, b) {
      return b.localeCompare(a, undefined, { numeric: true });
    }

    // ---- The REST API ----------------------------------------------------------------

    class APIError extends Error {
      constructor(status, code, message, field) {
        super(message);
        this.status = status;
        this.code = code;
        this.field = field;
      }
    }

    const TOKEN_KEY = "sextant.apiToken";
    let tokenFallback = "";  // when sessionStorage is unavailable
    function readToken() {
      try { return sessionStorage.getItem(TOKEN_KEY) || ""; } catch (_) { return tokenFallback; }
    }
    function storeToken(value) {
      tokenFallback = value;
      try {
        if (value) sessionStorage.setItem(TOKEN_KEY, value); else sessionStorage.removeItem(TOKEN_KEY);
      } catch (_) { /* kept in memory only */ }
    }

    /**
     * One call; resolves to the parsed JSON body (null when empty) or rejects with an
     * APIError carrying the server's message. Reads never send the token; every other
     * method sends it as a bearer token when one was entered.
     */
    async function api(method, path) {
      const headers = { "Accept": "application/json" };
      const token = readToken().trim();
      if (method !== "GET" && token) {
        if (/[^\x21-\x7e]/.test(token)) {
          throw new APIError(0, "bad_token", "the API token may only hold printable ASCII characters without spaces");
        }
        headers["Authorization"] = "Bearer " + token;
      }
      let response;
      try {
        response = await fetch(path, { method, headers, cache: "no-store", credentials: "same-origin" });
      } catch (error) {
        throw new APIError(0, "unreachable", "the API did not answer (" + error.message + ")");
      }
      const raw = await response.text().catch(() => "");
      let body = null, parsed = true;
      if (raw) {
        try { body = JSON.parse(raw); } catch (_) { parsed = false; }
      }
      if (response.ok) {
        if (!parsed) throw new APIError(response.status, "bad_answer", "the answer to " + path + " is not JSON");
        return body;
      }
      const detail = (body && typeof body.error === "object" && body.error) || {};
      if (response.status === 401) {
        throw new APIError(401, "unauthorized", "the API token is missing or wrong" + (detail.message ? " (" + detail.message + ")" : ""));
      }
      const message = detail.message || "HTTP " + response.status + (response.statusText ? " " + response.statusText : "");
      throw new APIError(response.status, detail.code || "http_" + response.status, message, detail.field);
    }

    /** A settled call as plain data, so a region re-renders only when its data changed. */
    function settle(result) {
      if (result.status === "fulfilled") return { ok: true, value: result.value };
      const error = result.reason || {};
      return { ok: false, status: error.status || 0, message: error.message || String(error) };
    }

    const failed = (input) => h("p", { class: "failed", data: { status: input.status } }, "Could not load: " + input.message);

    // ---- Messages --------------------------------------------------------------------

    let messageTimer = null;
    /** The banner under the header: kind "ok" (fades after a while) or "error" (stays). */
    function say(kind, text) {
      const box = byId("message");
      clearTimeout(messageTimer);
      box.className = kind;
      box.dataset.kind = kind;
      fill(box,
        h("span", { class: "text" }, text),
        h("button", { type: "button", onclick: () => { box.hidden = true; } }, "dismiss"));
      box.hidden = false;
      if (kind === "ok") messageTimer = setTimeout(() => { box.hidden = true; }, 8000);
    }

    /** Runs a mutation and reports its outcome; a 401 says what to do about the token. */
    async function act(what, method, path, describe) {
      try {
        const body = await api(method, path);
        say("ok", describe(body || {}));
      } catch (error) {
        const What = what.charAt(0).toUpperCase() + what.slice(1);
        if (error.status === 401) {
          say("error", What + " was refused: the API token is missing or wrong. Enter the token (sextant serve --api-token) in the field at the top right.");
        } else {
          say("error", What + " failed: " + error.message + (error.field ? " (field " + error.field + ")" : ""));
        }
      }
      refresh();
    }

    function rollback(version) {
      const question = "Roll back to " + version + "?\n\nIts content is published again as a new version, and publishing switches to manual mode.";
      if (!confirm(question)) return;
      act("rollback to " + version, "POST", "/v1/snapshots/" + encodeURIComponent(version) + "/rollback",
        (body) => "Published " + show(body.version) + " (content of " + show(body.rolled_back_to || version) + "); mode " + show(body.mode) + ".");
    }

    function promote() {
      act("promote", "POST", "/v1/rollouts/current/promote",
        (body) => "Rollout promoted" + (body.version ? ": every proxy gets " + body.version : "") + ".");
    }

    function abortRollout() {
      if (!confirm("Abort the rollout? Every proxy goes back to the previous version.")) return;
      act("abort", "POST", "/v1/rollouts/current/abort",
        (body) => "Rollout aborted" + (body.previous_version ? ": proxies go back to " + body.previous_version : "") + ".");
    }

    // ---- Polling ---------------------------------------------------------------------

    const POLL_MS = 2000;
    let pollTimer = null, polling = false, pollAgain = false;
    const lastRendered = {};

    /** Renders a region only when its input changed (keeps selections and focus). */
    function renderIfChanged(key, input, render) {
      const fingerprint = JSON.stringify(input);
      if (lastRendered[key] === fingerprint) return;
      render(input);
      lastRendered[key] = fingerprint;
    }

    async function pollOnce() {
      const [proxies, snapshots, services, rollout, rollouts] = (await Promise.allSettled([
        api("GET", "/v1/proxies"),
        api("GET", "/v1/snapshots"),
        api("GET", "/v1/services"),
        api("GET", "/v1/rollouts/current"),
        api("GET", "/v1/rollouts"),
      ])).map(settle);
      const names = services.ok ? ((services.value && services.value.services) || []).map((service) => service.name) : [];
      const loads = (await Promise.allSettled(
        names.map((name) => api("GET", "/v1/services/" + encodeURIComponent(name) + "/load")))).map(settle);

      const maxErrorRatio = rollout.ok && rollout.value && typeof rollout.value.max_error_ratio === "number"
        ? rollout.value.max_error_ratio : null;
      const problems = [];
      const regions = [
        ["rollout", { current: rollout, history: rollouts }, renderRollout],
        ["proxies", proxies, renderProxies],
        ["snapshots", snapshots, renderSnapshots],
        ["services", services, renderServices],
        ["load", { services: names, loads, maxErrorRatio }, renderLoad],
        ["summary", { proxies, snapshots, rollout }, renderSummary],
      ];
      for (const [key, input, render] of regions) {
        try {
          renderIfChanged(key, input, render);
        } catch (error) {
          problems.push(key + ": " + error.message);
          console.error(error);
        }
      }
      tick();

      // 404 is an answer for a rollout (none yet) and for load (none reported).
      const failures = [proxies, snapshots, services, rollout, rollouts, ...loads].filter((input) => !input.ok && input.status !== 404).length;
      const status = byId("status");
      const down = [proxies, snapshots, services].every((input) => !input.ok && input.status === 0);
      status.classList.toggle("down", down || failures > 0 || problems.length > 0);
      if (down) status.textContent = "API unreachable, retrying (" + proxies.message + ")";
      else if (problems.length) status.textContent = "display error: " + problems.join("; ");
      else {
        status.textContent = "updated " + new Date().toLocaleTimeString() + " · every " + POLL_MS / 1000 + " s"
          + (failures ? " · " + failures + (failures === 1 ? " call" : " calls") + " failed" : "");
      }
    }

    async function poll() {
      if (polling) { pollAgain = true; return; }
      polling = true;
      clearTimeout(pollTimer);
      try {
        await pollOnce();
      } catch (error) {
        console.error(error);
        byId("status").textContent = "poll failed: " + error.message;
      } finally {
        polling = false;
        // Headless tests wait for this: the first complete poll has rendered.
        if (document.body.dataset.loaded !== "yes") document.body.dataset.loaded = "yes";
        pollTimer = setTimeout(poll, pollAgain ? 0 : POLL_MS);
        pollAgain = false;
      }
    }

    /** Poll now (after an action), without overlapping a poll under way. */
    function refresh() {
      poll();
    }

    function start() {
      const input = byId("token");
      input.value = readToken();
      input.addEventListener("input", () => storeToken(input.value.trim()));
      // Enter in the field would submit the form and reload the page.
      byId("token-form").addEventListener("submit", (event) => event.preventDefault());
      poll();
    }

    if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
    else start();
    """#
}
