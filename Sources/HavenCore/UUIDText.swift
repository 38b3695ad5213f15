import Foundation

extension UUID {
    /// The lower-case spelling audit events and cursors use, e.g. `0a1b2c3d-…`.
    public var lowercasedString: String { text(upper: false) }

    /// `uuidString`, written without the formatted printing Foundation uses for it.
    public var upperString: String { text(upper: true) }

    /// The 36 characters of a UUID given as its 16 raw bytes (as PostgreSQL sends one), one at a
    /// time to `put`.
    @inlinable
    public static func spell<Bytes: Collection<UInt8>>(_ raw: Bytes, upper: Bool, _ put: (UInt8) -> Void) {
        let digits = upper ? UUID.upperDigits : UUID.lowerDigits
        for (index, byte) in raw.enumerated() {
            if index == 4 || index == 6 || index == 8 || index == 10 { put(UInt8(ascii: "-")) }
            put(digits[Int(byte >> 4)])
            put(digits[Int(byte & 0x0F)])
        }
    }

    @usableFromInline static let lowerDigits = Array("0123456789abcdef".utf8)
    @usableFromInline static let upperDigits = Array("0123456789ABCDEF".utf8)

    private func text(upper: Bool) -> String {
        withUnsafeBytes(of: uuid) { raw in
            String(unsafeUninitializedCapacity: 36) { buffer in
                var position = 0
                UUID.spell(raw, upper: upper) { byte in
                    buffer[position] = byte
                    position += 1
                }
                return position
            }
        }
    }
}
