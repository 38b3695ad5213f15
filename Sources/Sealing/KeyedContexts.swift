import CLibCrypto
import Synchronization

/// libcrypto contexts set up once per key and reused, one use at a time: setting one up (a
/// provider look-up, a key schedule, HMAC's padded key) cost more than the work done with it,
/// and every audited request MACs an event and opens sealed fields. Keys are few (the ring's
/// and their derivations); idle contexts wait here per key.
final class KeyedContexts: Sendable {
    /// Beyond this many keys (not expected) contexts are made for one use and freed.
    private static let keyLimit = 64
    private static let idlePerKey = 32

    final class Context: @unchecked Sendable {
        let pointer: OpaquePointer
        private let release: @Sendable (OpaquePointer) -> Void
        init(_ pointer: OpaquePointer, release: @escaping @Sendable (OpaquePointer) -> Void) {
            self.pointer = pointer
            self.release = release
        }
        deinit { release(pointer) }
    }

    private let make: @Sendable ([UInt8]) -> OpaquePointer?
    private let release: @Sendable (OpaquePointer) -> Void
    /// Per key, its idle contexts. A list, not a dictionary: with a handful of keys a scan
    /// (which usually meets the very array it is looking for) costs less than hashing a key.
    private let idle = Mutex<[(key: [UInt8], contexts: [Context])]>([])

    /// `make` returns a context keyed with its argument, or nil; `release` frees one.
    init(make: @escaping @Sendable ([UInt8]) -> OpaquePointer?, release: @escaping @Sendable (OpaquePointer) -> Void) {
        self.make = make
        self.release = release
    }

    /// Runs `body` on a context keyed with `key`, nil when none could be made. The context goes
    /// back for the next caller only if `body` says it is still sound (libcrypto did not fail).
    func with<T>(key: [UInt8], _ body: (OpaquePointer, inout Bool) throws -> T) rethrows -> T? {
        let context: Context
        if let ready = idle.withLock({ idle -> Context? in
            guard let index = idle.firstIndex(where: { $0.key == key }) else { return nil }
            return idle[index].contexts.popLast()
        }) {
            context = ready
        } else {
            guard let made = make(key) else { return nil }
            context = Context(made, release: release)
        }
        var reusable = false
        defer {
            if reusable {
                idle.withLock { idle in
                    if let index = idle.firstIndex(where: { $0.key == key }) {
                        if idle[index].contexts.count < KeyedContexts.idlePerKey { idle[index].contexts.append(context) }
                    } else if idle.count < KeyedContexts.keyLimit {
                        idle.append((key, [context]))
                    }
                }
            }
        }
        return try body(context.pointer, &reusable)
    }
}
