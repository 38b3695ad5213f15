import ArgumentParser
import Delivery
import Foundation
import HavenCore
import HavenServices

/// The SMTP relay email notifications go through. Unset host: no email is sent (users may still
/// choose it; their choice waits for a relay). STARTTLS is required unless the operator says
/// otherwise, and plain text is allowed only to a relay on this machine.
struct MailOptions: ParsableArguments {
    @Option(name: .long, help: "SMTP relay for email notifications; unset, none are sent. (env HAVEN_SMTP_HOST)")
    var smtpHost: String?

    @Option(name: .long, help: "The relay's port. (env HAVEN_SMTP_PORT, default 587)")
    var smtpPort: Int?

    @Option(name: .long, help: "starttls (required, the default), tls (from the first byte, usually port 465), or none (a relay on loopback only). (env HAVEN_SMTP_SECURITY)")
    var smtpSecurity: String?

    @Option(name: .long, help: "The From address of notification emails. (env HAVEN_SMTP_FROM)")
    var smtpFrom: String?

    @Option(name: .long, help: "A file holding the relay's user name on its first line and password on its second; unset, no login. (env HAVEN_SMTP_CREDENTIALS_FILE)")
    var smtpCredentialsFile: String?

    @Option(name: .long, help: "A PEM file of certificate authorities to trust for the relay instead of the system's. (env HAVEN_SMTP_CA_FILE)")
    var smtpCAFile: String?

    /// The relay, or nil when none is configured; a half or unsafe configuration stops the start.
    func relay(consoleBase: String?) throws -> EmailChannel.Relay? {
        guard let host = smtpHost ?? Environment.value("HAVEN_SMTP_HOST"), !host.isEmpty else { return nil }
        let portText = smtpPort.map(String.init) ?? Environment.value("HAVEN_SMTP_PORT") ?? "587"
        guard let port = Int(portText), (1...65535).contains(port) else { throw ValidationError("--smtp-port must be between 1 and 65535") }
        let securityText = smtpSecurity ?? Environment.value("HAVEN_SMTP_SECURITY") ?? "starttls"
        guard let security = OutboundMail.Security(rawValue: securityText) else {
            throw ValidationError("--smtp-security must be starttls, tls or none")
        }
        if security == .none && !EmailChannel.Relay.isLoopback(host) {
            throw ValidationError("--smtp-security none is allowed only for a relay on loopback (localhost, 127.0.0.1, ::1)")
        }
        guard let from = smtpFrom ?? Environment.value("HAVEN_SMTP_FROM") else { throw ValidationError("--smtp-from is required with --smtp-host") }
        if let problem = EmailAddress.problem(from) { throw ValidationError("--smtp-from \(problem)") }
        var username: String?
        var password: String?
        if let path = smtpCredentialsFile ?? Environment.value("HAVEN_SMTP_CREDENTIALS_FILE") {
            guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
                throw ValidationError("--smtp-credentials-file cannot be read")
            }
            let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .init(charactersIn: "\r")) }
            guard lines.count >= 2, !lines[0].isEmpty, !lines[1].isEmpty else {
                throw ValidationError("--smtp-credentials-file must hold the user name on its first line and the password on its second")
            }
            (username, password) = (lines[0], lines[1])
        }
        let caFile = smtpCAFile ?? Environment.value("HAVEN_SMTP_CA_FILE")
        return EmailChannel.Relay(host: host, port: port, security: security, caFile: caFile, username: username, password: password,
                                  from: from, consoleBase: consoleBase)
    }
}
