import Foundation

/// A Swift value that can travel to PostgreSQL as a bound parameter.
///
/// Values go in text format with an unspecified type, so the server infers the type from the
/// statement (a `uuid`, `date`, enum or `jsonb` column all accept their text form). Only
/// `bytea` travels in binary, to avoid doubling its size.
public protocol PGEncodable {
    /// Appends the value as one parameter.
    func pgEncode(into bindings: inout PGBindings) throws
}

/// Parameters laid out as libpq takes them: every value's bytes in one buffer (each followed by
/// a NUL, which libpq expects after text), and per parameter where it starts, its length and its
/// format. A connection keeps one for all its statements (`PGBatch`): a statement binds up to
/// eighteen values, and an array per value showed in every request's profile.
public struct PGBindings: Sendable {
    public enum Format: Int32, Sendable { case text = 0, binary = 1 }

    struct Slot: Sendable {
        /// -1 for NULL.
        var offset: Int32
        var length: Int32
        var format: Int32
    }

    private(set) var bytes: [UInt8] = []
    private(set) var slots: [Slot] = []

    public init() {}

    public var count: Int { slots.count }

    /// Empties the bindings, keeping their storage for the next use.
    mutating func removeAll() {
        bytes.removeAll(keepingCapacity: true)
        slots.removeAll(keepingCapacity: true)
    }

    public mutating func appendNull() {
        slots.append(Slot(offset: -1, length: 0, format: 0))
    }

    /// Text as UTF-8. Text parameters are C strings: a NUL would silently cut the value short.
    public mutating func appendText(_ text: String) throws {
        var text = text
        try text.withUTF8 { try appendText($0) }
    }

    /// Text already as UTF-8 bytes.
    public mutating func appendText(_ utf8: UnsafeBufferPointer<UInt8>) throws {
        if utf8.contains(0) {
            throw PGError(kind: .invalidTextRepresentation, message: "string parameter contains a NUL character")
        }
        append(.text) { $0.append(contentsOf: utf8) }
    }

    public mutating func appendBinary(_ value: some Collection<UInt8>) {
        append(.binary) { $0.append(contentsOf: value) }
    }

    /// One parameter whose bytes `write` appends (text must hold no NUL).
    mutating func append(_ format: Format, _ write: (inout [UInt8]) -> Void) {
        let start = bytes.count
        write(&bytes)
        slots.append(Slot(offset: Int32(start), length: Int32(bytes.count - start), format: format.rawValue))
        // Text needs its NUL; after a binary value it keeps an empty one from reading as NULL.
        bytes.append(0)
    }

    /// A signed integer's decimal digits, without building a string.
    mutating func appendDecimal(_ value: Int64) {
        append(.text) { bytes in
            if value == 0 {
                bytes.append(UInt8(ascii: "0"))
                return
            }
            if value < 0 { bytes.append(UInt8(ascii: "-")) }
            var magnitude = value.magnitude
            let first = bytes.count
            while magnitude > 0 {
                bytes.append(UInt8(ascii: "0") + UInt8(magnitude % 10))
                magnitude /= 10
            }
            bytes[first...].reverse()
        }
    }
}

extension String: PGEncodable {
    public func pgEncode(into bindings: inout PGBindings) throws { try bindings.appendText(self) }
}

extension Substring: PGEncodable {
    public func pgEncode(into bindings: inout PGBindings) throws { try bindings.appendText(String(self)) }
}

extension Int: PGEncodable {
    public func pgEncode(into bindings: inout PGBindings) throws { bindings.appendDecimal(Int64(self)) }
}

extension Int32: PGEncodable {
    public func pgEncode(into bindings: inout PGBindings) throws { bindings.appendDecimal(Int64(self)) }
}

extension Int64: PGEncodable {
    public func pgEncode(into bindings: inout PGBindings) throws { bindings.appendDecimal(self) }
}

extension Double: PGEncodable {
    public func pgEncode(into bindings: inout PGBindings) throws {
        if isNaN { return try bindings.appendText("NaN") }
        if isInfinite { return try bindings.appendText(self < 0 ? "-Infinity" : "Infinity") }
        try bindings.appendText(String(self))
    }
}

extension Bool: PGEncodable {
    public func pgEncode(into bindings: inout PGBindings) throws {
        bindings.append(.text) { $0.append(self ? UInt8(ascii: "t") : UInt8(ascii: "f")) }
    }
}

extension UUID: PGEncodable {
    /// The text form, spelled here: `uuidString` goes through formatted printing, and every
    /// statement binds a few UUIDs. Written on the stack and appended at once.
    public func pgEncode(into bindings: inout PGBindings) throws {
        var spelled: (UInt64, UInt64, UInt64, UInt64, UInt32) = (0, 0, 0, 0, 0)
        withUnsafeMutableBytes(of: &spelled) { output in
            withUnsafeBytes(of: uuid) { raw in
                let digits = UUID.hexDigits.utf8Start
                var position = 0
                for (index, byte) in raw.enumerated() {
                    if index == 4 || index == 6 || index == 8 || index == 10 {
                        output[position] = UInt8(ascii: "-")
                        position += 1
                    }
                    output[position] = digits[Int(byte >> 4)]
                    output[position + 1] = digits[Int(byte & 0x0F)]
                    position += 2
                }
            }
            bindings.append(.text) { $0.append(contentsOf: output) }
        }
    }

