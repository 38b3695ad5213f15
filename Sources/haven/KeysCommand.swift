import ArgumentParser
import Foundation
import HavenStore
import Sealing

struct KeysCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keys",
        abstract: "Field-encryption keys: add one, re-encrypt under the newest.",
        discussion: """
            To rotate: (1) `haven keys add` appends a new key to the key file; copy the file to every \
            instance and restart them (the newest key seals, all keys open); (2) `haven keys rotate` \
            re-encrypts everything under the new key, in small batches, while Haven serves. Keep old keys \
            until rotate reports nothing left to re-encrypt, and back the key file up apart from the database.
            """,
        subcommands: [KeysAddCommand.self, KeysRotateCommand.self]
    )
}

struct KeysAddCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "add", abstract: "Append a new random key to the key file and print its id.")

    @OptionGroup var database: DatabaseOptions

    func run() async throws {
        let path = database.resolvedKeysFile
        let text = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
        let existing = text.isEmpty ? nil : try KeyRing(text: text)
        let numbers = existing?.keys.compactMap { Int($0.id.dropFirst()) } ?? []
        let id = "k\((numbers.max() ?? 0) + 1)"
        let line = try KeyRing.generateKeyLine(id: id)
        let updated = (text.isEmpty || text.hasSuffix("\n") ? text : text + "\n") + line + "\n"
        guard FileManager.default.createFile(atPath: path, contents: Data(updated.utf8), attributes: [.posixPermissions: 0o600]) else {
            throw CLIError("could not write \(path)")
        }
        print(id)
    }
}

struct KeysRotateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rotate", abstract: "Re-encrypt every sealed value (and blind index) under the newest key.")

    @OptionGroup var database: DatabaseOptions

    func run() async throws {
        let count = try await OperatorSession.with(database) { session in
            try await KeyRotation.rotate(store: session.store, logger: session.logger)
        }
        print("re-encrypted \(count) values under the newest key")
    }
}
