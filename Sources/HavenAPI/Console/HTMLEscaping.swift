import Mustache

/// How the console's templates escape every value: the same five characters as Mustache's own
/// HTML escaping, but decided byte by byte on the UTF-8 text. Mustache's walks grapheme
/// clusters, which is slow and misses a quote followed by a combining mark (`"\u{301}` is one
/// cluster, not `"`), so a value could end an attribute early. All five are ASCII, so no byte
/// of a multi-byte character is ever mistaken for one.
struct HTMLEscaping: MustacheContentType {
    static let name = "HavenHTML"
    /// Written at the top of every template so that each, partials included, escapes this way.
    static let pragma = "{{% CONTENT_TYPE: \(name)}}"

    static func register() {
        MustacheContentTypes.register(HTMLEscaping(), named: name)
    }

    func escapeText(_ text: String) -> String {
        guard text.utf8.contains(where: HTMLEscaping.needsEscape) else { return text }
        var output: [UInt8] = []
        output.reserveCapacity(text.utf8.count + 16)
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "<"): output.append(contentsOf: "&lt;".utf8)
            case UInt8(ascii: ">"): output.append(contentsOf: "&gt;".utf8)
            case UInt8(ascii: "&"): output.append(contentsOf: "&amp;".utf8)
            case UInt8(ascii: "\""): output.append(contentsOf: "&quot;".utf8)
            case UInt8(ascii: "'"): output.append(contentsOf: "&#39;".utf8)
            default: output.append(byte)
            }
        }
        return String(decoding: output, as: UTF8.self)
    }

    private static func needsEscape(_ byte: UInt8) -> Bool {
        byte == UInt8(ascii: "<") || byte == UInt8(ascii: ">") || byte == UInt8(ascii: "&") || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "'")
    }
}
