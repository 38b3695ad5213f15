import Foundation
import HavenCore
import Testing

/// Small-cell suppression of tables by three dimensions (S18), without a database: every line
/// of the cube (a cell's neighbours along each dimension, with their margin) is a sum an
/// attacker knows, so a small cell needs a complement in each of its lines, and nothing hidden
/// may be recovered from the margins by the linear or the bounds attack (`Differencing`).
@Suite("Privacy: small-cell suppression in three dimensions")
struct PrivacySuppressionCubeTests {
    /// The raw counts of an additive cube given its cells (`cells[a][b][c]`), every margin summed.
    static func counts(_ cells: [[[Int]]]) -> (keys: [[String]], counts: [[Int?]: Int]) {
        let a = cells.count, b = cells.first?.count ?? 0, c = cells.first?.first?.count ?? 0
        let keys = [(0..<a).map { "a\($0)" }, (0..<b).map { "b\($0)" }, (0..<c).map { "c\($0)" }]
        var counts: [[Int?]: Int] = [:]
        for entry in Suppression.entries(keys: keys) {
            var sum = 0
            for i in 0..<a where entry[0] == nil || entry[0] == i {
                for j in 0..<b where entry[1] == nil || entry[1] == j {
                    for k in 0..<c where entry[2] == nil || entry[2] == k { sum += cells[i][j][k] }
                }
            }
            counts[entry] = sum
        }
        return (keys, counts)
    }

    /// What the cube publishes, entry by entry, with its lines, for the attacker.
    static func attack(_ cube: Suppression.Cube) -> Differencing {
        let shown: [Differencing.Shown] = cube.counts.indices.map { index in
            cube.counts[index].map { .number($0) } ?? (cube.isSmall(at: index) ? .small : .large)
        }
        return Differencing(groups: Suppression.lines(keys: cube.keys, entries: cube.coordinates), shown: shown)
    }

    /// Small counts hidden and said to be small, published counts true, nothing hidden recoverable.
    static func expectSafe(_ cells: [[[Int]]], _ cube: Suppression.Cube, sourceLocation: SourceLocation = #_sourceLocation) {
        let (_, raw) = counts(cells)
        let attack = Self.attack(cube)
        for (index, entry) in cube.coordinates.enumerated() {
            let value = raw[entry] ?? 0
            switch attack.shown[index] {
            case .number(let shown):
                #expect(!Suppression.isSmall(value), "\(entry) = \(value) is published", sourceLocation: sourceLocation)
                #expect(shown == value, "\(entry) published as \(shown), is \(value)", sourceLocation: sourceLocation)
            case .small:
                #expect(Suppression.isSmall(value), "\(entry) = \(value) is shown as <11", sourceLocation: sourceLocation)
            case .large, .hidden:
                #expect(!Suppression.isSmall(value), "\(entry) = \(value) is hidden but not marked small", sourceLocation: sourceLocation)
            }
        }
        let recovered = attack.recovered()
        let how = recovered.map { "\(cube.coordinates[$0.entry]) = \(raw[cube.coordinates[$0.entry]] ?? 0) by \($0.how)" }.joined(separator: "; ")
        #expect(recovered.isEmpty, "recoverable from \(cells): \(how)", sourceLocation: sourceLocation)
    }

    static func suppressed(_ cells: [[[Int]]]) -> Suppression.Cube {
        let (keys, counts) = counts(cells)
        return Suppression.cube(keys: keys, counts: counts)
    }

    @Test("a cube has every margin: 2 × 3 × 2 cells, 6 + 4 + 6 two-way margins, 2 + 3 + 2 one-way, the total; each line sums to its margin")
    func entriesAndLines() {
        let keys = [["x", "y"], ["p", "q", "r"], ["m", "n"]]
        let entries = Suppression.entries(keys: keys)
        #expect(entries.count == 3 * 4 * 3)
        #expect(entries.prefix(12).allSatisfy { !$0.contains(nil) }, "cells first")
        #expect(entries.last == [nil, nil, nil], "the total last")
        #expect(Set(entries).count == entries.count)
        // A line per margin and per dimension it runs along: (2·3 + 2·2 + 3·2) one-way lines of
        // the two-way margins, 2·(2 + 3 + 2) of the one-way margins, 3 of the total.
        let lines = Suppression.lines(keys: keys, entries: entries)
        #expect(lines.count == 16 + 14 + 3)
        #expect(lines.allSatisfy { entries[$0.last ?? 0].contains(nil) })
    }

    @Test("no small count: everything is published")
    func nothingSmall() {
        let cells = [[[12, 30], [0, 44]], [[20, 11], [15, 16]]]
        let cube = Self.suppressed(cells)
        #expect(cube.counts.allSatisfy { $0 != nil })
        #expect(cube.entry([nil, nil, nil]).count == 148)
        #expect(cube.entry([1, nil, 0]).count == 35)
    }

    @Test("10 is hidden, 11 is published, 0 is published")
    func boundary() {
        let at = Self.suppressed([[[11, 50], [40, 60]], [[30, 20], [25, 0]]])
        #expect(at.counts.allSatisfy { $0 != nil }, "11 and 0 are published")
        let below = [[[10, 50], [40, 60]], [[30, 20], [25, 0]]]
        let cube = Self.suppressed(below)
        #expect(cube.entry([0, 0, 0]).count == nil)
        #expect(cube.entry([0, 0, 0]).small)
        Self.expectSafe(below, cube)
    }

