import Foundation

/// Small-cell suppression for published counts (S18): every count of 1–10 is shown as `<11`
/// (k = 11, as CTDC publishes), and complementary suppression hides further cells wherever a
/// suppressed one could be recovered by subtracting the others from a published total.
public enum Suppression {
    public static let k = 11

    /// A table of counts by one or two dimensions, with its margins, after suppression. A nil
    /// count is suppressed.
    public struct Table: Sendable, Equatable {
        public var rowKeys: [String]
        public var columnKeys: [String]
        /// rows × columns
        public var cells: [[Int?]]
        /// Totals of each row (two-dimensional tables only).
        public var rowTotals: [Int?]
        /// Totals of each column.
        public var columnTotals: [Int?]
        public var total: Int?
    }

    public static func isSmall(_ count: Int) -> Bool { count > 0 && count < k }

    /// Suppresses a table given its raw counts. `columnKeys` empty makes it one-dimensional.
    /// Totals are given, not summed: with multi-valued dimensions (a case with two exploitation
    /// types) cells add up to more than the total.
    public static func table(rowKeys: [String], columnKeys: [String], counts: [[Int]], rowTotals: [Int], columnTotals: [Int], total: Int) -> Table {
        let twoDimensional = !columnKeys.isEmpty
        let columns = twoDimensional ? columnKeys.count : 1
        // Everything in one flat list: cells, then row totals, then column totals, then the total.
        var values: [Int] = []
        for row in counts { values.append(contentsOf: row.prefix(columns)) }
        let rowTotalStart = values.count
        if twoDimensional { values.append(contentsOf: rowTotals) }
        let columnTotalStart = values.count
        values.append(contentsOf: twoDimensional ? columnTotals : [])
        let totalIndex = values.count
        values.append(total)
        func cell(_ r: Int, _ c: Int) -> Int { r * columns + c }

        // Each group is a set of entries with a published sum: its members, then the sum.
        var groups: [[Int]] = []
        if twoDimensional {
            for r in 0..<rowKeys.count { groups.append((0..<columns).map { cell(r, $0) } + [rowTotalStart + r]) }
            for c in 0..<columns { groups.append((0..<rowKeys.count).map { cell($0, c) } + [columnTotalStart + c]) }
            groups.append((0..<rowKeys.count).map { rowTotalStart + $0 } + [totalIndex])
            groups.append((0..<columns).map { columnTotalStart + $0 } + [totalIndex])
        } else {
            groups.append((0..<rowKeys.count).map { cell($0, 0) } + [totalIndex])
        }

        var suppressed = Set(values.indices.filter { isSmall(values[$0]) })
        var changed = true
        while changed {
            changed = false
            for group in groups {
                let hidden = group.filter(suppressed.contains)
                guard hidden.count == 1 else { continue }
                // One hidden entry in a group with a known sum can be recovered: hide the
                // smallest other entry that holds something, the sum itself last.
                let sum = group[group.count - 1]
                let candidates = group.dropLast().filter { !suppressed.contains($0) && values[$0] > 0 }.sorted { values[$0] < values[$1] }
                if let pick = candidates.first {
                    suppressed.insert(pick)
                    changed = true
                } else if !suppressed.contains(sum) {
                    suppressed.insert(sum)
                    changed = true
                }
            }
        }
        func value(_ index: Int) -> Int? { suppressed.contains(index) ? nil : values[index] }
        return Table(
            rowKeys: rowKeys, columnKeys: columnKeys,
            cells: (0..<rowKeys.count).map { r in (0..<columns).map { value(cell(r, $0)) } },
            rowTotals: twoDimensional ? (0..<rowKeys.count).map { value(rowTotalStart + $0) } : [],
            columnTotals: twoDimensional ? (0..<columns).map { value(columnTotalStart + $0) } : [],
            total: value(totalIndex))
    }

    /// How a count is published.
    public static func display(_ count: Int?) -> String { count.map(String.init) ?? "<11" }
}
