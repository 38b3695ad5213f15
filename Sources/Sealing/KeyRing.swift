/// The keys Haven seals with. The newest key seals; every key opens what it sealed, so keys
/// rotate without re-encrypting everything at once.
///
/// Text form (the key file): one key per line, `<id> <64 hex digits>`; `#` starts a comment;
/// the last line is the newest. Ids are 1–16 characters of `[A-Za-z0-9_-]`.
///
/// Sealed form: `0x01 | id length | id | 12-byte nonce | ciphertext | 16-byte tag`, with the
/// caller's associated data (a record id) bound in, so a ciphertext moved to another record
/// does not open.
public struct KeyRing: Sendable {
    public struct Key: Sendable {
        public var id: String
        var material: [UInt8]
    }

    public let keys: [Key]
    private let index: [String: Int]

    public init(keys: [(id: String, material: [UInt8])]) throws {
        guard !keys.isEmpty else { throw SealingError(.malformed, "the key ring is empty") }
        var index: [String: Int] = [:]
        for (position, key) in keys.enumerated() {
            guard KeyRing.isValidID(key.id) else { throw SealingError(.malformed, "key id \(key.id) is not 1-16 of A-Z a-z 0-9 _ -") }
            guard key.material.count == AESGCM.keyLength else { throw SealingError(.malformed, "key \(key.id) is not 32 bytes") }
            guard index[key.id] == nil else { throw SealingError(.malformed, "key id \(key.id) appears twice") }
            index[key.id] = position
        }
        self.keys = keys.map { Key(id: $0.id, material: $0.material) }
        self.index = index
    }

    public init(text: String) throws {
        var keys: [(id: String, material: [UInt8])] = []
        for (number, rawLine) in text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline).enumerated() {
            let line = rawLine.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init) ?? ""
            let fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\r" })
            if fields.isEmpty { continue }
            guard fields.count == 2, let material = Hex.decode(String(fields[1])) else {
                throw SealingError(.malformed, "key file line \(number + 1) is not '<id> <64 hex digits>'")
            }
            keys.append((String(fields[0]), material))
        }
        try self.init(keys: keys)
    }

    /// A new random key line for a key file.
    public static func generateKeyLine(id: String) throws -> String {
        "\(id) \(Hex.encode(try SecureRandom.bytes(AESGCM.keyLength)))"
    }

    static func isValidID(_ id: String) -> Bool {
        !id.isEmpty && id.utf8.count <= 16 && id.utf8.allSatisfy { c in
            (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A) || c == 0x5F || c == 0x2D
        }
    }

    public var currentKeyID: String { keys[keys.count - 1].id }

    public func seal(_ plaintext: [UInt8], associatedData: [UInt8]) throws -> [UInt8] {
        let key = keys[keys.count - 1]
        let nonce = try SecureRandom.bytes(AESGCM.nonceLength)
        let idBytes = Array(key.id.utf8)
        let (ciphertext, tag) = try AESGCM.seal(plaintext, key: key.material, nonce: nonce, associatedData: associatedData)
        return [0x01, UInt8(idBytes.count)] + idBytes + nonce + ciphertext + tag
    }

    public func open(_ sealed: [UInt8], associatedData: [UInt8]) throws -> [UInt8] {
        try associatedData.withUnsafeBytes { try open(sealed, associatedData: $0) }
    }

    public func open(_ sealed: [UInt8], associatedData: UnsafeRawBufferPointer) throws -> [UInt8] {
        let (keyID, body) = try KeyRing.split(sealed)
        guard let position = index[keyID] else {
            throw SealingError(.unknownKey, "sealed with key \(keyID), which the key file does not hold")
        }
        let key = keys[position].material
        return try body.withUnsafeBytes { body in
            try AESGCM.open(
                UnsafeRawBufferPointer(rebasing: body.dropFirst(AESGCM.nonceLength).dropLast(AESGCM.tagLength)),
                tag: UnsafeRawBufferPointer(rebasing: body.suffix(AESGCM.tagLength)), key: key,
                nonce: UnsafeRawBufferPointer(rebasing: body.prefix(AESGCM.nonceLength)), associatedData: associatedData)
        }
    }

    /// The id of the key a value was sealed with (for rotation: re-seal what is not current).
    public static func keyID(of sealed: [UInt8]) throws -> String { try split(sealed).keyID }

    private static func split(_ sealed: [UInt8]) throws -> (keyID: String, body: ArraySlice<UInt8>) {
        guard sealed.count >= 2, sealed[0] == 0x01 else { throw SealingError(.malformed, "not a sealed value") }
        let idLength = Int(sealed[1])
        guard sealed.count >= 2 + idLength + AESGCM.nonceLength + AESGCM.tagLength else {
            throw SealingError(.malformed, "sealed value is truncated")
        }
        let keyID = String(decoding: sealed[2..<(2 + idLength)], as: UTF8.self)
        return (keyID, sealed[(2 + idLength)...])
    }

    /// A key for another purpose (audit MACs, blind indexes) derived from a ring key, so one key
    /// file serves every use without reusing a key across them.
    public func derivedKey(purpose: String, keyID: String? = nil) throws -> (id: String, key: [UInt8]) {
        let id = keyID ?? currentKeyID
        guard let position = index[id] else {
            throw SealingError(.unknownKey, "no key \(id) in the key file")
        }
        return (id, HMAC.sha256(Array("haven/\(purpose)".utf8), key: keys[position].material))
    }
}
