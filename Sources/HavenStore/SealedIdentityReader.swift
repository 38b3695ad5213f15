import Foundation
import HavenCore

/// Reads the sealed identity of a case (the JSON `FieldSealing` wrote) without Foundation's
/// decoder, which cost more than the AES-GCM that opened it: every audited read of a case opens
/// one. Strings, arrays, objects and null only, as `PersonIdentity` is written; anything else
/// answers nil and the caller falls back to `JSONDecoder`.
enum SealedIdentityReader {
    static func read(_ bytes: [UInt8]) -> PersonIdentity? {
        var parser = Parser(bytes: bytes)
        guard let root = parser.value(), parser.atEnd, case .object(let fields) = root else { return nil }
        var identity = PersonIdentity()
        for (key, value) in fields {
            switch key {
            case "given_name": guard string(value, into: &identity.givenName) else { return nil }
            case "family_name": guard string(value, into: &identity.familyName) else { return nil }
            case "address": guard string(value, into: &identity.address) else { return nil }
            case "aliases": guard strings(value, into: &identity.aliases) else { return nil }
            case "date_of_birth": guard day(value, into: &identity.dateOfBirth) else { return nil }
            case "contact":
                if case .null = value { identity.contact = nil; continue }
                guard case .object(let contactFields) = value else { return nil }
                var contact = PersonIdentity.Contact()
                for (contactKey, contactValue) in contactFields {
                    switch contactKey {
                    case "phone": guard string(contactValue, into: &contact.phone) else { return nil }
                    case "email": guard string(contactValue, into: &contact.email) else { return nil }
                    case "other": guard string(contactValue, into: &contact.other) else { return nil }
                    default: continue
                    }
                }
                identity.contact = contact
            case "identity_documents":
                if case .null = value { identity.identityDocuments = nil; continue }
                guard case .array(let elements) = value else { return nil }
                var documents: [PersonIdentity.IdentityDocument] = []
                for element in elements {
                    guard case .object(let documentFields) = element else { return nil }
                    var type: String?
                    var document = PersonIdentity.IdentityDocument(type: "")
                    for (documentKey, documentValue) in documentFields {
                        switch documentKey {
                        case "type": guard string(documentValue, into: &type) else { return nil }
                        case "number": guard string(documentValue, into: &document.number) else { return nil }
                        case "issuing_country": guard string(documentValue, into: &document.issuingCountry) else { return nil }
                        case "expires_on": guard day(documentValue, into: &document.expiresOn) else { return nil }
                        default: continue
                        }
                    }
                    guard let type else { return nil }
                    document.type = type
                    documents.append(document)
                }
                identity.identityDocuments = documents
            default: continue
            }
        }
        return identity
    }

    private static func string(_ value: Node, into target: inout String?) -> Bool {
        switch value {
        case .null: target = nil
        case .string(let text): target = text
        default: return false
        }
        return true
    }

    private static func strings(_ value: Node, into target: inout [String]?) -> Bool {
        switch value {
        case .null: target = nil
        case .array(let elements):
            var texts: [String] = []
            for element in elements {
                guard case .string(let text) = element else { return false }
                texts.append(text)
            }
            target = texts
        default: return false
        }
        return true
    }

    private static func day(_ value: Node, into target: inout CalendarDate?) -> Bool {
        switch value {
        case .null: target = nil
        case .string(let text):
            guard let date = CalendarDate(text) else { return false }
            target = date
        default: return false
        }
        return true
    }

    // Not `indirect`: arrays already hold their elements out of line, and a boxed node would
    // cost an allocation each.
    enum Node {
        case null
        case string(String)
        case array([Node])
        case object([(String, Node)])
    }

    struct Parser {
        let bytes: [UInt8]
        var index = 0

        init(bytes: [UInt8]) { self.bytes = bytes }

        var atEnd: Bool {
            mutating get {
                skipSpace()
                return index == bytes.count
            }
        }

        mutating func skipSpace() {
            while index < bytes.count {
                switch bytes[index] {
                case 0x20, 0x0A, 0x0D, 0x09: index += 1
                default: return
                }
            }
        }

