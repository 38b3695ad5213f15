import Foundation

/// A request body's JSON, parsed strictly (RFC 8259 with I-JSON's rules, RFC 7493): one value, no
/// duplicate member names, numbers a double can hold, valid UTF-8, bounded nesting. A body that
/// could be read two ways (which of two `status` members counts?) is refused rather than guessed.
/// Numbers keep their text, so an integer field reads exactly what was sent.
indirect enum JSONTree: Sendable {
    case null
    case bool(Bool)
    case number(String)
    case string(String)
    case array([JSONTree])
    case object([(key: String, value: JSONTree)])

    /// Why a body is refused before any field is read.
    enum Refusal: Error, Equatable {
        case syntax
        /// `path` names the member, e.g. `person.identity.given_name`.
        case duplicate(path: String)
        case numberOutOfRange(path: String)
    }

    static let maxDepth = 64

    static func parse(_ bytes: [UInt8]) throws(Refusal) -> JSONTree {
        var parser = Parser(bytes: bytes)
        parser.skipSpace()
        let tree = try parser.value(depth: 0)
        parser.skipSpace()
        guard parser.index == bytes.count else { throw .syntax }
        return tree
    }

    /// `a.b[0].c` from path parts, as `JSONCoding.fieldPath` writes them; the body itself is `body`.
    static func path(_ parts: [String]) -> String {
        var path = ""
        for part in parts {
            if part.hasPrefix("[") || path.isEmpty { path += part } else { path += "." + part }
        }
        return path.isEmpty ? "body" : path
    }

    private struct Parser {
        let bytes: [UInt8]
        var index = 0
        var path: [String] = []

        init(bytes: [UInt8]) { self.bytes = bytes }

        mutating func skipSpace() {
            while index < bytes.count, [0x20, 0x09, 0x0A, 0x0D].contains(bytes[index]) { index += 1 }
        }

        mutating func value(depth: Int) throws(Refusal) -> JSONTree {
            guard depth <= JSONTree.maxDepth, index < bytes.count else { throw .syntax }
            switch bytes[index] {
            case UInt8(ascii: "{"): return try object(depth: depth)
            case UInt8(ascii: "["): return try array(depth: depth)
            case UInt8(ascii: "\""): return .string(try string())
            case UInt8(ascii: "t"): try literal("true"); return .bool(true)
            case UInt8(ascii: "f"): try literal("false"); return .bool(false)
            case UInt8(ascii: "n"): try literal("null"); return .null
            default: return try number()
            }
        }

        mutating func object(depth: Int) throws(Refusal) -> JSONTree {
            index += 1
            var members: [(key: String, value: JSONTree)] = []
            var names: Set<String> = []
            skipSpace()
            if index < bytes.count, bytes[index] == UInt8(ascii: "}") {
                index += 1
                return .object(members)
            }
            while true {
                skipSpace()
                guard index < bytes.count, bytes[index] == UInt8(ascii: "\"") else { throw .syntax }
                let name = try string()
                skipSpace()
                guard index < bytes.count, bytes[index] == UInt8(ascii: ":") else { throw .syntax }
                index += 1
                skipSpace()
                path.append(name)
                guard names.insert(name).inserted else { throw .duplicate(path: JSONTree.path(path)) }
                members.append((name, try value(depth: depth + 1)))
                path.removeLast()
                skipSpace()
                guard index < bytes.count else { throw .syntax }
                if bytes[index] == UInt8(ascii: ",") { index += 1; continue }
                guard bytes[index] == UInt8(ascii: "}") else { throw .syntax }
                index += 1
                return .object(members)
            }
        }

        mutating func array(depth: Int) throws(Refusal) -> JSONTree {
            index += 1
            var elements: [JSONTree] = []
            skipSpace()
            if index < bytes.count, bytes[index] == UInt8(ascii: "]") {
                index += 1
                return .array(elements)
            }
            while true {
                skipSpace()
                path.append("[\(elements.count)]")
                elements.append(try value(depth: depth + 1))
                path.removeLast()
                skipSpace()
                guard index < bytes.count else { throw .syntax }
                if bytes[index] == UInt8(ascii: ",") { index += 1; continue }
                guard bytes[index] == UInt8(ascii: "]") else { throw .syntax }
                index += 1
                return .array(elements)
            }
        }

        mutating func literal(_ word: StaticString) throws(Refusal) {
            let count = word.utf8CodeUnitCount
            guard index + count <= bytes.count else { throw .syntax }
            for offset in 0..<count where bytes[index + offset] != word.utf8Start[offset] { throw .syntax }
            index += count
        }

        /// `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`, finite as a double.
        mutating func number() throws(Refusal) -> JSONTree {
            let start = index
            func digits() -> Int {
                let first = index
                while index < bytes.count, bytes[index] >= UInt8(ascii: "0"), bytes[index] <= UInt8(ascii: "9") { index += 1 }
                return index - first
            }
            if index < bytes.count, bytes[index] == UInt8(ascii: "-") { index += 1 }
            let integerStart = index
            let integerDigits = digits()
            guard integerDigits > 0, integerDigits == 1 || bytes[integerStart] != UInt8(ascii: "0") else { throw .syntax }
            if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
                index += 1
                guard digits() > 0 else { throw .syntax }
            }
            if index < bytes.count, bytes[index] == UInt8(ascii: "e") || bytes[index] == UInt8(ascii: "E") {
                index += 1
                if index < bytes.count, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") { index += 1 }
                guard digits() > 0 else { throw .syntax }
            }
            let text = String(decoding: bytes[start..<index], as: UTF8.self)
            guard let value = Double(text), value.isFinite else { throw .numberOutOfRange(path: JSONTree.path(path)) }
            return .number(text)
        }

        mutating func string() throws(Refusal) -> String {
            index += 1
            var output: [UInt8] = []
            while index < bytes.count {
                let byte = bytes[index]
                index += 1
                switch byte {
                case UInt8(ascii: "\""):
                    guard let text = String(validating: output, as: UTF8.self) else { throw .syntax }
                    return text
                case UInt8(ascii: "\\"):
                    guard index < bytes.count else { throw .syntax }
                    let escape = bytes[index]
                    index += 1
                    switch escape {
                    case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): output.append(escape)
                    case UInt8(ascii: "b"): output.append(0x08)
                    case UInt8(ascii: "f"): output.append(0x0C)
                    case UInt8(ascii: "n"): output.append(0x0A)
                    case UInt8(ascii: "r"): output.append(0x0D)
                    case UInt8(ascii: "t"): output.append(0x09)
                    case UInt8(ascii: "u"):
                        var scalar = try hex4()
                        if (0xD800..<0xDC00).contains(scalar) {
                            // A high surrogate must be followed by its low one.
                            guard index + 1 < bytes.count, bytes[index] == UInt8(ascii: "\\"), bytes[index + 1] == UInt8(ascii: "u") else { throw .syntax }
                            index += 2
                            let low = try hex4()
                            guard (0xDC00..<0xE000).contains(low) else { throw .syntax }
                            scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                        }
                        guard let unicode = Unicode.Scalar(scalar) else { throw .syntax }
                        output.append(contentsOf: Array(String(Character(unicode)).utf8))
                    default:
                        throw .syntax
                    }
                case 0..<0x20:
                    throw .syntax
                default:
                    output.append(byte)
                }
            }
            throw .syntax
        }

        mutating func hex4() throws(Refusal) -> UInt32 {
            guard index + 4 <= bytes.count else { throw .syntax }
            var value: UInt32 = 0
            for _ in 0..<4 {
                let byte = bytes[index]
                index += 1
                let digit: UInt8
                switch byte {
                case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
                case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
                case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
                default: throw .syntax
                }
                value = value << 4 | UInt32(digit)
            }
            return value
        }
    }
}
