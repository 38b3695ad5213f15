import Foundation
import HavenCore

/// Dates as the viewer reads them: in their language, in their organisation's time zone.
struct ConsoleFormat {
    let locale: Locale
    let timeZone: TimeZone

    /// The time zone of an organisation's country (the NRS countries Haven serves first),
    /// UTC elsewhere.
    static func timeZone(country: String) -> TimeZone {
        let zones = ["MD": "Europe/Chisinau", "RO": "Europe/Bucharest", "UA": "Europe/Kyiv", "RU": "Europe/Moscow", "GB": "Europe/London",
                     "DE": "Europe/Berlin", "IT": "Europe/Rome", "FR": "Europe/Paris", "PL": "Europe/Warsaw", "TR": "Europe/Istanbul"]
        return zones[country].flatMap(TimeZone.init(identifier:)) ?? TimeZone(identifier: "UTC") ?? .current
    }

    init(language: Language, country: String) {
        let identifiers: [Language: String] = [.en: "en_GB", .ro: "ro_MD", .ru: "ru_MD", .uk: "uk_UA"]
        locale = Locale(identifier: identifiers[language] ?? "en_GB")
        timeZone = ConsoleFormat.timeZone(country: country)
    }

    func dateTime(_ date: Date) -> String {
        let formatter = DateFormatter()
        formatter.locale = locale
        formatter.timeZone = timeZone
        formatter.dateStyle = .medium
        formatter.timeStyle = .short
        return formatter.string(from: date)
    }

    func date(_ date: CalendarDate) -> String {
        var components = DateComponents()
        (components.year, components.month, components.day, components.hour) = (date.year, date.month, date.day, 12)
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC") ?? .current
        guard let moment = calendar.date(from: components) else { return date.description }
        let formatter = DateFormatter()
        formatter.locale = locale
        formatter.timeZone = calendar.timeZone
        formatter.dateStyle = .medium
        formatter.timeStyle = .none
        return formatter.string(from: moment)
    }
}
