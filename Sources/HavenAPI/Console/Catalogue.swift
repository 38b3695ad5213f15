import Foundation
import HavenCore

/// The console's words in each language, from `Resources/Console/messages/<language>.json`
/// (flat objects from a key to its text). A key missing in a language falls back to English
/// at run time; a test keeps every catalogue complete.
struct Catalogue: Sendable {
    let messages: [Language: [String: String]]
    /// Each language's table as templates read it, built once: every page carries one.
    private let nestedTables: [Language: NestedTable]

    /// `[String: Any]` is not Sendable; the table is built once and only read afterwards.
    private struct NestedTable: @unchecked Sendable {
        let root: [String: Any]
    }

    init(directory: URL) throws {
        var messages: [Language: [String: String]] = [:]
        for language in Language.allCases {
            let data = try Data(contentsOf: directory.appendingPathComponent("\(language.rawValue).json"))
            messages[language] = try JSONDecoder().decode([String: String].self, from: data)
        }
        self.messages = messages
        var nestedTables: [Language: NestedTable] = [:]
        for language in Language.allCases {
            var root: [String: Any] = [:]
            for (key, value) in Catalogue.table(language, messages) {
                Nesting.insert(value, at: key.split(separator: ".").map(String.init)[...], into: &root)
            }
            nestedTables[language] = NestedTable(root: root)
        }
        self.nestedTables = nestedTables
    }

    /// English under the language's own words, so a missing key still reads.
    private static func table(_ language: Language, _ messages: [Language: [String: String]]) -> [String: String] {
        guard language != .en, let english = messages[.en] else { return messages[language] ?? [:] }
        return english.merging(messages[language] ?? [:]) { _, chosen in chosen }
    }

    /// The table as templates read it: `{{t.case.status}}` looks up `case`, then `status`, so
    /// the dotted keys become nested objects.
    func nested(_ language: Language) -> [String: Any] {
        nestedTables[language]?.root ?? [:]
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