    @Test("one small cell hides a complement in each of its three lines, so no margin gives it back")
    func oneSmallCell() {
        let cells = [[[5, 40, 30], [20, 25, 35]], [[45, 50, 15], [60, 12, 22]], [[33, 18, 27], [14, 70, 16]]]
        let cube = Self.suppressed(cells)
        #expect(cube.entry([0, 0, 0]).count == nil && cube.entry([0, 0, 0]).small)
        // The cell's three lines: along a (b0, c0), along b (a0, c0), along c (a0, b0).
        let alongA: [[Int?]] = [[0, 0, 0], [1, 0, 0], [2, 0, 0], [nil, 0, 0]]
        let alongB: [[Int?]] = [[0, 0, 0], [0, 1, 0], [0, nil, 0]]
        let alongC: [[Int?]] = [[0, 0, 0], [0, 0, 1], [0, 0, 2], [0, 0, nil]]
        for line in [alongA, alongB, alongC] {
            let hidden = line.filter { cube.entry($0).count == nil }
            #expect(hidden.count >= 2, "line \(line): only \(hidden) hidden")
        }
        #expect(cube.entries(hiddenNotSmall: true) >= 3, "at least one complement per line")
        Self.expectSafe(cells, cube)
    }

    @Test("a small cell alone in its lines (every other entry zero) hides its margins, up to the total")
    func loneSmallCell() {
        let cells = [[[0, 0], [0, 0]], [[0, 7], [0, 0]]]
        let cube = Self.suppressed(cells)
        #expect(cube.entry([nil, nil, nil]).count == nil)
        #expect(cube.entry([1, 0, 1]).small)
        Self.expectSafe(cells, cube)
    }

    @Test("two small cells whose lines cross are both kept hidden, ones and tens alike (the bounds attack)")
    func boundsAttack() {
        for small in [1, 10] {
            let cells = [[[small, 30], [40, small]], [[25, 50], [small, 35]]]
            Self.expectSafe(cells, Self.suppressed(cells))
        }
    }

    @Test("multi-valued dimensions: given margins are used as they are")
    func givenMargins() {
        let keys = [["sexual", "forced_labour"], ["female"], ["2026-Q1"]]
        var counts: [[Int?]: Int] = [:]
        for entry in Suppression.entries(keys: keys) { counts[entry] = entry[0] == nil ? 40 : (entry[0] == 0 ? 30 : 25) }
        let cube = Suppression.cube(keys: keys, counts: counts)
        #expect(cube.entry([nil, nil, nil]).count == 40)
        #expect(cube.entry([0, 0, 0]).count == 30)
    }

    @Test("the first two dimensions' table publishes what the cube publishes where the third is all")
    func firstTwo() {
        let cells = [[[5, 40, 30], [20, 25, 35]], [[45, 50, 15], [60, 12, 22]]]
        let cube = Self.suppressed(cells)
        let table = cube.firstTwo
        #expect(table.rowKeys == ["a0", "a1"] && table.columnKeys == ["b0", "b1"])
        for r in 0..<2 {
            for c in 0..<2 { #expect(table.cells[r][c] == cube.entry([r, c, nil]).count) }
            #expect(table.rowTotals[r] == cube.entry([r, nil, nil]).count)
        }
        #expect(table.total == cube.entry([nil, nil, nil]).count)
    }

    @Test("a period made of months hides every entry any month hides, and every small one")
    func withinMonths() {
        let january = Self.suppressed([[[5, 40], [20, 25]], [[45, 50], [60, 12]]])
        let year = Self.counts([[[25, 80], [40, 50]], [[90, 100], [120, 24]]])
        let cube = Suppression.cube(keys: year.keys, counts: year.counts, within: [january])
        for (index, entry) in cube.coordinates.enumerated() where january.counts[january.index(of: entry) ?? 0] == nil {
            #expect(cube.counts[index] == nil, "\(entry) is hidden in January")
        }
        let exact = Suppression.exactCube(keys: year.keys, counts: year.counts)
        #expect(exact.counts.allSatisfy { $0 != nil })
    }

    @Test("random additive cubes (seeded): small counts hidden, published counts true, nothing hidden recoverable")
    func randomCubes() {
        var generator = SplitMix64(seed: 0x4355_4245_5333_4431)
        func count() -> Int {
            switch Int.random(in: 0..<10, using: &generator) {
            case 0...2: return 0
            case 3...4: return Int.random(in: 1...10, using: &generator)
            default: return Int.random(in: 11...90, using: &generator)
            }
        }
        for _ in 0..<40 {
            let a = Int.random(in: 1...3, using: &generator), b = Int.random(in: 2...3, using: &generator), c = Int.random(in: 2...3, using: &generator)
            let cells = (0..<a).map { _ in (0..<b).map { _ in (0..<c).map { _ in count() } } }
            Self.expectSafe(cells, Self.suppressed(cells))
        }
    }
}

extension Suppression.Cube {
    /// How many entries are hidden to protect another (`suppressed`, not small).
    func entries(hiddenNotSmall: Bool) -> Int {
        counts.indices.filter { counts[$0] == nil && !isSmall(at: $0) }.count
    }
}
