import Foundation
import HavenCore

/// Where the JSON writers put bytes: an array, or the stream writer's own buffer.
protocol ByteOutput {
    mutating func append(_ byte: UInt8)
    mutating func append(bytes: UnsafeRawBufferPointer)
}

extension ByteOutput {
    mutating func append(_ text: String) {
        var text = text
        text.withUTF8 { append(bytes: UnsafeRawBufferPointer($0)) }
    }

    mutating func append(_ text: StaticString) {
        text.withUTF8Buffer { append(bytes: UnsafeRawBufferPointer($0)) }
    }

    /// A non-negative number in at least `width` digits, zero-padded (dates and times).
    mutating func appendDigits(_ value: Int, width: Int = 1) {
        var digits: (UInt64, UInt64, UInt64) = (0, 0, 0)
        withUnsafeMutableBytes(of: &digits) { scratch in
            var value = value.magnitude
            var start = scratch.count
            repeat {
                start -= 1
                scratch[start] = UInt8(ascii: "0") + UInt8(value % 10)
                value /= 10
            } while value > 0 && start > 0
            while scratch.count - start < width && start > 0 {
                start -= 1
                scratch[start] = UInt8(ascii: "0")
            }
            append(bytes: UnsafeRawBufferPointer(rebasing: scratch[start...]))
        }
    }

    mutating func appendInteger(_ value: some BinaryInteger) {
        guard let small = Int(exactly: value), small != Int.min else { return append(String(value)) }
        if small < 0 { append(UInt8(ascii: "-")) }
        appendDigits(Int(small.magnitude))
    }

    /// `YYYY-MM-DD`, without quotes.
    mutating func append(day: CalendarDate) {
        appendDigits(day.year, width: 4)
        append(UInt8(ascii: "-"))
        appendDigits(day.month, width: 2)
        append(UInt8(ascii: "-"))
        appendDigits(day.day, width: 2)
    }
}

extension Array: ByteOutput where Element == UInt8 {
    mutating func append(bytes: UnsafeRawBufferPointer) { append(contentsOf: bytes) }
}

/// The stream writer's output: a growable run of bytes where an append is a bounds check and a
/// store (an array's append also checks, byte by byte, that it is the buffer's only owner).
/// Owned by one writer, which frees it.
struct JSONBytes: ByteOutput {
    private(set) var base: UnsafeMutablePointer<UInt8>
    private(set) var count = 0
    private var capacity: Int

    init(capacity: Int) {
        self.capacity = max(16, capacity)
        self.base = .allocate(capacity: self.capacity)
    }

    func free() { base.deallocate() }

    @inline(__always)
    mutating func append(_ byte: UInt8) {
        if count == capacity { grow(to: count + 1) }
        base[count] = byte
        count += 1
    }

    @inline(__always)
    mutating func append(bytes: UnsafeRawBufferPointer) {
        guard let source = bytes.baseAddress, !bytes.isEmpty else { return }
        if count + bytes.count > capacity { grow(to: count + bytes.count) }
        (base + count).update(from: source.assumingMemoryBound(to: UInt8.self), count: bytes.count)
        count += bytes.count
    }

    @inline(never)
    private mutating func grow(to needed: Int) {
        let larger = max(capacity * 2, needed)
        let fresh = UnsafeMutablePointer<UInt8>.allocate(capacity: larger)
        fresh.update(from: base, count: count)
        base.deallocate()
        base = fresh
        capacity = larger
    }

    /// What was written; valid until the next append or `free`.
    var contents: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: base, count: count) }
}
