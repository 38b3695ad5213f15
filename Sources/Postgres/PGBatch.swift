import CLibPQ

/// The statements of one round trip with their parameters encoded side by side. A connection
/// keeps one and empties it between round trips, so once warm it allocates nothing.
struct PGBatch {
    private(set) var bindings = PGBindings()
    private(set) var statements: [(sql: String, parameters: Range<Int>)] = []

    mutating func removeAll() {
        bindings.removeAll()
        statements.removeAll(keepingCapacity: true)
    }

    mutating func add(_ sql: String, _ parameters: [(any PGEncodable)?]) throws {
        let start = bindings.count
        for parameter in parameters {
            if let parameter { try parameter.pgEncode(into: &bindings) } else { bindings.appendNull() }
        }
        statements.append((sql, start..<bindings.count))
    }

    mutating func add(_ statement: PGStatement) throws {
        let start = bindings.count
        for parameter in statement.parameters {
            if let parameter { try parameter.pgEncode(into: &bindings) } else { bindings.appendNull() }
        }
        statements.append((statement.sql, start..<bindings.count))
    }

    /// Lays statement `index`'s parameters out as the C arrays libpq wants, valid for the
    /// duration of `body` (on the stack: nothing is allocated here).
    func withParameterPointers<T>(
        _ index: Int,
        _ body: (UnsafePointer<UnsafePointer<CChar>?>?, UnsafePointer<Int32>?, UnsafePointer<Int32>?) throws -> T
    ) throws -> T {
        let range = statements[index].parameters
        let count = range.count
        if count == 0 { return try body(nil, nil, nil) }
        return try bindings.bytes.withUnsafeBytes { buffer in
            let base = buffer.baseAddress?.assumingMemoryBound(to: CChar.self)
            return try withUnsafeTemporaryAllocation(of: UnsafePointer<CChar>?.self, capacity: count) { values in
                try withUnsafeTemporaryAllocation(of: Int32.self, capacity: 2 * count) { numbers in
                    for (position, slot) in bindings.slots[range].enumerated() {
                        values[position] = slot.offset < 0 ? nil : base.map { UnsafePointer($0 + Int(slot.offset)) }
                        numbers[position] = slot.length
                        numbers[count + position] = slot.format
                    }
                    let numbers = UnsafePointer(numbers.baseAddress)
                    return try body(UnsafePointer(values.baseAddress), numbers, numbers.map { $0 + count })
                }
            }
        }
    }
}
