import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// A webhook receiver on 127.0.0.1: a POSIX socket accepting on a thread of its own, one thread
/// per connection, recording every request and answering as `answer` says (status, a pause
/// before answering, a body). Synthetic: it only ever sees what the tests send it.
final class LoopbackReceiver: Sendable {
    struct Request: Sendable {
        var path: String
        /// Names lower-cased.
        var headers: [String: String]
        var body: [UInt8]
    }

    struct Answer: Sendable {
        var status: Int = 200
        var pauseMilliseconds: Int = 0
        var body: [UInt8] = []
    }

    let port: Int
    private let descriptor: Int32
    private let received = Mutex<[Request]>([])
    private let answer: @Sendable (Request, Int) -> Answer

    /// `answer` gets the request and how many came before it. `port` 0 takes a free one; another
    /// is one a stopped receiver had (a receiver back after being down).
    init(port: Int = 0, answer: @escaping @Sendable (Request, Int) -> Answer = { _, _ in Answer() }) throws {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { throw RawHTTP.Failure(description: "socket() failed") }
        var one: Int32 = 1
        setsockopt(descriptor, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        guard bound == 0, listen(descriptor, 64) == 0 else { close(descriptor); throw RawHTTP.Failure(description: "bind/listen failed") }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(descriptor, $0, &length) } }
        self.port = Int(UInt16(bigEndian: address.sin_port))
        self.descriptor = descriptor
        self.answer = answer
        let thread = Thread { [self] in acceptLoop() }
        thread.start()
    }

    var url: String { "http://127.0.0.1:\(port)/hook" }

    var requests: [Request] { received.withLock { $0 } }

    func stop() { shutdown(descriptor, Int32(SHUT_RDWR)); close(descriptor) }

    /// Waits (polling, with a generous ceiling so a failure ends the test rather than hangs it)
    /// until `condition` holds of what arrived.
    func wait(seconds: Double = 60, until condition: ([Request]) -> Bool) async -> [Request] {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            let now = requests
            if condition(now) { return now }
            try? await Task.sleep(for: .milliseconds(50))
        }
        return requests
    }

    private func acceptLoop() {
        while true {
            let connection = accept(descriptor, nil, nil)
            if connection < 0 { if errno == EINTR { continue }; return }
            let thread = Thread { [self] in serve(connection) }
            thread.start()
        }
    }

    private func serve(_ connection: Int32) {
        defer { close(connection) }
        var timeout = timeval(tv_sec: 20, tv_usec: 0)
        setsockopt(connection, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var data: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 16384)
        var headerEnd: Int? = nil
        var contentLength = 0
        while true {
            if let end = headerEnd, data.count >= end + contentLength { break }
            let count = recv(connection, &buffer, buffer.count, 0)
            if count <= 0 { return }
            data.append(contentsOf: buffer[0..<count])
            if headerEnd == nil, let range = findHeaderEnd(data) {
                headerEnd = range
                let head = String(decoding: data[0..<range], as: UTF8.self)
                for line in head.split(separator: "\r\n") where line.lowercased().hasPrefix("content-length:") {
                    contentLength = Int(line.dropFirst("content-length:".count).trimmingCharacters(in: .whitespaces)) ?? 0
                }
            }
        }
        guard let end = headerEnd else { return }
        let lines = String(decoding: data[0..<(end - 4)], as: UTF8.self).split(separator: "\r\n")
        let path = lines.first.map { $0.split(separator: " ").dropFirst().first.map(String.init) ?? "" } ?? ""
        var headers: [String: String] = [:]
        for line in lines.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        let request = Request(path: path, headers: headers, body: Array(data[end..<(end + contentLength)]))
        let before = received.withLock { list in list.append(request); return list.count - 1 }
        let reply = answer(request, before)
        if reply.pauseMilliseconds > 0 { usleep(UInt32(reply.pauseMilliseconds) * 1000) }
        var response = Array("HTTP/1.1 \(reply.status) X\r\nContent-Length: \(reply.body.count)\r\nConnection: close\r\n\r\n".utf8)
        response.append(contentsOf: reply.body)
        _ = response.withUnsafeBytes { send(connection, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
    }

    private func findHeaderEnd(_ data: [UInt8]) -> Int? {
        guard data.count >= 4 else { return nil }
        for index in 0...(data.count - 4) where data[index] == 13 && data[index + 1] == 10 && data[index + 2] == 13 && data[index + 3] == 10 {
            return index + 4
        }
        return nil
    }
}
