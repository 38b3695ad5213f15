import Foundation

/// Small-cell suppression for published counts (S18): every count of 1–10 is shown as `<11`
/// (k = 11, as CTDC publishes), and complementary suppression hides further counts (shown as
/// `suppressed`) until no hidden count can be worked out from the published ones.
///
/// The attacker assumed here knows every published number, that the members of each group add
/// up to its sum, that a count shown `<11` lies in 1–10 and one shown `suppressed` is at least
/// 11 (zeros are published). For each hidden count a small linear program finds the least and
/// greatest value it can take; while one of them is pinned to a single value, one more count in
/// a group that pins it is hidden.
public enum Suppression {
    public static let k = 11

    /// A table of counts by one or two dimensions, with its margins, after suppression. A nil
    /// count is hidden: `<11` when it is small, `suppressed` when hidden to protect another.
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
        /// Which hidden entries are small ones (flat index: cells row by row, then row totals,
        /// then column totals, then the total).
        var small: Set<Int>

        public func cellIsSmall(row: Int, column: Int) -> Bool { small.contains(row * max(1, columnKeys.count) + column) }
        public func rowTotalIsSmall(_ row: Int) -> Bool { small.contains(cellCount + row) }
        public func columnTotalIsSmall(_ column: Int) -> Bool { small.contains(cellCount + rowTotals.count + column) }
        public var totalIsSmall: Bool { small.contains(cellCount + rowTotals.count + columnTotals.count) }
        var cellCount: Int { rowKeys.count * max(1, columnKeys.count) }

        static func cellKey(_ row: String, _ column: String) -> String { "cell|" + row + "|" + column }

