/// The dashboard's script, part two: one render function per region (rollout, proxies,
/// snapshots with their diff panel, services, load, the header summary). Each takes the
/// settled API answers `pollOnce` gathered and rebuilds its region with DOM nodes; the
/// `id`s and `data-` attributes set here are what the tests look for.
extension DashboardPage {
    static let render = #"""
    // ---- Rollout ---------------------------------------------------------------------

    function reasonText(reason) {
      if (!reason || typeof reason !== "object") return null;
      switch (reason.kind) {
        case "nack":
          return "NACK from " + show(reason.node) + " on " + show(reason.type) + ": " + show(reason.message);
        case "error_ratio":
          return "error ratio " + percent(reason.ratio) + " went over the maximum of " + percent(reason.max);
        case "operator":
          return "by an operator";
        default:
          return show(reason.kind);
      }
    }

    function stepBar(rollout) {
      const steps = Array.isArray(rollout.steps) ? rollout.steps : [];
      const index = typeof rollout.step === "number" ? rollout.step : 0;
      const finished = rollout.state === "completed" || rollout.state === "promoted";
      const segments = steps.map((share, i) => {
        let phase = "";
        if (finished || i < index) phase = "done";
        else if (i === index) phase = rollout.state === "aborted" ? "failed" : "active";
        return h("div", { class: "step " + phase, data: { step: i }, title: "step " + (i + 1) + ": " + share + " % of proxies" }, share + " %");
      });
      const current = finished ? steps.length : Math.min(index + 1, steps.length);
      return h("div", {},
        h("div", {
          class: "steps", role: "progressbar", "aria-valuemin": 0, "aria-valuemax": 100,
          "aria-valuenow": present(rollout.step_percent) ? rollout.step_percent : 0,
        }, segments),
        h("div", { class: "muted small" },
          "step " + current + " of " + steps.length,
          " · " + show(rollout.step_percent) + " % of proxies on ", mono(rollout.version),
          present(rollout.step_seconds) ? " · " + rollout.step_seconds + " s per step" : "",
          rollout.state === "running" && present(rollout.step_started_at) ? [" · this step started ", since(rollout.step_started_at)] : ""));
    }

    /** One term of a rollout's facts: label over value. */
    const fact = (label, ...value) => h("div", { class: "fact" }, h("dt", {}, label), h("dd", {}, value));

    function proxiesByVersion(rollout) {
      const groups = rollout.proxies && typeof rollout.proxies === "object" ? rollout.proxies : {};
      const versions = Object.keys(groups).sort((a, b) =>
        (b === rollout.version) - (a === rollout.version) || byVersionDescending(a, b));
      if (!versions.length) return fact("Proxies", h("span", { class: "muted" }, "none connected"));
      return versions.map((version) => {
        const nodes = Array.isArray(groups[version]) ? groups[version] : [];
        return h("div", { class: "fact", data: { proxiesOn: version } },
          h("dt", {}, "Proxies on ", mono(version)),
          h("dd", {}, nodes.length ? nodes.map((node) => h("span", { class: "chip mono" }, node)) : h("span", { class: "muted" }, "none")));
      });
    }

