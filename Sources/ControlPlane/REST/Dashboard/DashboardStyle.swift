/// The dashboard's stylesheet (`GET /ui`). It lives in the binary like the rest of the
/// page: no external fonts or frameworks, so the dashboard works on an offline host.
/// Kept apart from the markup and the script so each piece stays readable.
extension DashboardPage {
    static let style = #"""
    :root {
      --bg: #f4f5f7; --card: #ffffff; --ink: #1d2330; --muted: #667085; --line: #e3e6eb;
      --accent: #2f5bd3; --ok: #17803d; --ok-bg: #e4f4e9; --warn: #a15c00; --warn-bg: #fdf1dc;
      --bad: #c0262d; --bad-bg: #fde8e8; --idle: #6b7280; --idle-bg: #eef0f3;
      --mono: ui-monospace, "SF Mono", "Cascadia Mono", Menlo, Consolas, "DejaVu Sans Mono", monospace;
      color-scheme: light dark;
    }
    @media (prefers-color-scheme: dark) {
      :root {
        --bg: #111418; --card: #1a1f26; --ink: #e6e9ee; --muted: #9aa3b2; --line: #2c333d;
        --accent: #7ea2ff; --ok: #5cd08a; --ok-bg: #173524; --warn: #f2b65a; --warn-bg: #3a2c14;
        --bad: #ff7b7b; --bad-bg: #411b1d; --idle: #aab2bf; --idle-bg: #262c35;
      }
    }
    * { box-sizing: border-box; }
    body {
      margin: 0; background: var(--bg); color: var(--ink);
      font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
    }
    .mono, code, .version { font-family: var(--mono); font-size: 12.5px; }
    .muted { color: var(--muted); }
    .small { font-size: 12px; }

    header.top {
      display: flex; flex-wrap: wrap; align-items: center; gap: 12px 24px;
      padding: 12px 24px; background: var(--card); border-bottom: 1px solid var(--line);
      position: sticky; top: 0; z-index: 2;
    }
    header.top h1 { margin: 0; font-size: 18px; letter-spacing: .02em; }
    header.top h1 span { color: var(--accent); }
    #summary { display: flex; flex-wrap: wrap; gap: 6px 16px; color: var(--muted); }
    #summary b { color: var(--ink); font-weight: 600; }
    #status { margin-left: auto; color: var(--muted); font-size: 12px; }
    #status.down { color: var(--bad); font-weight: 600; }
    #token-form { margin: 0; }
    label.token { display: flex; align-items: center; gap: 8px; color: var(--muted); font-size: 12px; }
    label.token input {
      width: 220px; padding: 5px 8px; border: 1px solid var(--line); border-radius: 6px;
      background: var(--bg); color: var(--ink); font-family: var(--mono);
    }

