import CLibCrypto

/// AES-256-GCM through libcrypto's EVP interface: 12-byte nonce, 16-byte tag.
public enum AESGCM {
    public static let keyLength = 32
    public static let nonceLength = 12
    public static let tagLength = 16

    /// AES-256-GCM fetched from the provider once: passing `EVP_aes_256_gcm()` makes every
    /// init look the implementation up again (under locks), and every case read opens fields.
    nonisolated(unsafe) private static let fetched: OpaquePointer? = EVP_CIPHER_fetch(nil, "AES-256-GCM", nil)
    private static var cipher: OpaquePointer? { fetched ?? EVP_aes_256_gcm() }

    public static func seal(_ plaintext: [UInt8], key: [UInt8], nonce: [UInt8], associatedData: [UInt8] = []) throws -> (ciphertext: [UInt8], tag: [UInt8]) {
        guard key.count == keyLength, nonce.count == nonceLength else { throw SealingError(.malformed, "AES-256-GCM needs a 32-byte key and a 12-byte nonce") }
        guard let context = EVP_CIPHER_CTX_new() else { throw SealingError.libcrypto("EVP_CIPHER_CTX_new") }
        defer { EVP_CIPHER_CTX_free(context) }
        guard EVP_EncryptInit_ex(context, cipher, nil, nil, nil) == 1,
              EVP_CIPHER_CTX_ctrl(context, haven_evp_ctrl_gcm_set_ivlen, Int32(nonceLength), nil) == 1,
              EVP_EncryptInit_ex(context, nil, nil, key, nonce) == 1
        else { throw SealingError.libcrypto("AES-256-GCM init") }
        var length: Int32 = 0
        if !associatedData.isEmpty {
            guard EVP_EncryptUpdate(context, nil, &length, associatedData, Int32(associatedData.count)) == 1 else {
                throw SealingError.libcrypto("AES-256-GCM associated data")
            }
        }
        var ciphertext = [UInt8](repeating: 0, count: plaintext.count + 16)
        var written: Int32 = 0
        if !plaintext.isEmpty {
            guard EVP_EncryptUpdate(context, &ciphertext, &written, plaintext, Int32(plaintext.count)) == 1 else {
                throw SealingError.libcrypto("AES-256-GCM encrypt")
            }
        }
        var final: Int32 = 0
        let finished = ciphertext.withUnsafeMutableBufferPointer { buffer in
            EVP_EncryptFinal_ex(context, buffer.baseAddress! + Int(written), &final)
        }
        guard finished == 1 else { throw SealingError.libcrypto("AES-256-GCM final") }
        var tag = [UInt8](repeating: 0, count: tagLength)
        guard EVP_CIPHER_CTX_ctrl(context, haven_evp_ctrl_gcm_get_tag, Int32(tagLength), &tag) == 1 else {
            throw SealingError.libcrypto("AES-256-GCM tag")
        }
        return (Array(ciphertext.prefix(Int(written + final))), tag)
    }

    public static func open(_ ciphertext: [UInt8], tag: [UInt8], key: [UInt8], nonce: [UInt8], associatedData: [UInt8] = []) throws -> [UInt8] {
        try ciphertext.withUnsafeBytes { ciphertext in
            try tag.withUnsafeBytes { tag in
                try nonce.withUnsafeBytes { nonce in
                    try associatedData.withUnsafeBytes { associatedData in
                        try open(ciphertext, tag: tag, key: key, nonce: nonce, associatedData: associatedData)
                    }
                }
            }
        }
    }

    /// `open` on the parts where they lie (a sealed field's nonce, ciphertext and tag are
    /// slices of one value), writing the plaintext straight into the array it returns.
    static func open(
        _ ciphertext: UnsafeRawBufferPointer, tag: UnsafeRawBufferPointer, key: [UInt8], nonce: UnsafeRawBufferPointer,
        associatedData: UnsafeRawBufferPointer
    ) throws -> [UInt8] {
        guard key.count == keyLength, nonce.count == nonceLength, tag.count == tagLength else {
            throw SealingError(.malformed, "AES-256-GCM needs a 32-byte key, a 12-byte nonce and a 16-byte tag")
        }
        let opened = try openingContexts.with(key: key) { context, reusable in
            try open(context, ciphertext, tag: tag, nonce: nonce, associatedData: associatedData, reusable: &reusable)
        }
        guard let opened else { throw SealingError.libcrypto("AES-256-GCM init") }
        return opened
    }

    /// Decryption contexts keyed once and reused with each field's nonce (see `KeyedContexts`).
    private static let openingContexts = KeyedContexts(
        make: { key in
            guard let context = EVP_CIPHER_CTX_new() else { return nil }
            guard EVP_DecryptInit_ex(context, cipher, nil, nil, nil) == 1,
                  EVP_CIPHER_CTX_ctrl(context, haven_evp_ctrl_gcm_set_ivlen, Int32(nonceLength), nil) == 1,
                  EVP_DecryptInit_ex(context, nil, nil, key, nil) == 1
            else {
                EVP_CIPHER_CTX_free(context)
                return nil
            }
            return context
        },
        release: { EVP_CIPHER_CTX_free($0) })

    private static func open(
        _ context: OpaquePointer, _ ciphertext: UnsafeRawBufferPointer, tag: UnsafeRawBufferPointer, nonce: UnsafeRawBufferPointer,
        associatedData: UnsafeRawBufferPointer, reusable: inout Bool
    ) throws -> [UInt8] {
        guard EVP_DecryptInit_ex(context, nil, nil, nil, nonce.bindMemory(to: UInt8.self).baseAddress) == 1 else {
            throw SealingError.libcrypto("AES-256-GCM init")
        }
        var length: Int32 = 0
        if !associatedData.isEmpty {
            let bytes = associatedData.bindMemory(to: UInt8.self)
            guard EVP_DecryptUpdate(context, nil, &length, bytes.baseAddress, Int32(bytes.count)) == 1 else {
                throw SealingError.libcrypto("AES-256-GCM associated data")
            }
        }
        // GCM writes as many bytes as it reads, and nothing more at the end.
        return try [UInt8](unsafeUninitializedCapacity: ciphertext.count + 16) { plaintext, count in
            var written: Int32 = 0
            if !ciphertext.isEmpty {
                let input = ciphertext.bindMemory(to: UInt8.self)
                guard EVP_DecryptUpdate(context, plaintext.baseAddress, &written, input.baseAddress, Int32(input.count)) == 1 else {
                    throw SealingError.libcrypto("AES-256-GCM decrypt")
                }
            }
            // Decryption only reads the expected tag.
            guard EVP_CIPHER_CTX_ctrl(context, haven_evp_ctrl_gcm_set_tag, Int32(tagLength), UnsafeMutableRawPointer(mutating: tag.baseAddress)) == 1 else {
                throw SealingError.libcrypto("AES-256-GCM tag")
            }
            var final: Int32 = 0
            let verified = EVP_DecryptFinal_ex(context, plaintext.baseAddress.map { $0 + Int(written) }, &final)
            // Only a failure can leave something queued; clearing costs a thread-local look-up.
            if verified != 1 { ERR_clear_error() }
            // A wrong tag is the data's failure, not the context's.
            reusable = true
            guard verified == 1 else { throw SealingError(.authenticationFailed, "ciphertext failed authentication") }
            count = Int(written + final)
        }
    }
}