    function renderCurrentRollout(input) {
      const target = byId("rollout-current");
      const section = byId("rollout");
      if (!input.ok) {
        if (input.status === 404) {
          section.dataset.state = "none";
          fill(target, h("p", { class: "empty" }, "No rollout has run yet."));
        } else {
          section.dataset.state = "unknown";
          fill(target, failed(input));
        }
        return;
      }
      const rollout = input.value || {};
      section.dataset.state = show(rollout.state);
      section.dataset.rollout = show(rollout.id);
      const running = rollout.state === "running";
      const over = typeof rollout.error_ratio === "number" && typeof rollout.max_error_ratio === "number"
        && rollout.error_ratio > rollout.max_error_ratio;
      const reason = reasonText(rollout.reason);
      const serious = rollout.reason && (rollout.reason.kind === "nack" || rollout.reason.kind === "error_ratio");
      fill(target,
        h("div", { class: "rollout-head" },
          h("span", { class: "title" }, "#" + show(rollout.id) + " ", mono(rollout.previous_version), " → ", mono(rollout.version)),
          badge(rollout.state),
          h("span", { class: "buttons" },
            h("button", { type: "button", class: "primary", id: "promote", disabled: !running, onclick: promote,
              title: "Send " + show(rollout.version) + " to every proxy now" }, "Promote"),
            h("button", { type: "button", class: "danger", id: "abort", disabled: !running, onclick: abortRollout,
              title: "Stop and send " + show(rollout.previous_version) + " to every proxy" }, "Abort"))),
        stepBar(rollout),
        h("dl", { class: "facts" },
          fact("Error ratio", h("span", { class: over ? "bad-text" : null }, percent(rollout.error_ratio)),
            h("span", { class: "muted" }, " (max " + percent(rollout.max_error_ratio) + ")")),
          proxiesByVersion(rollout),
          fact("Started", when(rollout.started_at)),
          present(rollout.ended_at) ? fact("Ended", when(rollout.ended_at)) : null),
        reason ? h("div", { class: "reason" + (serious ? " is-bad" : ""), data: { reason: rollout.reason.kind } },
          (rollout.state === "aborted" ? "Aborted: " : "Reason: ") + reason) : null);
    }

    function renderRolloutHistory(input) {
      const target = byId("rollout-history");
      if (!input.ok) {
        fill(target, input.status === 404 ? h("p", { class: "empty" }, "No rollouts yet.") : failed(input));
        return;
      }
      const rollouts = (input.value && input.value.rollouts) || [];
      if (!rollouts.length) {
        fill(target, h("p", { class: "empty" }, "No rollouts yet."));
        return;
      }
      fill(target, h("table", { id: "rollouts" },
        h("thead", {}, h("tr", {}, th("#"), th("Versions"), th("State"), th("Steps"), th("Started"), th("Ended"), th("Reason"))),
        h("tbody", {}, rollouts.map((rollout) => h("tr", { data: { rollout: rollout.id, state: rollout.state } },
          h("td", { class: "mono" }, show(rollout.id)),
          h("td", {}, mono(rollout.previous_version), " → ", mono(rollout.version)),
          h("td", {}, badge(rollout.state)),
          h("td", { class: "mono" }, Array.isArray(rollout.steps) ? rollout.steps.join(" → ") : NONE),
          h("td", { class: "small" }, when(rollout.started_at)),
          h("td", { class: "small" }, when(rollout.ended_at)),
          h("td", { class: "small" }, show(reasonText(rollout.reason))))))));
    }

    function renderRollout(input) {
      renderCurrentRollout(input.current);
      renderRolloutHistory(input.history);
    }

    // ---- Proxies ---------------------------------------------------------------------

    const TYPE_ORDER = ["listeners", "routes", "clusters", "endpoints", "secrets"];
    function typeRank(name) {
      const rank = TYPE_ORDER.indexOf(name);
      return rank < 0 ? TYPE_ORDER.length : rank;
    }

    function typeChip(name, status) {
      const resources = status.resources && typeof status.resources === "object" ? Object.entries(status.resources) : [];
      const notSynced = resources.filter(([, resource]) => resource && resource.status !== "SYNCED");
      const title = resources.length
        ? resources.length + " resources (delta)" + (notSynced.length ? "; not synced: " + notSynced.map(([key, resource]) => key + " " + resource.status).join(", ") : "")
        : "nonce " + show(status.nonce);
      return h("span", { class: "chip " + (TONE[status.status] || ""), data: { type: name, status: status.status }, title },
        name, " ", h("span", { class: "word" }, show(status.status)),
        " ", h("span", { class: "version" }, "sent " + show(status.version_sent) + " · acked " + show(status.version_acked)));
    }

