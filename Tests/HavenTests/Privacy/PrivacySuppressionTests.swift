import Foundation
import HavenCore
import Testing

/// Small-cell suppression on hand-built tables (S18), without a database: every count of 1–10
/// is hidden, published counts are the true ones, and no hidden count can be worked out from
/// what is published (a differencing attack on totals, rows and columns).
@Suite("Privacy: small-cell suppression")
struct PrivacySuppressionTests {
    /// An additive table: margins are the sums of the cells.
    static func additive(_ counts: [[Int]], keys: [String]? = nil, columnKeys: [String]? = nil) -> Suppression.Table {
        let twoDimensional = (counts.first?.count ?? 0) > 1 || columnKeys != nil
        let rowKeys = keys ?? counts.indices.map { "r\($0)" }
        let columns = twoDimensional ? (columnKeys ?? (counts.first ?? []).indices.map { "c\($0)" }) : []
        let rowTotals = twoDimensional ? counts.map { $0.reduce(0, +) } : []
        let columnTotals = twoDimensional ? columns.indices.map { c in counts.map { $0[c] }.reduce(0, +) } : []
        let total = counts.flatMap { $0 }.reduce(0, +)
        return Suppression.table(rowKeys: rowKeys, columnKeys: columns, counts: counts, rowTotals: rowTotals, columnTotals: columnTotals, total: total)
    }

    /// Every entry with its raw value, laid out as `Differencing` lays them out.
    static func raw(_ counts: [[Int]], twoDimensional: Bool) -> [Int] {
        var values = counts.flatMap { $0 }
        if twoDimensional {
            values += counts.map { $0.reduce(0, +) }
            values += (0..<(counts.first?.count ?? 0)).map { c in counts.map { $0[c] }.reduce(0, +) }
        }
        values.append(counts.flatMap { $0 }.reduce(0, +))
        return values
    }

    /// What the table publishes, entry by entry, as `Differencing` lays entries out.
    static func attack(_ table: Suppression.Table) -> Differencing {
        func shown(_ value: Int?, _ small: Bool) -> Differencing.Shown { value.map { .number($0) } ?? (small ? .small : .large) }
        return Differencing(
            cells: table.cells.enumerated().map { r, row in row.enumerated().map { c, value in shown(value, table.cellIsSmall(row: r, column: c)) } },
            rowTotals: table.rowTotals.enumerated().map { shown($0.element, table.rowTotalIsSmall($0.offset)) },
            columnTotals: table.columnTotals.enumerated().map { shown($0.element, table.columnTotalIsSmall($0.offset)) },
            total: shown(table.total, table.totalIsSmall), twoDimensional: !table.columnKeys.isEmpty)
    }

    /// The checks every suppressed additive table must pass: small counts hidden and shown as
    /// small, counts hidden to protect others never shown as small, published counts true,
    /// nothing hidden recoverable.
    static func expectSafe(_ counts: [[Int]], _ table: Suppression.Table, sourceLocation: SourceLocation = #_sourceLocation) {
        let twoDimensional = !table.columnKeys.isEmpty
        let attack = Self.attack(table)
        let values = raw(counts, twoDimensional: twoDimensional)
        #expect(attack.shown.count == values.count, sourceLocation: sourceLocation)
        guard attack.shown.count == values.count else { return }
        for (index, value) in values.enumerated() {
            switch attack.shown[index] {
            case .number(let shown):
                #expect(!Suppression.isSmall(value), "entry \(index) = \(value) is published in \(counts)", sourceLocation: sourceLocation)
                #expect(shown == value, "entry \(index) published as \(shown), is \(value)", sourceLocation: sourceLocation)
            case .small:
                #expect(Suppression.isSmall(value), "entry \(index) = \(value) is shown as <11 in \(counts)", sourceLocation: sourceLocation)
            case .large, .hidden:
                #expect(!Suppression.isSmall(value), "entry \(index) = \(value) is hidden but not marked small in \(counts)", sourceLocation: sourceLocation)
            }
        }
        let recovered = attack.recovered()
        let shown = attack.shown.map(\.description)
        let how = recovered.map { "entry \($0.entry) = \(values[$0.entry]) by \($0.how)" }.joined(separator: "; ")
        #expect(recovered.isEmpty, "recoverable from \(counts) → \(shown): \(how)", sourceLocation: sourceLocation)
    }

