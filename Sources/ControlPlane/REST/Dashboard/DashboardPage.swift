/// The dashboard served at `GET /ui`: one self-contained page (HTML, CSS and script in
/// the binary, nothing fetched from elsewhere) that reads the same REST API as the CLI
/// (docs/rest-api.md, "Dashboard"). This file holds the markup and assembles the page;
/// the stylesheet is in DashboardStyle.swift, the script in DashboardScript.swift (API
/// calls, polling, actions) and DashboardRender.swift (one function per region).
///
/// The pieces are raw string literals (`#"""`) so the CSS and JavaScript need no
/// escaping; none of them may contain the literal's closing delimiter.
enum DashboardPage {
    static let html = [head, "<style>", style, "</style>", "</head>", body, "<script>", script, render, "</script>", "</body>", "</html>", ""]
        .joined(separator: "\n")

    static let head = #"""
    <!doctype html>
    <html lang="en">
    <head>
    <meta charset="utf-8">
    <meta name="viewport" content="width=device-width, initial-scale=1">
    <title>Sextant</title>
    """#

    /// The regions carry stable ids (`proxies`, `snapshots`, `services`, `load`,
    /// `rollout`) and their rows `data-` attributes, which tests assert on.
    static let body = #"""
    <body>
    <header class="top">
      <h1><span>&#9678;</span> Sextant</h1>
      <div id="summary"></div>
      <div id="status">loading…</div>
      <form id="token-form" autocomplete="off">
        <label class="token" title="Sent as Authorization: Bearer on every change; kept in this tab only (sessionStorage)">
          API token
          <input id="token" type="password" autocomplete="off" spellcheck="false" placeholder="needed for changes">
        </label>
      </form>
    </header>
    <div id="message" role="status" aria-live="polite" hidden></div>
    <main class="grid">
      <section id="rollout" class="card wide" data-state="none">
        <h2>Rollout</h2>
        <div id="rollout-current"><p class="empty">loading…</p></div>
        <h3>History</h3>
        <div id="rollout-history"></div>
      </section>
      <section id="proxies" class="card wide">
        <h2>Proxies <span class="count"></span></h2>
        <div class="content"><p class="empty">loading…</p></div>
      </section>
      <section id="snapshots" class="card">
        <h2>Snapshots <span class="count"></span></h2>
        <div class="meta"></div>
        <div class="content"><p class="empty">loading…</p></div>
        <div id="diff" hidden></div>
      </section>
      <section id="services" class="card">
        <h2>Services <span class="count"></span></h2>
        <div class="content"><p class="empty">loading…</p></div>
      </section>
      <section id="load" class="card">
        <h2>Load <span class="count">by version, as reported by the proxies</span></h2>
        <div class="content"><p class="empty">loading…</p></div>
      </section>
    </main>
    """#
}