    function proxyRow(proxy) {
      const types = proxy.types && typeof proxy.types === "object" ? proxy.types : {};
      const names = Object.keys(types).sort((a, b) => typeRank(a) - typeRank(b) || a.localeCompare(b));
      const nacks = names.filter((name) => types[name] && (types[name].status === "NACKED" || present(types[name].error)));
      const details = [proxy.address, proxy.protocol, present(proxy.streams) ? proxy.streams + (proxy.streams === 1 ? " stream" : " streams") : null]
        .filter(present).join(" · ");
      return h("tr", { data: { node: proxy.node_id, service: proxy.service, synced: proxy.synced ? "true" : "false" } },
        h("td", { class: "node" }, h("div", { class: "mono" }, h("b", {}, show(proxy.node_id))), h("div", { class: "muted small" }, details)),
        h("td", {}, show(proxy.service)),
        h("td", { data: { field: "served" } }, mono(proxy.snapshot_version), " ", proxy.synced ? badge("in sync", "is-ok") : badge("behind", "is-warn")),
        h("td", { data: { field: "pinned" } }, mono(proxy.pinned_version)),
        h("td", { data: { field: "acked" } }, mono(proxy.acked_version)),
        h("td", {},
          names.length ? names.map((name) => typeChip(name, types[name] || {})) : h("span", { class: "muted" }, "nothing requested yet"),
          nacks.map((name) => h("div", { class: "nack", data: { nackType: name } },
            h("span", { class: "label" }, "NACK"), name + " (sent " + show(types[name].version_sent) + "): " + show(types[name].error)))));
    }

    function renderProxies(input) {
      const section = byId("proxies");
      const content = section.querySelector(".content");
      const count = section.querySelector(".count");
      if (!input.ok) {
        count.textContent = "";
        fill(content, failed(input));
        return;
      }
      const proxies = (input.value && input.value.proxies) || [];
      const synced = proxies.filter((proxy) => proxy.synced).length;
      count.textContent = proxies.length + " connected · " + synced + " in sync";
      if (!proxies.length) {
        fill(content, h("p", { class: "empty" }, "No proxy is connected."));
        return;
      }
      fill(content, h("table", {},
        h("thead", {}, h("tr", {}, th("Node"), th("Service"), th("Served"), th("Pinned"), th("ACKed"), th("Per type: state, sent and ACKed version"))),
        h("tbody", {}, proxies.map(proxyRow))));
    }

    // ---- Snapshots and diffs ---------------------------------------------------------

    const COUNT_COLUMNS = [["listeners", "LDS"], ["routes", "RDS"], ["clusters", "CDS"], ["endpoints", "EDS"], ["secrets", "SDS"]];

    function renderSnapshots(input) {
      const section = byId("snapshots");
      const content = section.querySelector(".content");
      const meta = section.querySelector(".meta");
      const count = section.querySelector(".count");
      if (!input.ok) {
        fill(meta);
        count.textContent = "";
        fill(content, failed(input));
        return;
      }
      const data = input.value || {};
      const snapshots = data.snapshots || [];
      section.dataset.current = show(data.current);
      section.dataset.mode = show(data.mode);
      count.textContent = snapshots.length + " kept";
      fill(meta,
        h("span", {}, "serving ", mono(data.current)),
        h("span", {}, "mode ", badge(data.mode)),
        data.pending ? badge("changes pending", "is-warn") : h("span", {}, "nothing pending"));
      if (!snapshots.length) {
        fill(content, h("p", { class: "empty" }, "No snapshot published yet."));
        return;
      }
      const columns = COUNT_COLUMNS.filter(([type]) => type !== "secrets" || snapshots.some((s) => s.resources && s.resources.secrets));
      const rows = snapshots.map((snapshot, i) => {
        const previous = snapshots[i + 1];
        const current = snapshot.version === data.current;
        const counts = snapshot.resources || {};
        return h("tr", { class: current ? "current" : null, data: { version: snapshot.version, cause: snapshot.cause } },
          h("td", { title: "hash " + show(snapshot.content_hash) + " · " + show(snapshot.kind) },
            h("span", { class: "version" }, show(snapshot.version)), current ? [" ", badge("current", "is-info")] : null),
          h("td", { class: "small" }, when(snapshot.created_at), h("div", { class: "muted" }, show(snapshot.cause) + (snapshot.kind === "declared" ? " · declared" : ""))),
          columns.map(([type]) => num(counts[type])),
          h("td", { class: "actions" },
            h("button", {
              type: "button", class: "diff", disabled: !previous,
              title: previous ? "What changed from " + previous.version + " to " + snapshot.version : "the oldest version kept",
              onclick: () => showDiff(previous.version, snapshot.version),
            }, "diff"),
            h("button", {
              type: "button", class: "rollback", disabled: current,
              title: current ? "already served" : "Publish " + snapshot.version + "'s content again",
              onclick: () => rollback(snapshot.version),
            }, "rollback")));
      });
      fill(content, h("table", {},
        h("thead", {}, h("tr", {}, th("Version"), th("Created, cause"), columns.map(([, label]) => th(label, true)), th(""))),
        h("tbody", {}, rows)));
    }

