import Foundation
import HavenCore

/// A differencing attacker: given the additive relations of a published table (each group's
/// members add up to its sum), the numbers it publishes and what it says of the hidden ones,
/// which hidden counts can be worked out exactly?
///
/// Two attacks, each using only what the publication gives away for certain:
/// - linear: a hidden count is fixed by the published numbers through the groups' sums
///   (subtracting published cells from a published total, across rows and columns too),
///   solved exactly by Gaussian elimination;
/// - bounds: a hidden count lies within what the publication says of it (`<11`: 1 to 10;
///   hidden to protect another: at least 1, or at least 11 when it is marked as not small),
///   and the groups' sums narrow those ranges; propagated to a fixed point, any range that
///   shrinks to one value gives the count away (e.g. two hidden cells left with 2 between
///   them are both 1).
struct Differencing {
    /// What the publication says of one entry.
    enum Shown: Equatable, CustomStringConvertible {
        case number(Int)
        /// Hidden, said to be 1–10 (`<11`).
        case small
        /// Hidden to protect another count, said to be 11 or more.
        case large
        /// Hidden, with nothing said but that it is not 0 (zeros are published).
        case hidden

        var value: Int? { if case .number(let value) = self { return value }; return nil }
        var description: String {
            switch self {
            case .number(let value): return String(value)
            case .small: return "<11"
            case .large: return "suppressed"
            case .hidden: return "hidden"
            }
        }
    }

    /// Each group: member entries, then the entry holding their sum (indexes into `shown`).
    var groups: [[Int]]
    var shown: [Shown]

    var published: [Int?] { shown.map(\.value) }

    /// The hidden entries an attacker can recover, with how.
    func recovered() -> [(entry: Int, how: String)] {
        var found: [Int: String] = [:]
        for entry in linearlyDetermined() { found[entry] = "linear combination of published numbers" }
        for (entry, value) in boundsDetermined() where found[entry] == nil {
            found[entry] = "the groups' sums and the published ranges leave only \(value)"
        }
        return found.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
    }

    /// Hidden entries fixed by the linear system of the groups: an entry is determined when
    /// its unit vector lies in the row space of the hidden part of the system, i.e. some row
    /// of the reduced row echelon form is exactly that unit vector.
    func linearlyDetermined() -> [Int] {
        let hidden = shown.indices.filter { shown[$0].value == nil }
        guard !hidden.isEmpty else { return [] }
        let column = Dictionary(uniqueKeysWithValues: hidden.enumerated().map { ($0.element, $0.offset) })
        var rows: [[Fraction]] = []
        for group in groups {
            var row = Array(repeating: Fraction(0), count: hidden.count)
            var touches = false
            for (position, entry) in group.enumerated() {
                guard let index = column[entry] else { continue }
                row[index] = row[index] + Fraction(position == group.count - 1 ? -1 : 1)
                touches = true
            }
            if touches { rows.append(row) }
        }
        var determined: [Int] = []
        for row in Fraction.rref(rows, columns: hidden.count) {
            let nonZero = row.indices.filter { !row[$0].isZero }
            if nonZero.count == 1 { determined.append(hidden[nonZero[0]]) }
        }
        return determined.sorted()
    }

    /// Hidden entries whose range of possible values, narrowed by every group's sum until
    /// nothing changes, holds a single value.
    func boundsDetermined() -> [(Int, Int)] {
        var low: [Int] = shown.map { shown in
            switch shown {
            case .number(let value): return value
            case .small, .hidden: return 1
            case .large: return Suppression.k
            }
        }
        var high: [Int?] = shown.map { shown in
            switch shown {
            case .number(let value): return value
            case .small: return Suppression.k - 1
            case .large, .hidden: return nil
            }
        }
        var changed = true
        var rounds = 0
        while changed && rounds < 200 {
            changed = false
            rounds += 1
            for group in groups {
                let sum = group[group.count - 1]
                let members = Array(group.dropLast())
                for target in group where shown[target].value == nil {
                    var newLow: Int, newHigh: Int?
                    if target == sum {
                        newLow = members.map { low[$0] }.reduce(0, +)
                        newHigh = members.reduce(Int?.some(0)) { total, member in total.flatMap { t in high[member].map { t + $0 } } }
                    } else {
                        let others = members.filter { $0 != target }
                        // target = sum - others
                        let othersHigh = others.reduce(Int?.some(0)) { total, member in total.flatMap { t in high[member].map { t + $0 } } }
                        let othersLow = others.map { low[$0] }.reduce(0, +)
                        newLow = othersHigh.map { low[sum] - $0 } ?? Int.min
                        newHigh = high[sum].map { $0 - othersLow }
                    }
                    if newLow > low[target] { low[target] = newLow; changed = true }
                    if let newHigh, high[target].map({ newHigh < $0 }) ?? true { high[target] = newHigh; changed = true }
                }
            }
        }
        return shown.indices.compactMap { index in
            guard shown[index].value == nil, let top = high[index], top == low[index] else { return nil }
            return (index, top)
        }
    }

