import Foundation

/// The languages Haven's console speaks.
public enum Language: String, CaseIterable, Sendable, Codable {
    case en, ro, ru, uk

    /// The best of ours for an `Accept-Language` header (RFC 9110 §12.5.4): by quality, then
    /// order; a region (`ro-MD`) matches its language; nothing acceptable gives English.
    public static func negotiate(_ header: String?) -> Language {
        guard let header else { return .en }
        var best: (language: Language, quality: Double)?
        for item in header.split(separator: ",") {
            let parts = item.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces) }
            guard let tag = parts.first?.lowercased(), !tag.isEmpty else { continue }
            var quality = 1.0
            for parameter in parts.dropFirst() where parameter.hasPrefix("q=") {
                quality = Double(parameter.dropFirst(2)) ?? 0
            }
            let primary = String(tag.split(separator: "-").first ?? "")
            guard quality > 0, let language = Language(rawValue: primary) else { continue }
            if quality > (best?.quality ?? 0) { best = (language, quality) }
        }
        return best?.language ?? .en
    }
}