    function closeDiff() {
      const panel = byId("diff");
      panel.hidden = true;
      fill(panel);
    }

    async function showDiff(from, to) {
      const panel = byId("diff");
      const head = h("div", { class: "diff-head" },
        h("span", { class: "title" }, "Diff ", mono(from), " → ", mono(to)),
        h("button", { type: "button", onclick: closeDiff }, "close"));
      panel.hidden = false;
      panel.dataset.from = from;
      panel.dataset.to = to;
      fill(panel, head, h("p", { class: "empty" }, "loading…"));
      let diff;
      try {
        diff = (await api("GET", "/v1/snapshots/" + encodeURIComponent(from) + "/diff/" + encodeURIComponent(to))) || {};
      } catch (error) {
        fill(panel, head, h("p", { class: "failed" }, "Could not load the diff: " + error.message));
        return;
      }
      const entries = [];
      for (const change of ["added", "removed", "changed"]) {
        for (const item of diff[change] || []) entries.push([change, item]);
      }
      const rank = (item) => typeRank(item.type);
      entries.sort(([, a], [, b]) => rank(a) - rank(b) || String(a.type).localeCompare(String(b.type)) || String(a.name).localeCompare(String(b.name)));
      const sign = { added: "+", removed: "−", changed: "~" };
      const summary = ["added", "removed", "changed"].map((change) => (diff[change] || []).length + " " + change).join(" · ");
      fill(panel, head,
        entries.length
          ? [h("p", { class: "muted small" }, summary),
             h("table", {},
               h("thead", {}, h("tr", {}, th("Change"), th("Type"), th("Name"))),
               h("tbody", {}, entries.map(([change, item]) => h("tr", { data: { change, type: item.type, name: item.name } },
                 h("td", { class: "change-" + change }, sign[change] + " " + change),
                 h("td", {}, show(item.type)),
                 h("td", { class: "mono" }, show(item.name))))))]
          : h("p", { class: "empty" }, diff.identical ? "Identical content." : "No resource differs."));
    }

    // ---- Services --------------------------------------------------------------------

    function instanceLine(instance) {
      const labels = instance.labels && typeof instance.labels === "object" ? Object.entries(instance.labels) : [];
      return h("div", { class: "instance", data: { instance: instance.id, health: instance.health } },
        h("span", { class: "mono" }, show(instance.id)),
        h("span", { class: "mono" }, show(instance.address) + ":" + show(instance.port)),
        badge(instance.health),
        present(instance.health_set) && instance.health_set !== instance.health ? h("span", { class: "muted small" }, "(set " + instance.health_set + ")") : null,
        present(instance.zone) ? h("span", { class: "muted small" }, "zone " + instance.zone) : null,
        labels.length ? h("span", { class: "labels mono" }, labels.map(([key, value]) => key + "=" + value).join(" ")) : null);
    }

