/// The one table `make bench` prints: figure, measured value, target. Each benchmark
/// prints its rows under this header, or (with `--rows`) only its rows, so that a run of
/// several benchmarks reads as one table.
struct BenchTable {
    var rows: [(figure: String, measured: String, target: String)] = []

    mutating func add(_ figure: String, _ measured: String, _ target: String) {
        rows.append((figure, measured, target))
    }

    static let header = "| figure | measured | target |\n|---|---:|---|"

    func print(rowsOnly: Bool) {
        if !rowsOnly { Swift.print(Self.header) }
        for row in rows { Swift.print("| \(row.figure) | \(row.measured) | \(row.target) |") }
    }

    static func ms(_ value: Double) -> String {
        value < 10 ? String(format: "%.2f ms", value) : String(format: "%.0f ms", value)
    }

    /// 1234567 → "1,234,567".
    static func count(_ value: Int) -> String {
        let digits = Array(String(value))
        var out = ""
        for (index, digit) in digits.enumerated() {
            if index > 0, (digits.count - index) % 3 == 0 { out += "," }
            out.append(digit)
        }
        return out
    }
}