    @Test("1–10 is small, 0 and 11+ are not; a suppressed count shows as <11, k = 11")
    func smallness() {
        #expect(Suppression.k == 11)
        #expect(!Suppression.isSmall(0))
        #expect((1...10).allSatisfy(Suppression.isSmall))
        #expect(!Suppression.isSmall(11))
        #expect(!Suppression.isSmall(5000))
        #expect(Suppression.display(nil, small: true) == "<11")
        #expect(Suppression.display(nil, small: false) != "<11", "a count hidden to protect another is not said to be under 11")
        #expect(!Suppression.display(nil, small: false).isEmpty)
        #expect(Suppression.display(0, small: false) == "0")
        #expect(Suppression.display(11, small: false) == "11")
    }

    @Test("every count of 1 to 10 is hidden; zeros and large counts are published as they are")
    func smallCellsHidden() {
        let counts = [[0], [1], [10], [11], [200]]
        let table = Self.additive(counts)
        #expect(table.cells.map { $0[0] } == [0, nil, nil, 11, 200])
        #expect(table.total == 222)
        #expect(table.rowTotals.isEmpty && table.columnTotals.isEmpty)
        Self.expectSafe(counts, table)
    }

    @Test("one small cell in a 1-D table: a second cell is hidden, so total minus the others does not give it back")
    func oneSmallCellOneDimension() {
        let counts = [[40], [5], [25], [30]]
        let table = Self.additive(counts)
        let hidden = table.cells.indices.filter { table.cells[$0][0] == nil }
        #expect(hidden.contains(1), "the 5 is hidden: \(table.cells)")
        #expect(hidden.count >= 2 || table.total == nil, "complementary suppression: \(table.cells), total \(String(describing: table.total))")
        // The attack by hand: the total minus every published cell must not be the small cell alone.
        if let total = table.total {
            let published = table.cells.compactMap { $0[0] }.reduce(0, +)
            #expect(hidden.count != 1 || total - published != 5)
        }
        Self.expectSafe(counts, table)
    }

    @Test("a small cell that is the only non-zero cell hides the total as well")
    func loneSmallCell() {
        for counts in [[[7]], [[0], [7], [0]], [[0], [3]]] {
            let table = Self.additive(counts)
            #expect(table.total == nil, "\(counts): total \(String(describing: table.total)) gives the cell away")
            Self.expectSafe(counts, table)
        }
    }

    @Test("no cell is small: everything is published")
    func nothingSmall() {
        let counts = [[12, 30], [0, 44]]
        let table = Self.additive(counts)
        #expect(table.cells == [[12, 30], [0, 44]])
        #expect(table.rowTotals == [42, 44])
        #expect(table.columnTotals == [12, 74])
        #expect(table.total == 86)
    }

    @Test("2-D: one small cell cannot be recovered from its row, its column, the margins or the total")
    func oneSmallCellTwoDimensions() {
        let counts = [[50, 3, 40], [30, 25, 20], [60, 45, 35]]
        let table = Self.additive(counts)
        #expect(table.cells[0][1] == nil)
        let hiddenInRow = table.cells[0].filter { $0 == nil }.count + (table.rowTotals[0] == nil ? 1 : 0)
        let hiddenInColumn = table.cells.map { $0[1] }.filter { $0 == nil }.count + (table.columnTotals[1] == nil ? 1 : 0)
        #expect(hiddenInRow >= 2, "row 0: \(table.cells[0]) total \(String(describing: table.rowTotals[0]))")
        #expect(hiddenInColumn >= 2, "column 1: \(table.cells.map { $0[1] }) total \(String(describing: table.columnTotals[1]))")
        Self.expectSafe(counts, table)
    }

    @Test("2-D: small row and column margins are hidden and protected too")
    func smallMargins() {
        // Row 2 adds up to 4 and column 2 to 6: the margins themselves are small.
        let counts = [[30, 20, 2], [40, 15, 4], [1, 3, 0]]
        let table = Self.additive(counts)
        #expect(table.rowTotals[2] == nil)
        #expect(table.columnTotals[2] == nil)
        Self.expectSafe(counts, table)
    }

