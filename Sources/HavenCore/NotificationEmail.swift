import Foundation

/// A user's choice of email notifications: the address they are sent to and the kinds they
/// want. No choice means no email: a user opts in, kind by kind.
public struct NotificationEmailChoice: Sendable, Equatable {
    public var address: String
    public var kinds: Set<NotificationKind>

    public init(address: String, kinds: Set<NotificationKind>) {
        self.address = address
        self.kinds = kinds
    }

    /// Checks an address and a list of kind names as a user typed them; every bad field is named.
    public static func checked(address: String?, kinds: [String]?) throws -> NotificationEmailChoice {
        var validator = Validator()
        let trimmed = (address ?? "").trimmingCharacters(in: .whitespaces)
        if let problem = EmailAddress.problem(trimmed) { validator.add("address", problem) }
        var chosen: Set<NotificationKind> = []
        for name in kinds ?? [] {
            if let kind = NotificationKind(rawValue: name) { chosen.insert(kind) } else {
                validator.add("kinds", "must be some of: " + NotificationKind.allCases.map(\.rawValue).joined(separator: ", "))
                break
            }
        }
        try validator.finish()
        return NotificationEmailChoice(address: trimmed, kinds: chosen)
    }
}

/// An email address as a mail relay accepts it in `RCPT TO` and a header: one `@`, no space,
/// control character, angle bracket, comma or quote (so it can never add a recipient or a
/// header), a domain with a dot, and RFC 5321's lengths.
public enum EmailAddress {
    /// Why `address` is not usable, or nil when it is.
    public static func problem(_ address: String) -> String? {
        if address.isEmpty { return "is required" }
        let parts = address.split(separator: "@", omittingEmptySubsequences: false)
        guard address.utf8.count <= 254, parts.count == 2, let local = parts.first, let domain = parts.last,
              (1...64).contains(local.utf8.count), (3...253).contains(domain.utf8.count) else {
            return "must be an email address such as name@example.org"
        }
        let forbidden = Set("<>,;:\"\\()[] \t")
        guard !address.unicodeScalars.contains(where: { $0.properties.generalCategory == .control || $0.value == 0x7F }),
              !address.contains(where: forbidden.contains) else {
            return "must be an email address such as name@example.org"
        }
        let labels = domain.split(separator: ".", omittingEmptySubsequences: false)
        guard labels.count >= 2, labels.allSatisfy({ !$0.isEmpty && $0.utf8.count <= 63 && !$0.hasPrefix("-") && !$0.hasSuffix("-") }),
              !local.hasPrefix("."), !local.hasSuffix("."), !local.contains("..") else {
            return "must be an email address such as name@example.org"
        }
        return nil
    }
}

/// The words of one notification email in the recipient's language, as the console's
/// catalogue gives them.
public struct NotificationEmailText: Sendable, Equatable {
    /// What happened, one line ("A new referral arrived").
    public var event: String
    /// "Case", "Priority" and the priority's name, and the line the link follows.
    public var caseLabel: String
    public var priorityLabel: String
    public var priority: String
    public var openLabel: String
    /// Why the message says so little, and how to stop it.
    public var footer: String

    public init(event: String, caseLabel: String, priorityLabel: String, priority: String, openLabel: String, footer: String) {
        self.event = event
        self.caseLabel = caseLabel
        self.priorityLabel = priorityLabel
        self.priority = priority
        self.openLabel = openLabel
        self.footer = footer
    }
}

/// A notification as an RFC 5322 message: plain text in UTF-8, with no identifying value and no
/// case content (the message holds none): what happened, the case's reference, the priority and
/// the link to the console page, where the rest is read after logging in. Receivers drop a
/// repeat by its `Message-ID`, which is the outbox message's id.
public enum NotificationMail {
    public static func compose(_ message: NotificationMessage, text: NotificationEmailText, from: String, to: String,
                               consoleBase: String?, domain: String) -> [UInt8] {
        var body = text.event + "\r\n\r\n"
        if let reference = message.caseReference { body += text.caseLabel + ": " + reference + "\r\n" }
        body += text.priorityLabel + ": " + text.priority + "\r\n\r\n"
        body += text.openLabel + "\r\n" + (consoleBase.map { $0.hasSuffix("/") ? String($0.dropLast()) : $0 } ?? "") + message.link + "\r\n\r\n"
        body += "-- \r\n" + text.footer + "\r\n"
        let headers = [
            "From: " + from,
            "To: " + to,
            "Subject: " + encodedWord("Haven: " + text.event),
            "Date: " + rfc5322Date(message.created),
            "Message-ID: <" + message.id.uuidString.lowercased() + "@" + domain + ">",
            "MIME-Version: 1.0",
            "Content-Type: text/plain; charset=utf-8",
            "Content-Transfer-Encoding: base64",
            "Auto-Submitted: auto-generated",
        ]
        let encoded = Data(body.utf8).base64EncodedString(options: [.lineLength76Characters, .endLineWithCarriageReturn, .endLineWithLineFeed])
        return Array((headers.joined(separator: "\r\n") + "\r\n\r\n" + encoded + "\r\n").utf8)
    }

    /// RFC 2047: a header value outside ASCII as base64 encoded words of at most 75 characters,
    /// split between characters, never inside one.
    public static func encodedWord(_ value: String) -> String {
        if value.unicodeScalars.allSatisfy({ $0.isASCII && $0.value >= 0x20 && $0.value < 0x7F }) { return value }
        var words: [String] = []
        var chunk = ""
        for character in value {
            let candidate = chunk + String(character)
            // 45 bytes of UTF-8 make 60 characters of base64, and "=?utf-8?B?" + "?=" twelve more.
            if candidate.utf8.count > 45, !chunk.isEmpty {
                words.append(chunk)
                chunk = String(character)
            } else {
                chunk = candidate
            }
        }
        if !chunk.isEmpty { words.append(chunk) }
        return words.map { "=?utf-8?B?" + Data($0.utf8).base64EncodedString() + "?=" }.joined(separator: "\r\n ")
    }

    /// `Mon, 07 Dec 2026 13:34:12 +0000`.
    public static func rfc5322Date(_ date: Date) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC") ?? .current
        let parts = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second, .weekday], from: date)
        let days = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
        let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        func two(_ value: Int?) -> String { let value = value ?? 0; return value < 10 ? "0\(value)" : "\(value)" }
        return days[((parts.weekday ?? 1) - 1) % 7] + ", " + two(parts.day) + " " + months[((parts.month ?? 1) - 1) % 12] + " "
            + String(parts.year ?? 1970) + " " + two(parts.hour) + ":" + two(parts.minute) + ":" + two(parts.second) + " +0000"
    }
}
