import CLibPQ
import Foundation

/// The rows of one statement, in binary format. Owns its `PGresult*` and frees it in `deinit`.
public final class PGResult {
    @usableFromInline let handle: OpaquePointer
    public let rowCount: Int
    public let columnCount: Int
    /// Asked once per column rather than once per value: a list decodes thousands of values.
    @usableFromInline let columnTypes: [PGType]

    init(handle: OpaquePointer) {
        self.handle = handle
        self.rowCount = Int(PQntuples(handle))
        self.columnCount = Int(PQnfields(handle))
        self.columnTypes = (0..<Int32(columnCount)).map { PGType(rawValue: PQftype(handle, $0)) }
    }

    deinit { PQclear(handle) }

    /// Rows changed by an INSERT, UPDATE or DELETE (0 for other commands).
    public var affectedRows: Int {
        guard let text = PQcmdTuples(handle) else { return 0 }
        return Int(String(cString: text)) ?? 0
    }

    public func columnName(_ column: Int) -> String {
        guard let name = PQfname(handle, Int32(column)) else { return "?" }
        return String(cString: name)
    }

    public func columnIndex(_ name: String) -> Int? {
        let index = Int(PQfnumber(handle, name))
        return index < 0 ? nil : index
    }

    @inlinable func columnType(_ column: Int) -> PGType { columnTypes[column] }

    /// The raw bytes of a value, or nil for NULL. Valid while the result lives.
    @inlinable func withValue<T>(row: Int, column: Int, _ body: (UnsafeRawBufferPointer?) throws -> T) rethrows -> T {
        let length = Int(PQgetlength(handle, Int32(row), Int32(column)))
        // NULL has length 0; only an empty value needs asking which it is.
        if length == 0, PQgetisnull(handle, Int32(row), Int32(column)) != 0 { return try body(nil) }
        guard let pointer = PQgetvalue(handle, Int32(row), Int32(column)) else {
            return try body(UnsafeRawBufferPointer(start: nil, count: 0))
        }
        return try body(UnsafeRawBufferPointer(start: pointer, count: length))
    }

    public subscript(row: Int) -> PGRow { PGRow(result: self, index: row) }

    public var rows: [PGRow] { (0..<rowCount).map { PGRow(result: self, index: $0) } }

    /// The first row, if any.
    public var first: PGRow? { rowCount > 0 ? self[0] : nil }
}

// The generic decoders are inlinable so that callers get them specialised for their types: a
// list decodes thousands of values, and an unspecialised call looks up type metadata each time.
public struct PGRow {
    @usableFromInline let result: PGResult
    public let index: Int

    public func isNull(_ column: Int) -> Bool {
        PQgetisnull(result.handle, Int32(index), Int32(column)) != 0
    }

    @inlinable public func decode<T: PGDecodable>(_ type: T.Type = T.self, at column: Int) throws -> T {
        guard column >= 0, column < result.columnCount else {
            throw PGError(kind: .typeMismatch, message: "no column \(column)")
        }
        let columnType = result.columnType(column)
        do {
            return try result.withValue(row: index, column: column) { bytes in
                guard let bytes else { return try T.pgDecodeNull() }
                return try T.pgDecode(bytes, type: columnType)
            }
        } catch var error as PGError {
            error.message += " (column \(result.columnName(column)))"
            throw error
        }
    }

    /// The column's value as the server sent it (binary format), or nil for NULL; valid only
    /// inside `body`. For readers that copy bytes through unchanged, such as audit verification.
    public func withBytes<T>(at column: Int, _ body: (UnsafeRawBufferPointer?) throws -> T) throws -> T {
        guard column >= 0, column < result.columnCount else {
            throw PGError(kind: .typeMismatch, message: "no column \(column)")
        }
        return try result.withValue(row: index, column: column, body)
    }

    public func decode<T: PGDecodable>(_ type: T.Type = T.self, _ name: String) throws -> T {
        guard let column = result.columnIndex(name) else {
            throw PGError(kind: .typeMismatch, message: "no column named \(name)")
        }
        return try decode(type, at: column)
    }

    /// A one-dimensional array column (`text[]`, `uuid[]`, `int8[]`, ...); NULL decodes as nil.
    @inlinable public func decodeArray<T: PGDecodable>(_ type: T.Type = T.self, at column: Int) throws -> [T]? {
        try result.withValue(row: index, column: column) { bytes in
            guard let bytes else { return nil }
            return try PGArrayDecoder.decode(bytes, as: T.self)
        }
    }

    /// A `json` or `jsonb` column decoded with `JSONDecoder`; NULL decodes as nil.
    public func decodeJSON<T: Decodable>(_ type: T.Type = T.self, at column: Int) throws -> T? {
        guard let text = try decode(String?.self, at: column) else { return nil }
        do {
            return try PGRow.jsonDecoder.decode(T.self, from: Data(text.utf8))
        } catch {
            throw PGError(kind: .typeMismatch, message: "column \(result.columnName(column)) is not a JSON \(T.self)")
        }
    }

    static let jsonDecoder: JSONDecoder = {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        return decoder
    }()
}

@usableFromInline enum PGArrayDecoder {
    @inlinable static func decode<T: PGDecodable>(_ bytes: UnsafeRawBufferPointer, as: T.Type) throws -> [T] {
        var offset = 0
        func int32() throws -> Int32 {
            guard offset + 4 <= bytes.count else {
                throw PGError(kind: .typeMismatch, message: "truncated array")
            }
            defer { offset += 4 }
            return Int32(bigEndian: bytes.loadUnaligned(fromByteOffset: offset, as: Int32.self))
        }
        let dimensions = try int32()
        _ = try int32()  // has-nulls flag
        let elementType = PGType(rawValue: UInt32(bitPattern: try int32()))
        if dimensions == 0 { return [] }
        guard dimensions == 1 else {
            throw PGError(kind: .typeMismatch, message: "only one-dimensional arrays decode")
        }
        let count = Int(try int32())
        _ = try int32()  // lower bound
        var values: [T] = []
        values.reserveCapacity(max(0, count))
        for _ in 0..<max(0, count) {
            let length = Int(try int32())
            if length < 0 {
                values.append(try T.pgDecodeNull())
                continue
            }
            guard offset + length <= bytes.count else {
                throw PGError(kind: .typeMismatch, message: "truncated array element")
            }
            let element = UnsafeRawBufferPointer(rebasing: bytes[offset..<(offset + length)])
            values.append(try T.pgDecode(element, type: elementType))
            offset += length
        }
        return values
    }
}
