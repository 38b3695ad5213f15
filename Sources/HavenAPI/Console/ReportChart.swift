import Foundation

/// A report's counts as horizontal bars, drawn on the server as SVG (no script, no style
/// attribute: the page's policy allows neither). A suppressed cell gets no bar, only its
/// "<11", so no length ever reveals a hidden count.
enum ReportChart {
    static func svg(_ rows: [(label: String, count: Int?, shown: String)], title: String) -> String {
        let width = 640, labelWidth = 220, barArea = 340, rowHeight = 28
        let height = max(1, rows.count) * rowHeight + 8
        let largest = max(1, rows.compactMap(\.count).max() ?? 1)
        var svg = "<svg id=\"report-chart\" role=\"img\" aria-labelledby=\"report-chart-title\" viewBox=\"0 0 \(width) \(height)\" "
            + "width=\"100%\" preserveAspectRatio=\"xMinYMin meet\" xmlns=\"http://www.w3.org/2000/svg\">"
            + "<title id=\"report-chart-title\">\(escape(title))</title>"
        for (index, row) in rows.enumerated() {
            let y = index * rowHeight + 4
            svg += "<text x=\"\(labelWidth - 8)\" y=\(quoted(y + 18)) text-anchor=\"end\" font-size=\"14\" fill=\"#1b1f24\">\(escape(row.label))</text>"
            var end = labelWidth
            if let count = row.count, count > 0 {
                let length = max(2, count * barArea / largest)
                svg += "<rect data-count=\"\(count)\" x=\"\(labelWidth)\" y=\(quoted(y + 4)) width=\"\(length)\" height=\"18\" fill=\"#0b5394\"></rect>"
                end += length
            }
            svg += "<text x=\"\(end + 6)\" y=\(quoted(y + 18)) font-size=\"14\" fill=\"#1b1f24\">\(escape(row.shown))</text>"
        }
        return svg + "</svg>"
    }

    static func quoted(_ value: Int) -> String { "\"\(value)\"" }

    static func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
            .replacingOccurrences(of: "\"", with: "&quot;")
    }
}