    #message {
      margin: 12px 24px 0; padding: 10px 14px; border-radius: 8px; display: flex; gap: 12px;
      align-items: flex-start; border: 1px solid transparent;
    }
    #message[hidden] { display: none; }
    #message.error { background: var(--bad-bg); color: var(--bad); border-color: var(--bad); font-weight: 600; }
    #message.ok { background: var(--ok-bg); color: var(--ok); border-color: var(--ok); }
    #message .text { flex: 1; }

    main.grid {
      display: grid; gap: 16px; padding: 16px 24px 32px;
      grid-template-columns: minmax(0, 1fr) minmax(0, 1fr);
    }
    .wide { grid-column: 1 / -1; }
    #snapshots { grid-row: span 2; }
    @media (max-width: 1000px) {
      main.grid { grid-template-columns: minmax(0, 1fr); }
      #snapshots { grid-row: auto; }
    }
    section.card {
      background: var(--card); border: 1px solid var(--line); border-radius: 10px;
      padding: 14px 16px; min-width: 0; overflow-x: auto;
    }
    section.card h2 {
      margin: 0 0 10px; font-size: 15px; display: flex; align-items: baseline; gap: 10px;
    }
    section.card h2 .count { color: var(--muted); font-weight: 400; font-size: 13px; }
    section.card h3 { margin: 16px 0 6px; font-size: 13px; color: var(--muted); font-weight: 600; }
    .meta { margin: -4px 0 10px; color: var(--muted); display: flex; flex-wrap: wrap; gap: 4px 14px; }
    .empty { color: var(--muted); font-style: italic; padding: 6px 0; }
    .failed { color: var(--bad); padding: 6px 0; }

    table { width: 100%; border-collapse: collapse; }
    th {
      text-align: left; font-weight: 600; font-size: 11.5px; text-transform: uppercase;
      letter-spacing: .04em; color: var(--muted); padding: 4px 8px; border-bottom: 1px solid var(--line);
    }
    td { padding: 6px 8px; border-bottom: 1px solid var(--line); vertical-align: top; }
    tr:last-child td { border-bottom: none; }
    td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
    tr.total td { font-weight: 600; border-top: 1px solid var(--line); }
    tr.current td:first-child { box-shadow: inset 3px 0 0 var(--accent); }

    .badge, .chip {
      display: inline-flex; align-items: center; gap: 5px; border-radius: 999px;
      padding: 1px 8px; font-size: 11.5px; font-weight: 600; white-space: nowrap;
      background: var(--idle-bg); color: var(--idle);
    }
    .chip { border-radius: 6px; font-weight: 500; margin: 0 4px 4px 0; }
    .chip .word { font-weight: 700; }
    .chip .version { font-size: 11.5px; }
    .is-ok { background: var(--ok-bg); color: var(--ok); }
    .is-warn { background: var(--warn-bg); color: var(--warn); }
    .is-bad { background: var(--bad-bg); color: var(--bad); }
    .is-info { background: var(--idle-bg); color: var(--accent); }
    .bad-text { color: var(--bad); font-weight: 600; }

    .nack {
      margin-top: 4px; padding: 6px 10px; border-left: 4px solid var(--bad); border-radius: 4px;
      background: var(--bad-bg); color: var(--bad); font-weight: 600; white-space: pre-wrap; word-break: break-word;
    }
    .nack .label { text-transform: uppercase; letter-spacing: .04em; margin-right: 6px; }

    .instance { display: flex; flex-wrap: wrap; gap: 2px 8px; align-items: baseline; }
    .labels { color: var(--muted); font-size: 11.5px; }

    button {
      font: inherit; font-size: 12px; padding: 3px 10px; border-radius: 6px; cursor: pointer;
      border: 1px solid var(--line); background: var(--card); color: var(--ink);
    }
    button:hover:not(:disabled) { border-color: var(--accent); color: var(--accent); }
    button:disabled { opacity: .45; cursor: default; }
    button.primary { background: var(--accent); border-color: var(--accent); color: #fff; }
    button.primary:hover:not(:disabled) { color: #fff; filter: brightness(1.1); }
    button.danger { border-color: var(--bad); color: var(--bad); }
    button.danger:hover:not(:disabled) { background: var(--bad); color: #fff; }
    td.actions { white-space: nowrap; text-align: right; }
    td.actions button + button { margin-left: 4px; }
    button.rollback:hover:not(:disabled) { border-color: var(--bad); color: var(--bad); }
    td.node { white-space: nowrap; }

    .rollout-head { display: flex; flex-wrap: wrap; align-items: center; gap: 8px 14px; margin-bottom: 10px; }
    .rollout-head .title { font-size: 15px; font-weight: 600; }
    .rollout-head .buttons { margin-left: auto; display: flex; gap: 8px; }
    .steps { display: flex; gap: 4px; margin: 6px 0 4px; }
    .steps .step {
      flex: 1; height: 22px; border-radius: 4px; background: var(--idle-bg); color: var(--muted);
      font-size: 11px; font-weight: 600; display: flex; align-items: center; justify-content: center;
    }
    .steps .step.done { background: var(--ok); color: #fff; }
    .steps .step.active { background: var(--accent); color: #fff; }
    .steps .step.failed { background: var(--bad); color: #fff; }
    .facts { display: flex; flex-wrap: wrap; gap: 8px 32px; margin: 12px 0 0; }
    .facts .fact { display: flex; flex-direction: column; gap: 2px; min-width: 0; }
    .facts dt { color: var(--muted); font-size: 11.5px; text-transform: uppercase; letter-spacing: .04em; font-weight: 600; }
    .facts dt .mono { text-transform: none; }
    .facts dd { margin: 0; }
    .facts dd .chip { margin-bottom: 0; }
    .reason {
      margin-top: 10px; padding: 8px 12px; border-radius: 6px; border-left: 4px solid var(--idle);
      background: var(--idle-bg); word-break: break-word;
    }
    .reason.is-bad { border-left-color: var(--bad); background: var(--bad-bg); color: var(--bad); font-weight: 600; }

    #diff { margin-top: 14px; border-top: 1px solid var(--line); padding-top: 10px; }
    #diff[hidden] { display: none; }
    #diff .diff-head { display: flex; align-items: center; gap: 10px; margin-bottom: 6px; }
    #diff .diff-head .title { font-weight: 600; }
    #diff .diff-head button { margin-left: auto; }
    .change-added { color: var(--ok); font-weight: 600; }
    .change-removed { color: var(--bad); font-weight: 600; }
    .change-changed { color: var(--warn); font-weight: 600; }
    """#
}
