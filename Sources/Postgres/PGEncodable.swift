import Foundation

/// A Swift value that can travel to PostgreSQL as a bound parameter.
///
/// Values go in text format with an unspecified type, so the server infers the type from the
/// statement (a `uuid`, `date`, enum or `jsonb` column all accept their text form). Only
/// `bytea` travels in binary, to avoid doubling its size.
public protocol PGEncodable {
    func pgEncode() throws -> PGParameter
}

public struct PGParameter: Sendable {
    public enum Format: Int32, Sendable { case text = 0, binary = 1 }
    public var bytes: [UInt8]
    public var format: Format

    public init(text: String) {
        self.bytes = Array(text.utf8)
        self.format = .text
    }

    /// Text already as UTF-8 bytes (no NUL).
    init(textBytes: [UInt8]) {
        self.bytes = textBytes
        self.format = .text
    }

    public init(binary: [UInt8]) {
        self.bytes = binary
        self.format = .binary
    }
}

extension String: PGEncodable {
    public func pgEncode() throws -> PGParameter {
        // Text-format parameters are C strings: a NUL would silently cut the value short.
        if self.utf8.contains(0) {
            throw PGError(kind: .invalidTextRepresentation, message: "string parameter contains a NUL character")
        }
        return PGParameter(text: self)
    }
}

extension Substring: PGEncodable {
    public func pgEncode() throws -> PGParameter { try String(self).pgEncode() }
}

extension Int: PGEncodable {
    public func pgEncode() throws -> PGParameter { PGParameter(text: String(self)) }
}

extension Int32: PGEncodable {
    public func pgEncode() throws -> PGParameter { PGParameter(text: String(self)) }
}

extension Int64: PGEncodable {
    public func pgEncode() throws -> PGParameter { PGParameter(text: String(self)) }
}

extension Double: PGEncodable {
    public func pgEncode() throws -> PGParameter {
        if isNaN { return PGParameter(text: "NaN") }
        if isInfinite { return PGParameter(text: self < 0 ? "-Infinity" : "Infinity") }
        return PGParameter(text: String(self))
    }
}

extension Bool: PGEncodable {
    public func pgEncode() throws -> PGParameter { PGParameter(text: self ? "t" : "f") }
}

extension UUID: PGEncodable {
    /// The text form, spelled here: `uuidString` goes through formatted printing, and every
    /// statement binds a few UUIDs.
    public func pgEncode() throws -> PGParameter {
        var text = [UInt8]()
        text.reserveCapacity(36)
        withUnsafeBytes(of: uuid) { raw in
            for (index, byte) in raw.enumerated() {
                if index == 4 || index == 6 || index == 8 || index == 10 { text.append(UInt8(ascii: "-")) }
                text.append(UUID.hexDigits[Int(byte >> 4)])
                text.append(UUID.hexDigits[Int(byte & 0x0F)])
            }
        }
        return PGParameter(textBytes: text)
    }

    private static let hexDigits = Array("0123456789ABCDEF".utf8)
}

extension Date: PGEncodable {
    public func pgEncode() throws -> PGParameter {
        guard timeIntervalSince1970.isFinite, let micros = PGTimestamp.postgresMicroseconds(self) else {
            throw PGError(kind: .invalidTextRepresentation, message: "date is outside the range PostgreSQL stores")
        }
        return PGParameter(text: PGTimestamp.text(fromPostgresMicroseconds: micros))
    }
}

extension Array: PGEncodable where Element == UInt8 {
    public func pgEncode() throws -> PGParameter { PGParameter(binary: self) }
}

/// A text array parameter (`text[]`, `varchar[]` or an enum array, inferred by the server).
public struct PGTextArray: PGEncodable, Sendable {
    public var elements: [String?]
    public init(_ elements: [String?]) { self.elements = elements }
    public init(_ elements: [String]) { self.elements = elements.map { $0 } }

    public func pgEncode() throws -> PGParameter {
        var text = "{"
        for (index, element) in elements.enumerated() {
            if index > 0 { text += "," }
            guard let element else {
                text += "NULL"
                continue
            }
            if element.utf8.contains(0) {
                throw PGError(kind: .invalidTextRepresentation, message: "array element contains a NUL character")
            }
            text += "\""
            for char in element.unicodeScalars {
                if char == "\"" || char == "\\" { text += "\\" }
                text.unicodeScalars.append(char)
            }
            text += "\""
        }
        text += "}"
        return PGParameter(text: text)
    }
}

/// A JSON document parameter for a `json` or `jsonb` column.
public struct PGJSON: PGEncodable, Sendable {
    public var text: String
    public init(text: String) { self.text = text }
    public init<T: Encodable>(encoding value: T) throws {
        let data = try PGJSON.encoder.encode(value)
        self.text = String(decoding: data, as: UTF8.self)
    }

    public func pgEncode() throws -> PGParameter { try text.pgEncode() }

    static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        encoder.dateEncodingStrategy = .iso8601
        return encoder
    }()
}