    function renderServices(input) {
      const section = byId("services");
      const content = section.querySelector(".content");
      const count = section.querySelector(".count");
      if (!input.ok) {
        count.textContent = "";
        fill(content, failed(input));
        return;
      }
      const services = (input.value && input.value.services) || [];
      count.textContent = String(services.length);
      if (!services.length) {
        fill(content, h("p", { class: "empty" }, "No service registered."));
        return;
      }
      fill(content, h("table", {},
        h("thead", {}, h("tr", {}, th("Service"), th("Protocol"), th("Instances"))),
        h("tbody", {}, services.map((service) => {
          const policy = service.policy || {};
          const instances = service.instances || [];
          const healthy = instances.filter((instance) => instance.health === "healthy").length;
          return h("tr", { data: { service: service.name } },
            h("td", {}, h("b", { class: "mono" }, show(service.name)), h("div", { class: "muted small" }, healthy + " of " + instances.length + " healthy")),
            h("td", { class: "mono" }, show(policy.protocol) + (present(policy.port) ? " :" + policy.port : "")),
            h("td", {}, instances.length ? instances.map(instanceLine) : h("span", { class: "muted" }, "no instances")));
        }))));
    }

    // ---- Load ------------------------------------------------------------------------

    function loadRows(name, input, maxErrorRatio) {
      const limit = typeof maxErrorRatio === "number" ? maxErrorRatio : 0.05;
      const ratio = (value) => h("td", { class: "num" + (typeof value === "number" && value > limit ? " bad-text" : "") }, percent(value));
      const note = (content) => [h("tr", { data: { service: name } }, h("td", { class: "mono" }, name), h("td", { colspan: 6 }, content))];
      if (!input.ok) {
        return note(input.status === 404 ? h("span", { class: "muted" }, "no load reported") : h("span", { class: "failed" }, input.message));
      }
      const load = input.value || {};
      const versions = load.versions && typeof load.versions === "object" ? load.versions : {};
      const keys = Object.keys(versions).sort(byVersionDescending);
      if (!keys.length) return note(h("span", { class: "muted" }, "no requests yet"));
      const row = (version, figures, total) => h("tr", { class: total ? "total" : null, data: { service: name, version } },
        h("td", {}), h("td", { class: "mono" }, total ? "total" : version),
        num(figures.requests), num(figures.errors), num(figures.in_flight), ratio(figures.error_ratio),
        num(total ? null : figures.proxies));
      const rows = keys.map((version) => row(version, versions[version] || {}, false));
      if (load.total) rows.push(row("total", load.total, true));
      const first = rows[0].firstChild;
      first.className = "mono";
      first.setAttribute("rowspan", String(rows.length));
      first.append(h("b", {}, name));
      for (const other of rows.slice(1)) other.firstChild.remove();
      return rows;
    }

    function renderLoad(input) {
      const content = byId("load").querySelector(".content");
      if (!input.services.length) {
        fill(content, h("p", { class: "empty" }, "No service registered."));
        return;
      }
      fill(content, h("table", {},
        h("thead", {}, h("tr", {}, th("Service"), th("Version"), th("Requests", true), th("Errors", true), th("In flight", true), th("Error ratio", true), th("Proxies", true))),
        h("tbody", {}, input.services.map((name, i) => loadRows(name, input.loads[i], input.maxErrorRatio)))));
    }

    // ---- Header summary --------------------------------------------------------------

    function renderSummary(input) {
      const parts = [];
      if (input.snapshots.ok && input.snapshots.value) {
        const data = input.snapshots.value;
        parts.push(h("span", {}, "serving ", h("b", { class: "mono" }, show(data.current))));
        parts.push(h("span", {}, "mode ", h("b", {}, show(data.mode))));
        if (data.pending) parts.push(badge("changes pending", "is-warn"));
      }
      if (input.proxies.ok && input.proxies.value) {
        const proxies = input.proxies.value.proxies || [];
        parts.push(h("span", {}, h("b", {}, String(proxies.length)), " proxies, ",
          h("b", {}, String(proxies.filter((proxy) => proxy.synced).length)), " in sync"));
        const nacked = proxies.filter((proxy) => Object.values(proxy.types || {}).some((type) => type && type.status === "NACKED"));
        if (nacked.length) parts.push(badge(nacked.length + " NACKED", "is-bad"));
      }
      if (input.rollout.ok && input.rollout.value) {
        parts.push(h("span", {}, "rollout ", badge(input.rollout.value.state)));
      }
      fill(byId("summary"), ...parts);
    }
    """#
}