    @Test("2-D: a table with small cells scattered over several rows and columns")
    func scattered() {
        let counts = [[12, 0, 7, 30], [9, 40, 0, 22], [25, 33, 14, 2], [0, 5, 18, 60]]
        Self.expectSafe(counts, Self.additive(counts))
    }

    @Test("2-D: a hidden 1 recovered by combining rows and columns (rows 0 and 3 with column 3 leave column 1 one unknown)")
    func combinedRowsAndColumns() {
        // Row 0: 18 + 72 = 152 - 62; row 3: 7 + 68 = 185 - 110; column 3: 72 + 68 = 140. So
        // 18 + 7 = 90 + 75 - 140 = 25, and column 1 (total 26) leaves the 1 in row 2 alone.
        let counts = [[0, 18, 62, 72, 0], [67, 0, 0, 0, 0], [42, 1, 106, 0, 0], [0, 7, 0, 68, 110]]
        let table = Self.additive(counts)
        #expect(table.cells[2][1] == nil)
        Self.expectSafe(counts, table)
    }

    @Test("multi-valued dimensions: given totals are used as they are, not summed")
    func givenTotals() {
        // Cases with two exploitation types sit in two cells: cells add up to more than the total.
        let table = Suppression.table(rowKeys: ["forced_labour", "sexual"], columnKeys: [], counts: [[30], [25]], rowTotals: [], columnTotals: [], total: 40)
        #expect(table.total == 40)
        #expect(table.cells == [[30], [25]])
    }

    @Test("bounds attack: two <11 cells left with 2 (each at least 1) or with 20 (each at most 10) between them are given away")
    func boundsAttack() {
        // Only counts of 1 or more are ever hidden (0 is published), and <11 says at most 10.
        // 112 - 50 - 60 = 2 for two hidden cells: both are 1.
        let ones = [[1], [1], [50], [60]]
        Self.expectSafe(ones, Self.additive(ones))
        let onesTwoD = [[1, 40, 30], [1, 35, 20], [50, 60, 70]]
        Self.expectSafe(onesTwoD, Self.additive(onesTwoD))
        // 130 - 50 - 60 = 20 for two cells shown <11: both are 10.
        let tens = [[10], [10], [50], [60]]
        Self.expectSafe(tens, Self.additive(tens))
    }

    @Test("random additive tables (seeded): small counts hidden, published counts true, no hidden count recoverable by the linear or the bounds attack")
    func randomTables() {
        var generator = SplitMix64(seed: 0x4841_5645_4E53_3138)
        func count() -> Int {
            switch Int.random(in: 0..<10, using: &generator) {
            case 0...2: return 0
            case 3...5: return Int.random(in: 1...10, using: &generator)
            default: return Int.random(in: 11...120, using: &generator)
            }
        }
        var failures: [String] = []
        for round in 0..<600 {
            let twoDimensional = round % 3 != 0
            let rows = Int.random(in: 1...6, using: &generator)
            let columns = twoDimensional ? Int.random(in: 2...5, using: &generator) : 1
            let counts = (0..<rows).map { _ in (0..<columns).map { _ in count() } }
            let table = Self.additive(counts, columnKeys: twoDimensional ? (0..<columns).map { "c\($0)" } : nil)
            let attack = Self.attack(table)
            let values = Self.raw(counts, twoDimensional: twoDimensional)
            for (index, value) in values.enumerated() {
                switch attack.shown[index] {
                case .number(let shown):
                    if Suppression.isSmall(value) { failures.append("\(counts): entry \(index) = \(value) published") }
                    if shown != value { failures.append("\(counts): entry \(index) shown as \(shown), is \(value)") }
                case .small:
                    if !Suppression.isSmall(value) { failures.append("\(counts): entry \(index) = \(value) shown as <11") }
                case .large, .hidden:
                    if Suppression.isSmall(value) { failures.append("\(counts): entry \(index) = \(value) hidden but not marked small") }
                }
            }
            let recovered = attack.recovered()
            if !recovered.isEmpty {
                let shown = attack.shown.map(\.description)
                failures.append("\(counts) published \(shown): " + recovered.map { "entry \($0.entry) = \(values[$0.entry]) by \($0.how)" }.joined(separator: "; "))
            }
        }
        #expect(failures.isEmpty, "\(failures.count) of 600 tables leak; first: \(failures.prefix(3).joined(separator: "\n"))")
    }
}
