import Foundation

extension UUID {
    /// The lower-case spelling audit events and cursors use, e.g. `0a1b2c3d-…`.
    public var lowercasedString: String { text(UUID.lowerDigits) }

    /// `uuidString`, written without the formatted printing Foundation uses for it.
    public var upperString: String { text(UUID.upperDigits) }

    /// `uuidString`'s bytes appended to `output` (JSON writers).
    public func appendUpper(to output: inout [UInt8]) {
        withUnsafeBytes(of: uuid) { raw in
            for (index, byte) in raw.enumerated() {
                if index == 4 || index == 6 || index == 8 || index == 10 { output.append(UInt8(ascii: "-")) }
                output.append(UUID.upperDigits[Int(byte >> 4)])
                output.append(UUID.upperDigits[Int(byte & 0x0F)])
            }
        }
    }

    private static let lowerDigits = Array("0123456789abcdef".utf8)
    private static let upperDigits = Array("0123456789ABCDEF".utf8)

    private func text(_ digits: [UInt8]) -> String {
        withUnsafeBytes(of: uuid) { raw in
            String(unsafeUninitializedCapacity: 36) { buffer in
                var position = 0
                for (index, byte) in raw.enumerated() {
                    if index == 4 || index == 6 || index == 8 || index == 10 {
                        buffer[position] = UInt8(ascii: "-")
                        position += 1
                    }
                    buffer[position] = digits[Int(byte >> 4)]
                    buffer[position + 1] = digits[Int(byte & 0x0F)]
                    position += 2
                }
                return position
            }
        }
    }
}
