import CLibCrypto

/// A libcrypto call failed, or sealed data did not open.
public struct SealingError: Error, CustomStringConvertible, Equatable {
    public enum Kind: Sendable, Equatable {
        case libcrypto
        /// Authentication failed: wrong key, tampered ciphertext or wrong associated data.
        case authenticationFailed
        /// The sealed value names a key this key ring does not hold.
        case unknownKey
        case malformed
    }

    public var kind: Kind
    public var description: String

    public init(_ kind: Kind, _ description: String) {
        self.kind = kind
        self.description = description
    }

    /// The oldest libcrypto error queued for this thread, cleared from the queue.
    static func libcrypto(_ operation: String) -> SealingError {
        let code = ERR_get_error()
        ERR_clear_error()
        var buffer = [CChar](repeating: 0, count: 256)
        ERR_error_string_n(code, &buffer, buffer.count)
        let reason = code == 0 ? "unknown error" : String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return SealingError(.libcrypto, "\(operation) failed: \(reason)")
    }
}
