import Foundation

extension Suppression {
    /// The most dimensions a report may be broken down by at once.
    public static let maximumDimensions = 3

    /// A table of counts by one to three dimensions with every margin: each entry is named by
    /// its coordinates, one per dimension, an index into that dimension's keys or nil for "all"
    /// (a margin). Three dimensions a, b, c have the cells (a, b, c), the margins (a, b, all),
    /// (a, all, c), (all, b, c), (a, all, all), (all, b, all), (all, all, c) and the total
    /// (all, all, all). A nil count is hidden: `<11` when it is small, `suppressed` when hidden
    /// to protect another.
    public struct Cube: Sendable, Equatable {
        public var keys: [[String]]
        /// Every entry's coordinates: the cells first, then the margins over one dimension, then
        /// over two, the total last.
        public var coordinates: [[Int?]]
        public var counts: [Int?]
        /// Which hidden entries are small ones (indexes into `coordinates`).
        var small: Set<Int>
        let positions: [[Int?]: Int]

        init(keys: [[String]], coordinates: [[Int?]], counts: [Int?], small: Set<Int>) {
            (self.keys, self.coordinates, self.counts, self.small) = (keys, coordinates, counts, small)
            positions = Dictionary(coordinates.enumerated().map { ($0.element, $0.offset) }) { first, _ in first }
        }

        public var dimensions: Int { keys.count }

        public func index(of coordinates: [Int?]) -> Int? { positions[coordinates] }

        /// How the entry at `coordinates` is published: its count (nil: hidden) and whether it is a small one.
        public func entry(_ coordinates: [Int?]) -> (count: Int?, small: Bool) {
            guard let index = index(of: coordinates) else { return (0, false) }
            return (counts[index], small.contains(index))
        }

        public func isSmall(at index: Int) -> Bool { small.contains(index) }

        /// The two-dimensional table of the first two dimensions (with their margins) where the
        /// third is `all`: it publishes exactly what the cube publishes for those entries.
        public var firstTwo: Table {
            let rows = keys.first ?? [], columns = keys.count > 1 ? keys[1] : []
            let rest = [Int?](repeating: nil, count: max(0, keys.count - 2))
            var table = Table(rowKeys: rows, columnKeys: columns, cells: [], rowTotals: [], columnTotals: [], total: nil, small: [])
            var flat = 0
            func take(_ coordinates: [Int?]) -> Int? {
                let (count, isSmall) = entry(coordinates)
                if isSmall { table.small.insert(flat) }
                flat += 1
                return count
            }
            table.cells = rows.indices.map { r in columns.indices.map { c in take([r, c] + rest) } }
            table.rowTotals = rows.indices.map { take([$0, nil] + rest) }
            table.columnTotals = columns.indices.map { take([nil, $0] + rest) }
            table.total = take([nil, nil] + rest)
            return table
        }

        /// Which entries are hidden, named by their keys so cubes of other periods can match them.
        var hiddenEntries: Set<[String?]> {
            Set(coordinates.indices.filter { counts[$0] == nil }.map { Cube.named(coordinates[$0], keys) })
        }

        static func named(_ coordinates: [Int?], _ keys: [[String]]) -> [String?] {
            coordinates.enumerated().map { dimension, index in index.map { keys[dimension][$0] } }
        }
    }

    /// Every entry of a cube with these keys, in `Cube.coordinates` order.
    public static func entries(keys: [[String]]) -> [[Int?]] {
        var all: [[Int?]] = [[]]
        for dimension in keys {
            all = all.flatMap { prefix in (dimension.indices.map { Optional($0) } + [nil]).map { prefix + [$0] } }
        }
        // Stable: within the same number of margins, the order of the keys.
        return all.enumerated().sorted { ($0.element.filter { $0 == nil }.count, $0.offset) < ($1.element.filter { $0 == nil }.count, $1.offset) }
            .map(\.element)
    }

