import Foundation
import HavenCore
import Sealing

/// Seals identifying fields and free text with the key ring, binding each ciphertext to its
/// record (associated data such as `case:<id>:identity`), so a ciphertext copied to another
/// row does not open.
public enum FieldSealing {
    static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.outputFormatting = [.sortedKeys]
        return encoder
    }()

    static let decoder: JSONDecoder = {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        return decoder
    }()

    /// A record's label, `prefix` + the id in lower case + `suffix`, spelled in one allocation.
    static func label(_ prefix: StaticString, _ id: UUID, _ suffix: StaticString) -> String {
        String(unsafeUninitializedCapacity: prefix.utf8CodeUnitCount + 36 + suffix.utf8CodeUnitCount) { buffer in
            var count = 0
            func put(_ byte: UInt8) {
                buffer[count] = byte
                count += 1
            }
            UnsafeBufferPointer(start: prefix.utf8Start, count: prefix.utf8CodeUnitCount).forEach(put)
            id.withSpelling(upper: false) { $0.forEach(put) }
            UnsafeBufferPointer(start: suffix.utf8Start, count: suffix.utf8CodeUnitCount).forEach(put)
            return count
        }
    }

    public static func seal<T: Encodable>(_ value: T?, _ label: String, keys: KeyRing) throws -> [UInt8]? {
        guard let value else { return nil }
        return try keys.seal([UInt8](try encoder.encode(value)), associatedData: Array(label.utf8))
    }

    public static func open<T: Decodable>(_ sealed: [UInt8]?, as type: T.Type, _ label: String, keys: KeyRing) throws -> T? {
        guard let sealed else { return nil }
        let bytes = try openBytes(sealed, label, keys: keys)
        if T.self == PersonIdentity.self, let identity = SealedIdentityReader.read(bytes) as? T { return identity }
        do {
            return try decoder.decode(T.self, from: Data(bytes))
        } catch {
            throw StoreError.undecryptable("sealed \(label.split(separator: ":").last ?? "value") is not readable")
        }
    }

    public static func sealText(_ text: String?, _ label: String, keys: KeyRing) throws -> [UInt8]? {
        guard let text, !text.isEmpty else { return nil }
        return try keys.seal(Array(text.utf8), associatedData: Array(label.utf8))
    }

    public static func openText(_ sealed: [UInt8]?, _ label: String, keys: KeyRing) throws -> String? {
        guard let sealed else { return nil }
        return String(decoding: try openBytes(sealed, label, keys: keys), as: UTF8.self)
    }

    static func openBytes(_ sealed: [UInt8], _ label: String, keys: KeyRing) throws -> [UInt8] {
        do {
            var label = label
            return try label.withUTF8 { try keys.open(sealed, associatedData: UnsafeRawBufferPointer($0)) }
        } catch let error as SealingError {
            switch error.kind {
            case .unknownKey: throw StoreError.undecryptable("\(error.description); add the key to the key file")
            default: throw StoreError.undecryptable("a sealed field failed authentication: wrong key, or the data was changed or moved")
            }
        }
    }
}
