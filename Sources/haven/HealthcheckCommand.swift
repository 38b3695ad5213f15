import ArgumentParser
import Foundation
#if canImport(Glibc)
import Glibc
#endif

struct HealthcheckCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "healthcheck",
        abstract: "Exit 0 when a running haven answers /readyz with 200 (for container health checks).",
        discussion: "Needs no curl in the image: one plain HTTP/1.1 request over loopback."
    )

    @Option(help: "Port haven listens on. (env HAVEN_PORT, default 8080)") var port: Int?
    @Option(help: "Path to ask.") var path = "/readyz"

    func run() throws {
        let port = self.port ?? Environment.value("HAVEN_PORT").flatMap(Int.init) ?? 8080
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { throw ExitCode(2) }
        defer { close(descriptor) }
        var timeout = timeval(tv_sec: 5, tv_usec: 0)
        setsockopt(descriptor, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else {
            Console.write("unhealthy: nothing listens on 127.0.0.1:\(port)")
            throw ExitCode(1)
        }
        let request = "GET \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
        _ = request.withCString { send(descriptor, $0, strlen($0), 0) }
        var buffer = [UInt8](repeating: 0, count: 64)
        let count = recv(descriptor, &buffer, buffer.count, 0)
        let statusLine = String(decoding: buffer.prefix(max(0, count)), as: UTF8.self).split(separator: "\r\n").first ?? ""
        guard statusLine.hasPrefix("HTTP/1.1 200") else {
            Console.write("unhealthy: \(statusLine.isEmpty ? "no answer" : String(statusLine))")
            throw ExitCode(1)
        }
        Console.write("healthy")
    }
}