    /// The additive relations of a cube: for every entry and every dimension it is a margin of,
    /// the entries that fix that dimension to each of its keys add up to it. Each group lists its
    /// members, then its sum (indexes into `entries`).
    public static func lines(keys: [[String]], entries: [[Int?]]) -> [[Int]] {
        let position = Dictionary(uniqueKeysWithValues: entries.enumerated().map { ($0.element, $0.offset) })
        var groups: [[Int]] = []
        for (index, entry) in entries.enumerated() {
            for dimension in entry.indices where entry[dimension] == nil && !keys[dimension].isEmpty {
                let members = keys[dimension].indices.compactMap { key -> Int? in
                    var member = entry
                    member[dimension] = key
                    return position[member]
                }
                groups.append(members + [index])
            }
        }
        return groups
    }

    /// Suppresses a cube given its raw counts, keyed by coordinates (a missing entry counts 0).
    /// Totals are given, not summed (a multi-valued dimension counts a case in several cells
    /// but once in a margin); the attacker assumed treats every line as an exact sum, which
    /// only makes them stronger. Every count of 1–10 is hidden, then further counts, until no
    /// hidden one is pinned by the published numbers and the lines' sums (`table`'s attacker,
    /// over every line of the cube: a small cell needs a complement in each of its lines).
    public static func cube(keys: [[String]], counts: [[Int?]: Int]) -> Cube {
        let entries = entries(keys: keys)
        let values = entries.map { counts[$0] ?? 0 }
        let groups = lines(keys: keys, entries: entries)
        let small = Set(values.indices.filter { isSmall(values[$0]) })
        var hidden = small
        var beyondHelp: Set<Int> = []
        let total = values.count - 1
        let sums = Set(groups.compactMap(\.last))
        while true {
            // A line with exactly one hidden entry gives it away by subtraction: cheap to see,
            // and mended on that line (its smallest published count above zero, a cell before a
            // margin), so the linear programs only look for what is less plain.
            if let line = groups.first(where: { group in
                let hiddenInLine = group.filter(hidden.contains)
                return hiddenInLine.count == 1 && !beyondHelp.contains(hiddenInLine[0])
            }), let exposed = line.first(where: hidden.contains) {
                let candidates = line.filter { !hidden.contains($0) && values[$0] > 0 }
                if let pick = candidates.min(by: { (sums.contains($0) ? 1 : 0, values[$0], $0) < (sums.contains($1) ? 1 : 0, values[$1], $1) }) {
                    hidden.insert(pick)
                } else {
                    beyondHelp.insert(exposed)
                }
                continue
            }
            guard let exposed = firstExposed(values: values, hidden: hidden, small: small, groups: groups, skipping: beyondHelp) else { break }
            if let pick = complement(for: exposed, values: values, hidden: hidden, groups: groups, total: total) {
                hidden.insert(pick)
            } else {
                beyondHelp.insert(exposed)
            }
        }
        return Cube(keys: keys, coordinates: entries, counts: values.indices.map { hidden.contains($0) ? nil : values[$0] }, small: small)
    }

    /// The cube of a period made of whole months, published consistently with `months` (the
    /// cubes of its months as `cube` published them): an entry is hidden wherever any month
    /// hides it, as `table(…within:)` does for tables.
    public static func cube(keys: [[String]], counts: [[Int?]: Int], within months: [Cube]) -> Cube {
        var hiddenInMonths = Set<[String?]>()
        for month in months { hiddenInMonths.formUnion(month.hiddenEntries) }
        var result = exactCube(keys: keys, counts: counts)
        for index in result.coordinates.indices {
            guard let count = result.counts[index] else { continue }
            if isSmall(count) { result.small.insert(index) }
            if isSmall(count) || hiddenInMonths.contains(Cube.named(result.coordinates[index], keys)) { result.counts[index] = nil }
        }
        return result
    }

    /// A cube published as counted (`ReportRelease.operational`).
    public static func exactCube(keys: [[String]], counts: [[Int?]: Int]) -> Cube {
        let entries = entries(keys: keys)
        return Cube(keys: keys, coordinates: entries, counts: entries.map { counts[$0] ?? 0 }, small: [])
    }
}