    /// The groups of a one- or two-dimensional table with its margins, laid out as cells (row
    /// by row), then row totals, then column totals, then the total. Only valid for additive
    /// tables (each row, column and margin adds up).
    init(cells: [[Shown]], rowTotals: [Shown], columnTotals: [Shown], total: Shown, twoDimensional: Bool) {
        let rowCount = cells.count
        let columns = twoDimensional ? (cells.first?.count ?? 0) : 1
        var entries: [Shown] = cells.flatMap { $0.prefix(columns) }
        let rowTotalStart = entries.count
        if twoDimensional { entries += rowTotals }
        let columnTotalStart = entries.count
        if twoDimensional { entries += columnTotals }
        let totalIndex = entries.count
        entries.append(total)
        func cell(_ r: Int, _ c: Int) -> Int { r * columns + c }
        var groups: [[Int]] = []
        if twoDimensional {
            for r in 0..<rowCount { groups.append((0..<columns).map { cell(r, $0) } + [rowTotalStart + r]) }
            for c in 0..<columns { groups.append((0..<rowCount).map { cell($0, c) } + [columnTotalStart + c]) }
            groups.append((0..<rowCount).map { rowTotalStart + $0 } + [totalIndex])
            groups.append((0..<columns).map { columnTotalStart + $0 } + [totalIndex])
        } else {
            groups.append((0..<rowCount).map { cell($0, 0) } + [totalIndex])
        }
        self.groups = groups
        self.shown = entries
    }

    init(groups: [[Int]], shown: [Shown]) {
        self.groups = groups
        self.shown = shown
    }

    /// What a published count in a report's JSON or CSV says: a number, `<11`, or another
    /// marker of a hidden count (anything else is nil).
    static func parse(_ value: Any?) -> Shown? {
        if let number = value as? Int { return .number(number) }
        guard let text = value as? String else { return nil }
        if let number = Int(text) { return .number(number) }
        if text == "<11" { return .small }
        if text == "suppressed" { return .large }
        return nil
    }
}

/// Exact rational numbers for the attacker's elimination.
struct Fraction: Equatable, CustomStringConvertible {
    var numerator: Int
    var denominator: Int

    init(_ value: Int) { numerator = value; denominator = 1 }

    init(_ numerator: Int, _ denominator: Int) {
        precondition(denominator != 0)
        let sign = denominator < 0 ? -1 : 1
        let divisor = max(Fraction.gcd(abs(numerator), abs(denominator)), 1)
        self.numerator = sign * numerator / divisor
        self.denominator = sign * denominator / divisor
    }

    static func gcd(_ a: Int, _ b: Int) -> Int { b == 0 ? a : gcd(b, a % b) }

    var isZero: Bool { numerator == 0 }
    var description: String { denominator == 1 ? "\(numerator)" : "\(numerator)/\(denominator)" }

    static func + (a: Fraction, b: Fraction) -> Fraction { Fraction(a.numerator * b.denominator + b.numerator * a.denominator, a.denominator * b.denominator) }
    static func - (a: Fraction, b: Fraction) -> Fraction { Fraction(a.numerator * b.denominator - b.numerator * a.denominator, a.denominator * b.denominator) }
    static func * (a: Fraction, b: Fraction) -> Fraction { Fraction(a.numerator * b.numerator, a.denominator * b.denominator) }
    static func / (a: Fraction, b: Fraction) -> Fraction { Fraction(a.numerator * b.denominator, a.denominator * b.numerator) }

    /// Reduced row echelon form (zero rows dropped).
    static func rref(_ input: [[Fraction]], columns: Int) -> [[Fraction]] {
        var rows = input
        var pivotRow = 0
        for column in 0..<columns where pivotRow < rows.count {
            guard let found = (pivotRow..<rows.count).first(where: { !rows[$0][column].isZero }) else { continue }
            rows.swapAt(pivotRow, found)
            let pivot = rows[pivotRow][column]
            rows[pivotRow] = rows[pivotRow].map { $0 / pivot }
            for other in rows.indices where other != pivotRow && !rows[other][column].isZero {
                let factor = rows[other][column]
                for c in 0..<columns { rows[other][c] = rows[other][c] - factor * rows[pivotRow][c] }
            }
            pivotRow += 1
        }
        return Array(rows.prefix(pivotRow))
    }
}

/// A deterministic generator (SplitMix64) so property tests are repeatable.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
