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

    func table(_ language: Language) -> [String: String] {
        guard language != .en, let english = messages[.en] else { return messages[language] ?? [:] }
        return english.merging(messages[language] ?? [:]) { _, chosen in chosen }
    }

    /// The table as templates read it: `{{t.case.status}}` looks up `case`, then `status`, so
    /// the dotted keys become nested objects.
    func nested(_ language: Language) -> [String: Any] {
        var root: [String: Any] = [:]
        for (key, value) in table(language) {
            let parts = key.split(separator: ".").map(String.init)
            Nesting.insert(value, at: parts[...], into: &root)
        }
        return root
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
