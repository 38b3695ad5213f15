import Foundation
import Sealing

/// The audit chain's length and head, signed with Ed25519 by the deployment (S9). Kept outside
/// the database, by Haven and by any second party that fetches it, so whoever controls the
/// database cannot shorten, empty or rebuild the trail unnoticed: a verifier recomputes the
/// chain and compares its link at `length` with `head` (see docs/audit.md).
public struct AuditCheckpoint: Sendable, Equatable, Codable {
    public static let currentFormat = "haven-audit-checkpoint/1"
    static let signingPurpose = "audit-checkpoint"

    public var format: String
    /// The ring key the signing key derives from (a rotated key file signs with its newest).
    public var keyID: String
    public var length: Int64
    /// The event sealed at `length`: if it is gone, the trail's newest events were cut.
    public var eventID: Int64
    /// The link at `length`, in hex.
    public var head: String
    /// When it was signed, as signed (RFC 3339, UTC).
    public var signedAt: String
    public var signature: String

    enum CodingKeys: String, CodingKey {
        case format, length, head, signature
        case keyID = "key_id"
        case eventID = "event_id"
        case signedAt = "signed_at"
    }

    /// Exactly the bytes the signature covers.
    var signedBytes: [UInt8] {
        Array("\(format)\nkey \(keyID)\nlength \(length)\nevent \(eventID)\nhead \(head)\nsigned_at \(signedAt)\n".utf8)
    }

    /// How a message names it.
    public var label: String { "the checkpoint signed \(signedAt) (length \(length))" }

    public var headBytes: [UInt8]? { Hex.decode(head) }

    /// The signing key, derived from a ring key: it lives with the field keys, never in the database.
    static func signingKey(_ keys: KeyRing, keyID: String? = nil) throws -> (id: String, key: Ed25519.SigningKey) {
        let seed = try keys.derivedKey(purpose: signingPurpose, keyID: keyID)
        return (seed.id, try Ed25519.SigningKey(seed: seed.key))
    }

    /// The public key second parties check checkpoints with (`haven audit public-key`).
    public static func publicKey(_ keys: KeyRing, keyID: String? = nil) throws -> (id: String, key: [UInt8]) {
        let signing = try signingKey(keys, keyID: keyID)
        return (signing.id, signing.key.publicKey)
    }

    static func sign(length: Int64, eventID: Int64, head: [UInt8], at date: Date, keys: KeyRing) throws -> AuditCheckpoint {
        let signing = try signingKey(keys)
        var checkpoint = AuditCheckpoint(
            format: currentFormat, keyID: signing.id, length: length, eventID: eventID, head: Hex.encode(head),
            signedAt: ISO8601DateFormatter().string(from: date), signature: "")
        checkpoint.signature = Hex.encode(try signing.key.sign(checkpoint.signedBytes))
        return checkpoint
    }

    public func isSigned(by publicKey: [UInt8]) -> Bool {
        guard format == AuditCheckpoint.currentFormat, let signature = Hex.decode(signature), headBytes?.count == 32, length >= 0 else { return false }
        return Ed25519.isValid(signature: signature, of: signedBytes, publicKey: publicKey)
    }

    /// One JSON object on one line: a file of them is a history, a second party's copy included.
    public var line: String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return (try? String(decoding: encoder.encode(self), as: UTF8.self)) ?? ""
    }

    /// Every checkpoint in a file of JSON lines (a single checkpoint is one line).
    public static func parse(_ text: String) throws -> [AuditCheckpoint] {
        let decoder = JSONDecoder()
        return try text.split(whereSeparator: \.isNewline).compactMap { line in
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if trimmed.isEmpty { return nil }
            return try decoder.decode(AuditCheckpoint.self, from: Data(trimmed.utf8))
        }
    }
}