        /// Which entries are hidden, named by their keys so tables of other periods can match them.
        var hiddenEntries: Set<String> {
            var hidden = Set<String>()
            for (r, row) in cells.enumerated() {
                for (c, value) in row.enumerated() where value == nil { hidden.insert(Table.cellKey(rowKeys[r], columnKeys.isEmpty ? "" : columnKeys[c])) }
            }
            for (r, value) in rowTotals.enumerated() where value == nil { hidden.insert("row|" + rowKeys[r]) }
            for (c, value) in columnTotals.enumerated() where value == nil { hidden.insert("column|" + columnKeys[c]) }
            if total == nil { hidden.insert("total") }
            return hidden
        }
    }

    public static func isSmall(_ count: Int) -> Bool { count > 0 && count < k }

    /// How a count is published.
    public static func display(_ count: Int?, small: Bool) -> String {
        if let count { return String(count) }
        return small ? "<11" : "suppressed"
    }

    /// Suppresses a table given its raw counts. `columnKeys` empty makes it one-dimensional.
    /// Totals are given, not summed: with multi-valued dimensions (a case with two exploitation
    /// types) cells add up to more than the total; treating them as exact sums only makes the
    /// assumed attacker stronger.
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

        // Each group is a set of entries with a known sum: its members, then the sum.
        var groups: [[Int]] = []
        if twoDimensional {
            for r in 0..<rowKeys.count { groups.append((0..<columns).map { cell(r, $0) } + [rowTotalStart + r]) }
            for c in 0..<columns { groups.append((0..<rowKeys.count).map { cell($0, c) } + [columnTotalStart + c]) }
            groups.append((0..<rowKeys.count).map { rowTotalStart + $0 } + [totalIndex])
            groups.append((0..<columns).map { columnTotalStart + $0 } + [totalIndex])
        } else {
            groups.append((0..<rowKeys.count).map { cell($0, 0) } + [totalIndex])
        }

        let small = Set(values.indices.filter { isSmall(values[$0]) })
        var hidden = small
        // An exposure nothing more can cover (every neighbour zero or hidden) is skipped so the
        // others are still dealt with; hiding continues until none is left.
        var beyondHelp: Set<Int> = []
        while let exposed = firstExposed(values: values, hidden: hidden, small: small, groups: groups, skipping: beyondHelp) {
            if let pick = complement(for: exposed, values: values, hidden: hidden, groups: groups, total: totalIndex) {
                hidden.insert(pick)
            } else {
                beyondHelp.insert(exposed)
            }
        }
        func value(_ index: Int) -> Int? { hidden.contains(index) ? nil : values[index] }
        return Table(
            rowKeys: rowKeys, columnKeys: columnKeys,
            cells: (0..<rowKeys.count).map { r in (0..<columns).map { value(cell(r, $0)) } },
            rowTotals: twoDimensional ? (0..<rowKeys.count).map { value(rowTotalStart + $0) } : [],
            columnTotals: twoDimensional ? (0..<columns).map { value(columnTotalStart + $0) } : [],
            total: value(totalIndex), small: small)
    }

    /// The table of a period made of whole months (a quarter, a year), published consistently
    /// with `months`, the tables of its months as `table` published them: an entry is hidden
    /// wherever any of its months hides it (a small count is hidden in every month it is in).
    /// What the period publishes is then the sum of what its months publish, so setting it
    /// beside them (a year minus three quarters, a quarter minus two months) gives nothing back
    /// that the months alone do not.
    public static func table(rowKeys: [String], columnKeys: [String], counts: [[Int]], rowTotals: [Int], columnTotals: [Int], total: Int,
                             within months: [Table]) -> Table {
        var hiddenInMonths = Set<String>()
        for month in months { hiddenInMonths.formUnion(month.hiddenEntries) }
        let columns = max(1, columnKeys.count)
        var table = exact(rowKeys: rowKeys, columnKeys: columnKeys, counts: counts, rowTotals: rowTotals, columnTotals: columnTotals, total: total)
        var small = Set<Int>()
        var index = 0
        func consider(_ value: inout Int?, _ key: String) {
            if let count = value, isSmall(count) { small.insert(index) }
            if let count = value, isSmall(count) || hiddenInMonths.contains(key) { value = nil }
            index += 1
        }
        for r in rowKeys.indices {
            for c in 0..<columns { consider(&table.cells[r][c], Table.cellKey(rowKeys[r], columnKeys.isEmpty ? "" : columnKeys[c])) }
        }
        for r in table.rowTotals.indices { consider(&table.rowTotals[r], "row|" + rowKeys[r]) }
        for c in table.columnTotals.indices { consider(&table.columnTotals[c], "column|" + columnKeys[c]) }
        consider(&table.total, "total")
        table.small = small
        return table
    }

    /// A table published as it is: an organisation's own figures for its own supervisors
    /// (`ReportRelease.operational`).
    public static func exact(rowKeys: [String], columnKeys: [String], counts: [[Int]], rowTotals: [Int], columnTotals: [Int], total: Int) -> Table {
        let columns = max(1, columnKeys.count)
        return Table(rowKeys: rowKeys, columnKeys: columnKeys, cells: counts.map { Array($0.prefix(columns)).map(Optional.some) },
                     rowTotals: columnKeys.isEmpty ? [] : rowTotals.map(Optional.some),
                     columnTotals: columnKeys.isEmpty ? [] : columnTotals.map(Optional.some), total: total, small: [])
    }

    /// The first hidden entry whose value the published numbers pin down, small ones first.
    static func firstExposed(values: [Int], hidden: Set<Int>, small: Set<Int>, groups: [[Int]], skipping: Set<Int> = []) -> Int? {
        let order = hidden.sorted { (small.contains($0) ? 0 : 1, $0) < (small.contains($1) ? 0 : 1, $1) }
        let variable = Dictionary(uniqueKeysWithValues: order.enumerated().map { ($0.element, $0.offset) })
        var equalities: [LinearProgram.Equality] = []
        for group in groups where group.contains(where: hidden.contains) {
            var coefficients: [Int: Double] = [:]
            var constant = 0.0
            for (position, entry) in group.enumerated() {
                let sign = position == group.count - 1 ? -1.0 : 1.0
                if let index = variable[entry] {
                    coefficients[index, default: 0] += sign
                } else {
                    constant -= sign * Double(values[entry])
                }
            }
            equalities.append(.init(coefficients: coefficients, constant: constant))
        }
        let program = LinearProgram(
            variables: order.count,
            lower: order.map { small.contains($0) ? 1 : Double(k) },
            upper: order.map { small.contains($0) ? Double(k - 1) : nil },
            equalities: equalities)
        for (index, entry) in order.enumerated() where !skipping.contains(entry) {
            guard let range = program.range(of: index) else { continue }
            if range.high - range.low < 0.5 { return entry }
        }
        return nil
    }

    /// Another entry to hide so `exposed` is no longer pinned: the smallest published count
    /// above zero in a group with it, a cell before a total.
    static func complement(for exposed: Int, values: [Int], hidden: Set<Int>, groups: [[Int]], total: Int) -> Int? {
        let candidates = groups.filter { $0.contains(exposed) }.flatMap { $0 }
            .filter { !hidden.contains($0) && values[$0] > 0 }
        let sums = Set(groups.compactMap(\.last))
        return Set(candidates).sorted {
            (sums.contains($0) ? 1 : 0, values[$0], $0) < (sums.contains($1) ? 1 : 0, values[$1], $1)
        }.first ?? (hidden.contains(total) ? nil : total)
    }
}
