import Foundation

/// A small linear program: the least and greatest value of one variable subject to equalities
/// and bounds, by a two-phase simplex with Bland's rule. Used to ask what an attacker could
/// learn about a suppressed count from the published ones; tables are small, so a dense
/// tableau in doubles is plenty.
struct LinearProgram {
    /// Equalities: Σ coefficients[v] · x[v] = constant.
    struct Equality {
        var coefficients: [Int: Double]
        var constant: Double
    }

    var variables: Int
    var lower: [Double]
    /// nil: unbounded above.
    var upper: [Double?]
    var equalities: [Equality]

    /// The range `variable` can take, or nil when the constraints have no solution.
    func range(of variable: Int) -> (low: Double, high: Double)? {
        guard let low = optimum(of: variable, maximise: false) else { return nil }
        let high = optimum(of: variable, maximise: true) ?? .infinity
        return (low, high)
    }

    /// min or max of x[variable]; +∞ for an unbounded maximum, nil when infeasible.
    private func optimum(of variable: Int, maximise: Bool) -> Double? {
        // Shift to y = x − lower ≥ 0, add a slack per finite upper bound, an artificial per row.
        var rows: [[Double]] = []
        var rhs: [Double] = []
        let bounded = (0..<variables).filter { upper[$0] != nil }
        let slackBase = variables
        let columns = variables + bounded.count
        for equality in equalities {
            var row = [Double](repeating: 0, count: columns)
            var constant = equality.constant
            for (index, coefficient) in equality.coefficients {
                row[index] += coefficient
                constant -= coefficient * lower[index]
            }
            rows.append(row)
            rhs.append(constant)
        }
        for (position, index) in bounded.enumerated() {
            var row = [Double](repeating: 0, count: columns)
            row[index] = 1
            row[slackBase + position] = 1
            rows.append(row)
            rhs.append((upper[index] ?? 0) - lower[index])
        }
        for index in rows.indices where rhs[index] < 0 {
            rows[index] = rows[index].map { -$0 }
            rhs[index] = -rhs[index]
        }
        var tableau = Tableau(rows: rows, rhs: rhs)
        guard tableau.phaseOne() else { return nil }
        var objective = [Double](repeating: 0, count: columns)
        // The tableau minimises; maximising x is minimising −x.
        objective[variable] = maximise ? -1 : 1
        guard let value = tableau.minimise(objective) else { return maximise ? .infinity : nil }
        return (maximise ? -value : value) + lower[variable]
    }
}

private struct Tableau {
    static let epsilon = 1e-9

    var matrix: [[Double]]
    var rhs: [Double]
    var basis: [Int]
    let structural: Int

    /// Rows with an artificial variable each as the starting basis.
    init(rows: [[Double]], rhs: [Double]) {
        structural = rows.first?.count ?? 0
        matrix = rows.enumerated().map { index, row in
            var extended = row
            extended += [Double](repeating: 0, count: rows.count)
            extended[row.count + index] = 1
            return extended
        }
        self.rhs = rhs
        basis = rows.indices.map { (rows.first?.count ?? 0) + $0 }
    }

    /// Drives the artificials out; false when the system has no solution.
    mutating func phaseOne() -> Bool {
        let width = matrix.first?.count ?? structural
        var objective = [Double](repeating: 0, count: width)
        for index in structural..<width { objective[index] = 1 }
        guard let value = run(objective, allowed: width) else { return false }
        if value > 1e-7 { return false }
        // Pivot any artificial still basic (at zero) out, where a structural column allows.
        for row in basis.indices where basis[row] >= structural {
            if let column = (0..<structural).first(where: { abs(matrix[row][$0]) > Tableau.epsilon }) {
                pivot(row: row, column: column)
            }
        }
        return true
    }

    /// Minimises over the structural columns only; nil when unbounded below.
    mutating func minimise(_ objective: [Double]) -> Double? {
        var extended = objective
        extended += [Double](repeating: 0, count: (matrix.first?.count ?? structural) - structural)
        return run(extended, allowed: structural)
    }

    private mutating func run(_ objective: [Double], allowed: Int) -> Double? {
        for _ in 0..<10_000 {
            // Reduced costs of the non-basic columns; Bland: the first that improves.
            var entering: Int?
            for column in 0..<allowed where !basis.contains(column) {
                var reduced = objective[column]
                for row in basis.indices { reduced -= objective[basis[row]] * matrix[row][column] }
                if reduced < -Tableau.epsilon {
                    entering = column
                    break
                }
            }
            guard let column = entering else {
                return basis.indices.reduce(0) { $0 + objective[basis[$1]] * rhs[$1] }
            }
            var leaving: Int?
            var best = Double.infinity
            for row in basis.indices where matrix[row][column] > Tableau.epsilon {
                let ratio = rhs[row] / matrix[row][column]
                if ratio < best - Tableau.epsilon || (abs(ratio - best) <= Tableau.epsilon && basis[row] < basis[leaving ?? row]) {
                    best = ratio
                    leaving = row
                }
            }
            guard let row = leaving else { return nil }
            pivot(row: row, column: column)
        }
        return nil
    }

    private mutating func pivot(row: Int, column: Int) {
        let factor = matrix[row][column]
        matrix[row] = matrix[row].map { $0 / factor }
        rhs[row] /= factor
        for other in matrix.indices where other != row {
            let scale = matrix[other][column]
            if abs(scale) <= Tableau.epsilon { continue }
            for index in matrix[other].indices { matrix[other][index] -= scale * matrix[row][index] }
            rhs[other] -= scale * rhs[row]
        }
        basis[row] = column
    }
}
