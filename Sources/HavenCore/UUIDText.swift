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

    /// Parses the 36-character form (8-4-4-4-12 hex digits, either case), as `UUID(uuidString:)`
    /// does, without the formatted scanning Foundation uses for it.
    public init?<Text: StringProtocol>(text: Text) {
        // One call through the generic view to reach the bytes, not one per character.
        let parsed = text.utf8.withContiguousStorageIfAvailable { UUID.parse($0) }
            ?? Array(text.utf8).withUnsafeBufferPointer { UUID.parse($0) }
        guard let parsed else { return nil }
        self.init(uuid: parsed)
    }

    private static func parse(_ text: UnsafeBufferPointer<UInt8>) -> uuid_t? {
        guard text.count == 36 else { return nil }
        var bytes: uuid_t = (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        let parsed = withUnsafeMutableBytes(of: &bytes) { output -> Bool in
            var position = 0
            for index in 0..<16 {
                if index == 4 || index == 6 || index == 8 || index == 10 {
                    guard text[position] == UInt8(ascii: "-") else { return false }
                    position += 1
                }
                guard let high = UUID.nibble(text[position]), let low = UUID.nibble(text[position + 1]) else { return false }
                output[index] = high << 4 | low
                position += 2
            }
            return true
        }
        return parsed ? bytes : nil
    }

    private static func nibble(_ character: UInt8) -> UInt8? {
        switch character {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return character - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return character - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return character - UInt8(ascii: "A") + 10
        default: return nil
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
