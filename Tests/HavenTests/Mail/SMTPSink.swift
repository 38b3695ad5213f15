import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A real SMTP server on loopback (aiosmtpd, from PyPI) that keeps what it receives in a
/// Maildir, read back through Python's own `email` package, apart from Haven's composing code.
/// With `tls`, it offers STARTTLS with a throwaway certificate for `localhost` and refuses mail
/// without it.
final class SMTPSink: @unchecked Sendable {
    struct Received: Decodable {
        var from: String
        var to: String
        var subject: String
        var messageId: String
        var contentType: String
        var body: String
        /// Every header and the raw text as sent, for looking for what must not be there.
        var raw: String
    }

    let port: Int
    let directory: URL
    /// The throwaway certificate to trust, when the sink speaks TLS.
    let certificate: String?
    private let process: Process

    init(tls: Bool = false) throws {
        try SMTPSink.ensureAiosmtpd()
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("haven-smtp-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        port = try SMTPSink.freePort()
        var arguments = ["python3", "-m", "aiosmtpd", "-n", "-l", "127.0.0.1:\(port)", "-c", "aiosmtpd.handlers.Mailbox"]
        if tls {
            let cert = directory.appendingPathComponent("cert.pem").path, key = directory.appendingPathComponent("key.pem").path
            try SMTPSink.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=localhost",
                              "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1", "-days", "1", "-keyout", key, "-out", cert])
            arguments += ["--tlscert", cert, "--tlskey", key]
            certificate = cert
        } else {
            certificate = nil
        }
        arguments.append(directory.appendingPathComponent("mail").path)
        process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        try waitUntilListening()
    }

    /// SIGKILL, not `terminate()`: the child inherits the signal mask of the thread that
    /// started it, where SIGTERM may be blocked, and would then never stop (nor this wait end).
    func stop() {
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        try? FileManager.default.removeItem(at: directory)
    }

    /// What arrived so far, parsed by Python's `email` package.
    func received() throws -> [Received] {
        let script = """
            import email, email.policy, json, os, sys
            folder = os.path.join(sys.argv[1], "new")
            out = []
            for name in sorted(os.listdir(folder)) if os.path.isdir(folder) else []:
                raw = open(os.path.join(folder, name), "rb").read()
                message = email.message_from_bytes(raw, policy=email.policy.default)
                out.append({"from": str(message["From"]), "to": str(message["To"]), "subject": str(message["Subject"]),
                            "messageId": str(message["Message-ID"]), "contentType": message.get_content_type() + ";" + str(message.get_content_charset()),
                            "body": message.get_content(), "raw": raw.decode("utf-8", "replace")})
            print(json.dumps(out))
            """
        let output = try SMTPSink.run(["python3", "-c", script, directory.appendingPathComponent("mail").path])
        return try JSONDecoder().decode([Received].self, from: Data(output.utf8))
    }

    private func waitUntilListening() throws {
        for _ in 0..<200 {
            let socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = in_port_t(UInt16(port).bigEndian)
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            let connected = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(socket, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
            close(socket)
            if connected == 0 { return }
            guard process.isRunning else { throw SMTPSinkFailure("aiosmtpd stopped at start") }
            usleep(50_000)
        }
        throw SMTPSinkFailure("aiosmtpd did not start listening")
    }

    private static func freePort() throws -> Int {
        let socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(socket) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer in
                bind(socket, pointer, length) == 0 && getsockname(socket, pointer, &length) == 0
            }
        }
        guard bound else { throw SMTPSinkFailure("no free port") }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    /// aiosmtpd from PyPI, installed for the user when missing (as `.ci/run` does).
    private static func ensureAiosmtpd() throws {
        if (try? run(["python3", "-c", "import aiosmtpd"])) != nil { return }
        _ = try run(["python3", "-m", "pip", "install", "--quiet", "--user", "aiosmtpd"])
    }

    @discardableResult
    private static func run(_ arguments: [String]) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw SMTPSinkFailure("\(arguments[0]) \(arguments.dropFirst().first ?? "") failed") }
        return String(decoding: data, as: UTF8.self)
    }
}

struct SMTPSinkFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