    private static let hexDigits: StaticString = "0123456789ABCDEF"
}

extension Date: PGEncodable {
    public func pgEncode(into bindings: inout PGBindings) throws {
        guard timeIntervalSince1970.isFinite, let micros = PGTimestamp.postgresMicroseconds(self) else {
            throw PGError(kind: .invalidTextRepresentation, message: "date is outside the range PostgreSQL stores")
        }
        try bindings.appendText(PGTimestamp.text(fromPostgresMicroseconds: micros))
    }
}

extension Array: PGEncodable where Element == UInt8 {
    public func pgEncode(into bindings: inout PGBindings) throws { bindings.appendBinary(self) }
}

/// A text array parameter (`text[]`, `varchar[]` or an enum array, inferred by the server).
public struct PGTextArray: PGEncodable, Sendable {
    public var elements: [String?]
    public init(_ elements: [String?]) { self.elements = elements }
    public init(_ elements: [String]) { self.elements = elements.map { $0 } }

    /// Written straight into the round trip's buffer: the sealer sends thousands of elements a
    /// second, and a string built scalar by scalar showed in its profile.
    public func pgEncode(into bindings: inout PGBindings) throws {
        if elements.contains(where: { $0?.utf8.contains(0) == true }) {
            throw PGError(kind: .invalidTextRepresentation, message: "array element contains a NUL character")
        }
        bindings.append(.text) { bytes in
            bytes.append(UInt8(ascii: "{"))
            for (index, element) in elements.enumerated() {
                if index > 0 { bytes.append(UInt8(ascii: ",")) }
                guard let element else {
                    bytes.append(contentsOf: "NULL".utf8)
                    continue
                }
                bytes.append(UInt8(ascii: "\""))
                for byte in element.utf8 {
                    if byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") { bytes.append(UInt8(ascii: "\\")) }
                    bytes.append(byte)
                }
                bytes.append(UInt8(ascii: "\""))
            }
            bytes.append(UInt8(ascii: "}"))
        }
    }
}

/// A one-dimensional array parameter in binary format, elements side by side with no NULLs:
/// nothing for the server to parse (the sealer binds thousands of ids and hashes a second).
enum PGBinaryArray {
    /// Appends the array's header and, for each element, its length and what `write` appends.
    static func encode<Element>(
        _ elements: [Element], elementType: PGType, into bindings: inout PGBindings, _ write: (Element, inout [UInt8]) -> Void
    ) throws {
        guard elements.count <= Int32.max else { throw PGError(kind: .other, message: "array parameter too long") }
        bindings.append(.binary) { bytes in
            func int32(_ value: Int32) { withUnsafeBytes(of: value.bigEndian) { bytes.append(contentsOf: $0) } }
            int32(elements.isEmpty ? 0 : 1)
            int32(0)  // no NULLs
            int32(Int32(bitPattern: elementType.rawValue))
            if elements.isEmpty { return }
            int32(Int32(elements.count))
            int32(1)  // lower bound
            for element in elements {
                let lengthAt = bytes.count
                int32(0)
                write(element, &bytes)
                let length = Int32(bytes.count - lengthAt - 4).bigEndian
                withUnsafeBytes(of: length) { bytes.replaceSubrange(lengthAt..<(lengthAt + 4), with: $0) }
            }
        }
    }
}

/// A `bigint[]` parameter, in binary.
public struct PGInt64Array: PGEncodable, Sendable {
    public var elements: [Int64]
    public init(_ elements: [Int64]) { self.elements = elements }

    public func pgEncode(into bindings: inout PGBindings) throws {
        try PGBinaryArray.encode(elements, elementType: .int8, into: &bindings) { value, bytes in
            withUnsafeBytes(of: value.bigEndian) { bytes.append(contentsOf: $0) }
        }
    }
}

/// A `bytea[]` parameter, in binary.
public struct PGByteaArray: PGEncodable, Sendable {
    public var elements: [[UInt8]]
    public init(_ elements: [[UInt8]]) { self.elements = elements }

    public func pgEncode(into bindings: inout PGBindings) throws {
        try PGBinaryArray.encode(elements, elementType: .bytea, into: &bindings) { value, bytes in bytes.append(contentsOf: value) }
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

    public func pgEncode(into bindings: inout PGBindings) throws { try bindings.appendText(text) }

    static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        encoder.dateEncodingStrategy = .iso8601
        return encoder
    }()
}
