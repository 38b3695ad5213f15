import Foundation

/// Where Haven keeps the checkpoints it signs: outside the database (by default beside the key
/// file), so the database's owner cannot delete the evidence with the trail. `latest.json` holds
/// the newest; `checkpoints-YYYY-MM-DD.jsonl` keep a history, one line at most a minute apart.
public struct AuditCheckpointFolder: Sendable {
    public let path: String
    static let latestName = "latest.json"

    public init(path: String) {
        self.path = path
    }

    /// The default: a folder `audit-checkpoints` beside the key file.
    public static func beside(keyFile: String) -> AuditCheckpointFolder {
        AuditCheckpointFolder(path: URL(fileURLWithPath: keyFile).standardizedFileURL.deletingLastPathComponent()
            .appendingPathComponent("audit-checkpoints").path)
    }

    private var url: URL { URL(fileURLWithPath: path, isDirectory: true) }

    public func latest() throws -> AuditCheckpoint? {
        let file = url.appendingPathComponent(AuditCheckpointFolder.latestName)
        guard FileManager.default.fileExists(atPath: file.path) else { return nil }
        return try AuditCheckpoint.parse(String(contentsOf: file, encoding: .utf8)).last
    }

    /// Every checkpoint kept here, the history's and the latest.
    public func all() throws -> [AuditCheckpoint] {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: path) else { return [] }
        var found: [AuditCheckpoint] = []
        for name in names.sorted() where name == AuditCheckpointFolder.latestName || (name.hasPrefix("checkpoints-") && name.hasSuffix(".jsonl")) {
            for checkpoint in try AuditCheckpoint.parse(String(contentsOf: url.appendingPathComponent(name), encoding: .utf8))
            where !found.contains(checkpoint) {
                found.append(checkpoint)
            }
        }
        return found
    }

    /// Replaces `latest.json` whole (written aside, then renamed over it, which is atomic) and,
    /// with `history`, appends a line to the day's history file. The background signer and an
    /// auditor's request can sign at the same moment: writes are taken one at a time, and a
    /// checkpoint shorter than the one already kept never replaces it.
    func write(_ checkpoint: AuditCheckpoint, history: Bool, day: Date) throws {
        try AuditCheckpointFolder.writing.withLock {
            try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            if let kept = try latest(), kept.length > checkpoint.length { return }
            let line = Data((checkpoint.line + "\n").utf8)
            try line.write(to: url.appendingPathComponent(AuditCheckpointFolder.latestName), options: .atomic)
            guard history else { return }
            try appendToHistory(line, day: day)
        }
    }

    private static let writing = NSLock()

    private func appendToHistory(_ line: Data, day: Date) throws {
        let dayName = ISO8601DateFormatter.string(from: day, timeZone: TimeZone(identifier: "UTC") ?? .current, formatOptions: [.withFullDate])
        let file = url.appendingPathComponent("checkpoints-\(dayName).jsonl")
        if !FileManager.default.fileExists(atPath: file.path) {
            guard FileManager.default.createFile(atPath: file.path, contents: nil, attributes: [.posixPermissions: 0o600]) else {
                throw StoreError.configuration("could not write the audit checkpoint history \(file.path)")
            }
        }
        let handle = try FileHandle(forWritingTo: file)
        defer { try? handle.close() }
        try handle.seekToEnd()
        try handle.write(contentsOf: line)
    }
}
