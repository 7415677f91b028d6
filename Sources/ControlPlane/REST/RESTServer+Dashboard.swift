import Hummingbird

extension RESTServer {
    /// `GET /ui`: the dashboard page; it reads the same REST API as everyone else and
    /// sends the API token the user types for mutations (docs/rest-api.md, "Dashboard").
    func addDashboardRoutes(to router: Router<BasicRequestContext>) {
        router.get("/ui") { _, _ in Self.text(DashboardPage.html, contentType: "text/html; charset=utf-8") }
    }
}
