import ControlPlane
import EnvoyAPI
import Foundation
import ProcessSupport
import Testing
import TestSupport

/// `GET /ui` opened in a real headless Chromium against a live control plane with a real
/// Envoy: the page's script reads the REST API and renders what it says — proxies with
/// their sync state, snapshot history, services and their instances (docs/rest-api.md,
/// "Dashboard").
@Suite(.serialized) struct DashboardTests {
    @Test func theDashboardRendersProxiesSnapshotsAndServicesFromTheLiveAPI() async throws {
        let chromium = try Self.chromiumBinary()
        try await withRegistryMesh { mesh in
            let upstream = try await mesh.upstream("db-a")
            try await mesh.register("db")
            try await mesh.register("db", id: "db-a", upstream)
            try mesh.startProxy(.envoy)
            try await mesh.waitSynced()
            let served = try #require(mesh.currentVersion)
            let history = try JSON.parse(try await mesh.api("GET", "/v1/snapshots").body)
            let versions = history["snapshots"]?.arrayValue?.compactMap { $0["version"]?.stringValue } ?? []
            #expect(history["current"]?.stringValue == served)
            #expect(!versions.isEmpty)

            let dom = try await Self.dumpDOM(chromium, url: "http://127.0.0.1:\(mesh.ports.api)/ui", in: mesh.directory)
            #expect(dom.contains(#"data-loaded="yes""#), "the first poll never completed:\n\(dom.prefix(3000))")
            // The status line's classes, whatever order the attributes are written in.
            let statusTag = try #require(dom.range(of: #"<[a-z]+ [^>]*id="status"[^>]*>"#, options: .regularExpression).map { dom[$0] })
            #expect(!statusTag.contains("down"), "the page reports failed API calls: \(statusTag)")

            // One row for the sidecar: every type SYNCED at the served version.
            let proxies = try Self.region("proxies", of: dom)
            let proxy = try Self.row(#"data-node="\#(RegistryMesh.nodeID)""#, in: proxies)
            #expect(proxy.contains(#"data-synced="true""#), "\(proxy)")
            #expect(proxy.contains("SYNCED"), "\(proxy)")
            #expect(!proxy.contains("NACKED"), "\(proxy)")
            #expect(proxy.contains(">\(served)<"), "the served version \(served) is shown: \(proxy)")
            #expect(proxy.contains("acked \(served)"), "\(proxy)")

            // The service and its instance's address.
            let services = try Self.region("services", of: dom)
            let service = try Self.row(#"data-service="db""#, in: services)
            #expect(service.contains(#"data-instance="db-a""#), "\(service)")
            #expect(service.contains("127.0.0.1:\(upstream.port)"), "\(service)")
            #expect(service.contains("healthy"), "\(service)")
            #expect(try Self.region("load", of: dom).contains(#"data-service="db""#))

            // Every version of the history, the served one marked current.
            let snapshots = try Self.region("snapshots", of: dom)
            #expect(snapshots.contains(#"data-current="\#(served)""#), "\(snapshots)")
            for version in versions {
                #expect(snapshots.contains(#"data-version="\#(version)""#), "\(version) missing: \(snapshots)")
            }
            #expect(try Self.row(#"data-version="\#(served)""#, in: snapshots).contains("current"))

            // No rollout was ever started.
            #expect(try Self.region("rollout", of: dom).contains(#"data-state="none""#))
        }
    }

    /// Chromium: `$CHROMIUM_BIN`, else Debian's `chromium` from `make setup`. A missing
    /// browser is a failure, never a skip.
    static func chromiumBinary() throws -> String {
        let candidates = ProcessInfo.processInfo.environment["CHROMIUM_BIN"].map { [$0] }
            ?? ["/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"]
        guard let found = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
            throw TestSupportError(
                "Chromium not found at \(candidates.joined(separator: ", ")): run `make setup` (installs the apt package chromium) or set CHROMIUM_BIN")
        }
        return found
    }

    /// The page at `url` as headless Chromium leaves it after 8 s of virtual time (the
    /// script's polls included), serialized. The browser is waited for by polling, never
    /// by a blocking wait on the cooperative pool.
    static func dumpDOM(_ chromium: String, url: String, in directory: URL, timeout: Duration = .seconds(60)) async throws -> String {
        let domPath = directory.appendingPathComponent("dashboard-dom.html").path
        let logPath = directory.appendingPathComponent("chromium.log").path
        let arguments = [
            "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-proxy-server",
            "--user-data-dir=" + directory.appendingPathComponent("chromium-profile").path,
            "--virtual-time-budget=8000", "--dump-dom", url,
        ]
        // ChildProcess sends stdout and stderr to one file; the DOM goes to stdout, so a
        // shell keeps the browser's own logging apart: `sh -c SCRIPT $0 $@…`.
        let child = try ChildProcess.spawn("/bin/sh", ["-c", #"exec "$@" 2>"$0""#, logPath, chromium] + arguments, logPath: domPath)
        let deadline = ContinuousClock.now + timeout
        while child.isRunning {
            guard ContinuousClock.now < deadline else {
                await child.stop()
                throw TestSupportError("Chromium did not finish within \(timeout):\n\(tail(of: logPath))")
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        let dom = (try? String(contentsOfFile: domPath, encoding: .utf8)) ?? ""
        guard dom.contains("</html>") else {
            throw TestSupportError("Chromium dumped no page for \(url):\n\(tail(of: logPath))")
        }
        return dom
    }

    static func tail(of path: String) -> String {
        ((try? String(contentsOfFile: path, encoding: .utf8)) ?? "").split(separator: "\n").suffix(25).joined(separator: "\n")
    }

    /// The markup of `<section id="id">` (the dashboard's regions do not nest sections).
    static func region(_ id: String, of dom: String) throws -> Substring {
        guard let start = dom.range(of: #"<section id="\#(id)""#),
              let end = dom.range(of: "</section>", range: start.upperBound..<dom.endIndex) else {
            throw TestSupportError("no <section id=\"\(id)\"> in the dumped page:\n\(dom.prefix(3000))")
        }
        return dom[start.lowerBound..<end.upperBound]
    }

    /// The `<tr>` in `region` that carries `attribute`, through its `</tr>`.
    static func row(_ attribute: String, in region: Substring) throws -> Substring {
        guard let hit = region.range(of: attribute),
              let start = region.range(of: "<tr", options: .backwards, range: region.startIndex..<hit.lowerBound),
              let end = region.range(of: "</tr>", range: hit.upperBound..<region.endIndex) else {
            throw TestSupportError("no row with \(attribute) in:\n\(region)")
        }
        return region[start.lowerBound..<end.upperBound]
    }
}
