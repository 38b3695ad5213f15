import Foundation

/// A PostgreSQL type, by its OID.
public struct PGType: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public var rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }

    public static let bool = PGType(rawValue: 16)
    public static let bytea = PGType(rawValue: 17)
    public static let name = PGType(rawValue: 19)
    public static let int8 = PGType(rawValue: 20)
    public static let int2 = PGType(rawValue: 21)
    public static let int4 = PGType(rawValue: 23)
    public static let text = PGType(rawValue: 25)
    public static let oid = PGType(rawValue: 26)
    public static let json = PGType(rawValue: 114)
    public static let float4 = PGType(rawValue: 700)
    public static let float8 = PGType(rawValue: 701)
    public static let unknown = PGType(rawValue: 705)
    public static let bpchar = PGType(rawValue: 1042)
    public static let varchar = PGType(rawValue: 1043)
    public static let date = PGType(rawValue: 1082)
    public static let timestamp = PGType(rawValue: 1114)
    public static let timestamptz = PGType(rawValue: 1184)
    public static let numeric = PGType(rawValue: 1700)
    public static let uuid = PGType(rawValue: 2950)
    public static let jsonb = PGType(rawValue: 3802)

    public var description: String { "oid \(rawValue)" }

    /// Types whose binary form is plain UTF-8 text.
    var isTextLike: Bool {
        self == .text || self == .varchar || self == .bpchar || self == .name || self == .unknown || self == .json
    }
}

/// A Swift type that a column's binary value decodes into. A mismatch throws `.typeMismatch`.
public protocol PGDecodable {
    static func pgDecode(_ bytes: UnsafeRawBufferPointer, type: PGType) throws -> Self
    /// The value for SQL NULL: `nil` for optionals, an error for everything else.
    static func pgDecodeNull() throws -> Self
}

extension PGDecodable {
    public static func pgDecodeNull() throws -> Self {
        throw PGError(kind: .typeMismatch, message: "unexpected NULL for \(Self.self)")
    }

    static func mismatch(_ type: PGType) -> PGError {
        PGError(kind: .typeMismatch, message: "cannot decode \(type) as \(Self.self)")
    }
}

extension Optional: PGDecodable where Wrapped: PGDecodable {
    public static func pgDecode(_ bytes: UnsafeRawBufferPointer, type: PGType) throws -> Self {
        try Wrapped.pgDecode(bytes, type: type)
    }
    public static func pgDecodeNull() throws -> Self { nil }
}

enum PGBinary {
    static func integer(_ bytes: UnsafeRawBufferPointer, type: PGType) -> Int64? {
        switch (type, bytes.count) {
        case (.int2, 2): return Int64(Int16(bigEndian: bytes.loadUnaligned(as: Int16.self)))
        case (.int4, 4): return Int64(Int32(bigEndian: bytes.loadUnaligned(as: Int32.self)))
        case (.oid, 4): return Int64(UInt32(bigEndian: bytes.loadUnaligned(as: UInt32.self)))
        case (.int8, 8): return Int64(bigEndian: bytes.loadUnaligned(as: Int64.self))
        default: return nil
        }
    }

    static func utf8(_ bytes: UnsafeRawBufferPointer) -> String {
        String(decoding: bytes, as: UTF8.self)
    }
}

extension Int64: PGDecodable {
    public static func pgDecode(_ bytes: UnsafeRawBufferPointer, type: PGType) throws -> Int64 {
        if let value = PGBinary.integer(bytes, type: type) { return value }
        if type == .numeric, let text = PGNumeric.text(bytes), let value = Int64(text) { return value }
        throw mismatch(type)
    }
}

extension Int: PGDecodable {
    public static func pgDecode(_ bytes: UnsafeRawBufferPointer, type: PGType) throws -> Int {
        Int(try Int64.pgDecode(bytes, type: type))
    }
}

extension Int32: PGDecodable {
    public static func pgDecode(_ bytes: UnsafeRawBufferPointer, type: PGType) throws -> Int32 {
        guard let value = Int32(exactly: try Int64.pgDecode(bytes, type: type)) else { throw mismatch(type) }
        return value
    }
}