        mutating func value() -> Node? {
            skipSpace()
            guard index < bytes.count else { return nil }
            switch bytes[index] {
            case UInt8(ascii: "\""): return string().map(Node.string)
            case UInt8(ascii: "n"):
                guard bytes.count - index >= 4, bytes[index..<index + 4].elementsEqual("null".utf8) else { return nil }
                index += 4
                return .null
            case UInt8(ascii: "["):
                var elements: [Node] = []
                let complete = items(closedBy: UInt8(ascii: "]")) { parser in
                    guard let element = parser.value() else { return false }
                    elements.append(element)
                    return true
                }
                return complete ? .array(elements) : nil
            case UInt8(ascii: "{"):
                var members: [(String, Node)] = []
                let complete = items(closedBy: UInt8(ascii: "}")) { parser in
                    parser.skipSpace()
                    guard parser.index < parser.bytes.count, parser.bytes[parser.index] == UInt8(ascii: "\""), let key = parser.string() else { return false }
                    parser.skipSpace()
                    guard parser.index < parser.bytes.count, parser.bytes[parser.index] == UInt8(ascii: ":") else { return false }
                    parser.index += 1
                    guard let member = parser.value() else { return false }
                    members.append((key, member))
                    return true
                }
                return complete ? .object(members) : nil
            default:
                return nil  // numbers and booleans: not part of an identity
            }
        }

        /// The comma-separated items of an array or object whose opening bracket is at `index`,
        /// each read by `item`, through the closing bracket; false for anything malformed.
        mutating func items(closedBy close: UInt8, _ item: (inout Parser) -> Bool) -> Bool {
            index += 1
            skipSpace()
            if index < bytes.count, bytes[index] == close {
                index += 1
                return true
            }
            while true {
                guard item(&self) else { return false }
                skipSpace()
                guard index < bytes.count else { return false }
                if bytes[index] == UInt8(ascii: ",") {
                    index += 1
                    continue
                }
                guard bytes[index] == close else { return false }
                index += 1
                return true
            }
        }

        /// A string at `index` (its opening quote), escapes resolved.
        mutating func string() -> String? {
            index += 1
            let start = index
            // The common case: no escape, copied whole.
            while index < bytes.count, bytes[index] != UInt8(ascii: "\""), bytes[index] != UInt8(ascii: "\\") {
                guard bytes[index] >= 0x20 else { return nil }
                index += 1
            }
            guard index < bytes.count else { return nil }
            if bytes[index] == UInt8(ascii: "\"") {
                defer { index += 1 }
                return String(decoding: bytes[start..<index], as: UTF8.self)
            }
            var output = Array(bytes[start..<index])
            while index < bytes.count {
                let byte = bytes[index]
                index += 1
                switch byte {
                case UInt8(ascii: "\""): return String(decoding: output, as: UTF8.self)
                case UInt8(ascii: "\\"):
                    guard index < bytes.count else { return nil }
                    let escaped = bytes[index]
                    index += 1
                    switch escaped {
                    case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): output.append(escaped)
                    case UInt8(ascii: "b"): output.append(0x08)
                    case UInt8(ascii: "f"): output.append(0x0C)
                    case UInt8(ascii: "n"): output.append(0x0A)
                    case UInt8(ascii: "r"): output.append(0x0D)
                    case UInt8(ascii: "t"): output.append(0x09)
                    case UInt8(ascii: "u"):
                        guard var scalar = hex4() else { return nil }
                        if (0xD800..<0xDC00).contains(scalar) {
                            // A surrogate pair: the low half must follow.
                            guard bytes.count - index >= 6, bytes[index] == UInt8(ascii: "\\"), bytes[index + 1] == UInt8(ascii: "u") else { return nil }
                            index += 2
                            guard let low = hex4(), (0xDC00..<0xE000).contains(low) else { return nil }
                            scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                        }
                        guard let unicode = Unicode.Scalar(scalar) else { return nil }
                        output.append(contentsOf: String(Character(unicode)).utf8)
                    default: return nil
                    }
                default:
                    guard byte >= 0x20 else { return nil }
                    output.append(byte)
                }
            }
            return nil
        }

        mutating func hex4() -> UInt32? {
            guard bytes.count - index >= 4 else { return nil }
            var value: UInt32 = 0
            for _ in 0..<4 {
                let byte = bytes[index]
                index += 1
                let digit: UInt8
                switch byte {
                case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
                case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
                case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
                default: return nil
                }
                value = value << 4 | UInt32(digit)
            }
            return value
        }
    }
}
