import Foundation
import HavenCore

/// The console's words in each language, from `Resources/Console/messages/<language>.json`
/// (flat objects from a key to its text). A key missing in a language falls back to English
/// at run time; a test keeps every catalogue complete.
struct Catalogue: Sendable {
    let messages: [Language: [String: String]]

    init(directory: URL) throws {
        var messages: [Language: [String: String]] = [:]
        for language in Language.allCases {
            let data = try Data(contentsOf: directory.appendingPathComponent("\(language.rawValue).json"))
            messages[language] = try JSONDecoder().decode([String: String].self, from: data)
        }
        self.messages = messages
    }

    /// English under the language's own words, so a missing key still reads.
    private static func table(_ language: Language, _ messages: [Language: [String: String]]) -> [String: String] {
        guard language != .en, let english = messages[.en] else { return messages[language] ?? [:] }
        return english.merging(messages[language] ?? [:]) { _, chosen in chosen }
    }

    /// A template with every `{{t.key}}` replaced by that key's text in `language`, escaped as
    /// Mustache would: the words are fixed per language, so they are written in once at start
    /// rather than looked up through the page's context on every render (most of a page's
    /// lookups, each a walk of the context stack with dynamic casts).
    func inlined(_ template: String, _ language: Language) -> String {
        let table = Catalogue.table(language, messages)
        var output = ""
        output.reserveCapacity(template.utf8.count + template.utf8.count / 4)
        var rest = template[...]
        while let open = rest.range(of: "{{t.") {
            output += rest[..<open.lowerBound]
            guard let close = rest[open.upperBound...].range(of: "}}") else {
                rest = rest[open.lowerBound...]
                break
            }
            let key = String(rest[open.upperBound..<close.lowerBound])
            output += Catalogue.escaped(table[key] ?? "")
            rest = rest[close.upperBound...]
        }
        output += rest
        return output
    }

    /// Escaped like any value, and braces as character references so that no text in a
    /// catalogue can open a tag in the template it is written into.
    static func escaped(_ text: String) -> String {
        HTMLEscaping().escapeText(text).replacingOccurrences(of: "{", with: "&#123;").replacingOccurrences(of: "}", with: "&#125;")
    }

    func text(_ key: String, _ language: Language) -> String {
        messages[language]?[key] ?? messages[.en]?[key] ?? key
    }

    /// A code's label (`referral_status.accepted`), or the code itself when none is written.
    func label(_ prefix: String, _ code: String, _ language: Language) -> String {
        let key = prefix + "." + code
        return messages[language]?[key] ?? messages[.en]?[key] ?? code
    }

    /// The text with `{name}` placeholders filled in.
    func text(_ key: String, _ language: Language, _ values: [String: String]) -> String {
        values.reduce(text(key, language)) { text, pair in text.replacingOccurrences(of: "{\(pair.key)}", with: pair.value) }
    }
}
