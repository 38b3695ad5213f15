import Foundation

/// A report's counts as horizontal bars, drawn on the server as SVG (no script, no style
/// attribute: the page's policy allows neither). A suppressed cell gets no bar, only its
/// "<11", so no length ever reveals a hidden count.
enum ReportChart {
    static func svg(_ rows: [(label: String, count: Int?, shown: String)], title: String) -> String {
        let width = 640, labelWidth = 220, barArea = 340, rowHeight = 28
        let height = max(1, rows.count) * rowHeight + 8
        let largest = max(1, rows.compactMap(\.count).max() ?? 1)
        var svg = opening(id: "report-chart", title: title, width: width, height: height)
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

    /// One bar of a turnaround chart: its value (nil: hidden, no bar) and the words beside it.
    struct Bar {
        var value: Double?
        var text: String
    }

    /// Turnaround times: per group its name, then a bar for the median and one for the p90, each
    /// followed by words ("median 5.2 h"), so neither colour nor position alone tells them apart.
    /// A time over fewer than 11 referrals has no bar, only its "<11" (S18).
    static func pairs(_ groups: [(label: String, key: String, bars: [Bar])], id: String, title: String) -> String {
        let width = 640, labelWidth = 220, barArea = 280, barHeight = 14, gap = 4
        let groupHeight = 2 * (barHeight + gap) + 10
        let height = max(1, groups.count) * groupHeight + 8
        let largest = max(0.1, groups.flatMap { $0.bars.compactMap(\.value) }.max() ?? 0.1)
        var svg = opening(id: id, title: title, width: width, height: height)
        for (index, group) in groups.enumerated() {
            let top = index * groupHeight + 4
            svg += "<text x=\"\(labelWidth - 8)\" y=\(quoted(top + barHeight)) text-anchor=\"end\" font-size=\"14\" fill=\"#1b1f24\">\(escape(group.label))</text>"
            for (position, bar) in group.bars.enumerated() {
                let y = top + position * (barHeight + gap)
                var end = labelWidth
                if let value = bar.value, value > 0 {
                    let length = max(2, Int((value / largest * Double(barArea)).rounded()))
                    // Dark blue for the median, lighter for the p90; the words beside each say which.
                    let fill = position == 0 ? "#0b5394" : "#5b8fc7"
                    svg += "<rect data-group=\"\(escape(group.key))\" data-value=\"\(value)\" x=\"\(labelWidth)\" y=\(quoted(y)) "
                        + "width=\"\(length)\" height=\"\(barHeight)\" fill=\"\(fill)\"></rect>"
                    end += length
                }
                svg += "<text x=\"\(end + 6)\" y=\(quoted(y + barHeight - 2)) font-size=\"13\" fill=\"#1b1f24\">\(escape(bar.text))</text>"
            }
        }
        return svg + "</svg>"
    }

    /// A chart's element: an image named by its title, scaled to the page's width.
    static func opening(id: String, title: String, width: Int, height: Int) -> String {
        "<svg id=\"\(escape(id))\" role=\"img\" aria-labelledby=\"\(escape(id))-title\" viewBox=\"0 0 \(width) \(height)\" "
            + "width=\"100%\" preserveAspectRatio=\"xMinYMin meet\" xmlns=\"http://www.w3.org/2000/svg\">"
            + "<title id=\"\(escape(id))-title\">\(escape(title))</title>"
    }

    static func quoted(_ value: Int) -> String { "\"\(value)\"" }

    static func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
            .replacingOccurrences(of: "\"", with: "&quot;")
    }
}
