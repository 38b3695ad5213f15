import Postgres

extension PGRow {
    /// A text column holding one of a closed set of codes. A value the code does not know (a
    /// schema ahead of this build, a hand edit) is an error, never a default: a default role,
    /// status or consent state would be a decision nobody made.
    func code<T: RawRepresentable>(_ type: T.Type, at column: Int) throws -> T where T.RawValue == String {
        let text: String = try decode(at: column)
        guard let value = T(rawValue: text) else { throw StoreError.configuration("unexpected \(T.self) value in column \(column)") }
        return value
    }

    /// A text array column of such codes (NULL is empty), with the same rule for each element:
    /// an unknown one is an error, never dropped.
    func codes<T: RawRepresentable>(_ type: T.Type, at column: Int) throws -> [T] where T.RawValue == String {
        try (decodeArray(String.self, at: column) ?? []).map { text in
            guard let value = T(rawValue: text) else { throw StoreError.configuration("unexpected \(T.self) value in column \(column)") }
            return value
        }
    }
}