extension Double: PGDecodable {
    public static func pgDecode(_ bytes: UnsafeRawBufferPointer, type: PGType) throws -> Double {
        switch (type, bytes.count) {
        case (.float8, 8): return Double(bitPattern: UInt64(bigEndian: bytes.loadUnaligned(as: UInt64.self)))
        case (.float4, 4): return Double(Float(bitPattern: UInt32(bigEndian: bytes.loadUnaligned(as: UInt32.self))))
        case (.numeric, _):
            guard let text = PGNumeric.text(bytes), let value = Double(text) else { throw mismatch(type) }
            return value
        default:
            if let value = PGBinary.integer(bytes, type: type) { return Double(value) }
            throw mismatch(type)
        }
    }
}

extension Bool: PGDecodable {
    public static func pgDecode(_ bytes: UnsafeRawBufferPointer, type: PGType) throws -> Bool {
        guard type == .bool, bytes.count == 1 else { throw mismatch(type) }
        return bytes[0] != 0
    }
}

extension String: PGDecodable {
    public static func pgDecode(_ bytes: UnsafeRawBufferPointer, type: PGType) throws -> String {
        if type.isTextLike { return PGBinary.utf8(bytes) }
        if type == .jsonb, bytes.count >= 1, bytes[0] == 1 {
            return PGBinary.utf8(UnsafeRawBufferPointer(rebasing: bytes[1...]))
        }
        if type == .numeric, let text = PGNumeric.text(bytes) { return text }
        // Enum and domain types over text arrive with their own OIDs; their binary form is text.
        if type.rawValue >= 16384 { return PGBinary.utf8(bytes) }
        throw mismatch(type)
    }
}

extension UUID: PGDecodable {
    public static func pgDecode(_ bytes: UnsafeRawBufferPointer, type: PGType) throws -> UUID {
        guard type == .uuid, bytes.count == 16 else { throw mismatch(type) }
        var raw: uuid_t = (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        withUnsafeMutableBytes(of: &raw) { $0.copyMemory(from: bytes) }
        return UUID(uuid: raw)
    }
}

extension Date: PGDecodable {
    public static func pgDecode(_ bytes: UnsafeRawBufferPointer, type: PGType) throws -> Date {
        switch (type, bytes.count) {
        case (.timestamptz, 8), (.timestamp, 8):
            let micros = Int64(bigEndian: bytes.loadUnaligned(as: Int64.self))
            if micros == Int64.max { return .distantFuture }
            if micros == Int64.min { return .distantPast }
            return PGTimestamp.date(fromPostgresMicroseconds: micros)
        case (.date, 4):
            let days = Int32(bigEndian: bytes.loadUnaligned(as: Int32.self))
            if days == Int32.max { return .distantFuture }
            if days == Int32.min { return .distantPast }
            return PGTimestamp.date(fromPostgresDays: days)
        default:
            throw mismatch(type)
        }
    }
}

extension Array: PGDecodable where Element == UInt8 {
    public static func pgDecode(_ bytes: UnsafeRawBufferPointer, type: PGType) throws -> [UInt8] {
        guard type == .bytea else { throw mismatch(type) }
        return [UInt8](bytes)
    }
}

/// Decodes PostgreSQL's binary `numeric` into its exact decimal text.
enum PGNumeric {
    static func text(_ bytes: UnsafeRawBufferPointer) -> String? {
        guard bytes.count >= 8 else { return nil }
        func int16(_ offset: Int) -> Int {
            Int(Int16(bigEndian: bytes.loadUnaligned(fromByteOffset: offset, as: Int16.self)))
        }
        let count = int16(0), weight = int16(2), scale = int16(6)
        let sign = UInt16(bigEndian: bytes.loadUnaligned(fromByteOffset: 4, as: UInt16.self))
        switch sign {
        case 0xC000: return "NaN"
        case 0xD000: return "Infinity"
        case 0xF000: return "-Infinity"
        default: break
        }
        guard count >= 0, bytes.count >= 8 + 2 * count else { return nil }
        func digit(_ index: Int) -> Int { index >= 0 && index < count ? int16(8 + 2 * index) : 0 }
        func group(_ value: Int) -> String {
            let text = String(value)
            return String(repeating: "0", count: 4 - text.count) + text
        }
        var integer = ""
        if weight >= 0 {
            for index in 0...weight { integer += index == 0 ? String(digit(index)) : group(digit(index)) }
        } else {
            integer = "0"
        }
        var fraction = ""
        var index = weight + 1
        while fraction.count < scale {
            fraction += group(digit(index))
            index += 1
        }
        var text = (sign == 0x4000 ? "-" : "") + integer
        if scale > 0 { text += "." + fraction.prefix(scale) }
        return text
    }
}
