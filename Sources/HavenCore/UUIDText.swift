import Foundation

extension UUID {
    /// The lower-case spelling audit events and cursors use, e.g. `0a1b2c3d-…`.
    public var lowercasedString: String { text(upper: false) }

    /// `uuidString`, written without the formatted printing Foundation uses for it.
    public var upperString: String { text(upper: true) }

    /// The 36 characters of a UUID given as its 16 raw bytes (as PostgreSQL sends one), spelled
    /// into a buffer on the stack for the duration of `body`.
    @inlinable
    public static func withSpelling<Result>(
        _ raw: UnsafeRawBufferPointer, upper: Bool, _ body: (UnsafeRawBufferPointer) throws -> Result
    ) rethrows -> Result {
        precondition(raw.count == 16, "a UUID has 16 bytes")
        var text: (UInt64, UInt64, UInt64, UInt64, UInt32) = (0, 0, 0, 0, 0)
        return try withUnsafeMutableBytes(of: &text) { output in
            let digits: StaticString = upper ? "0123456789ABCDEF" : "0123456789abcdef"
            let table = digits.utf8Start
            var position = 0
            for index in 0..<16 {
                if index == 4 || index == 6 || index == 8 || index == 10 {
                    output[position] = UInt8(ascii: "-")
                    position += 1
                }
                let byte = raw[index]
                output[position] = table[Int(byte >> 4)]
                output[position + 1] = table[Int(byte & 0x0F)]
                position += 2
            }
            return try body(UnsafeRawBufferPointer(output))
        }
    }

    /// This UUID's spelling, as `withSpelling` gives it.
    @inlinable
    public func withSpelling<Result>(upper: Bool, _ body: (UnsafeRawBufferPointer) throws -> Result) rethrows -> Result {
        try withUnsafeBytes(of: uuid) { raw in try UUID.withSpelling(raw, upper: upper, body) }
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

    private func text(upper: Bool) -> String {
        withSpelling(upper: upper) { spelled in
            String(unsafeUninitializedCapacity: 36) { buffer in
                _ = buffer.initialize(from: spelled)
                return 36
            }
        }
    }
}
