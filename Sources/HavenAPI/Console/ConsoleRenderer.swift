import Foundation
import HavenCore
import HavenStore
import HTTPTypes
import Hummingbird
import Mustache

/// Renders console pages from the Mustache templates in `Resources/Console/templates`
/// (escaped by default), in the page's language, with the headers every console answer carries.
struct ConsoleRenderer: Sendable {
    /// The templates once per language, with the language's words written in.
    let libraries: [Language: MustacheLibrary]
    let catalogue: Catalogue
    let stylesheet: ByteBuffer

    /// Reads the templates, catalogues and style sheet shipped beside the binary (once, at start).
    static func load() throws -> ConsoleRenderer {
        guard let root = resourceRoot() else {
            throw StoreError.configuration("the console's resources are missing beside the haven binary")
        }
        let catalogue = try Catalogue(directory: root.appendingPathComponent("messages"))
        HTMLEscaping.register()
        var libraries: [Language: MustacheLibrary] = [:]
        let folder = root.appendingPathComponent("templates")
        for name in try FileManager.default.contentsOfDirectory(atPath: folder.path) where name.hasSuffix(".mustache") {
            let text = try String(contentsOf: folder.appendingPathComponent(name), encoding: .utf8)
            for language in Language.allCases {
                try libraries[language, default: MustacheLibrary()].register(HTMLEscaping.pragma + catalogue.inlined(text, language), named: String(name.dropLast(".mustache".count)))
            }
        }
        let css = try Data(contentsOf: root.appendingPathComponent("static/haven.css"))
        return ConsoleRenderer(libraries: libraries, catalogue: catalogue, stylesheet: ByteBuffer(bytes: css))
    }

    /// Where the templates are: `HAVEN_CONSOLE_DIR`, else the resource bundle the build puts
    /// beside the binary (install it with the binary), else the source tree this was built from.
    /// Looked up by hand: SwiftPM's `Bundle.module` stops the process when the bundle is missing.
    static func resourceRoot() -> URL? {
        var candidates: [URL] = []
        if let configured = ProcessInfo.processInfo.environment["HAVEN_CONSOLE_DIR"] { candidates.append(URL(fileURLWithPath: configured)) }
        let executable = URL(fileURLWithPath: CommandLine.arguments.first ?? "").resolvingSymlinksInPath().deletingLastPathComponent()
        candidates.append(executable.appendingPathComponent("haven_HavenAPI.resources/Console"))
        candidates.append(URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Resources/Console"))
        return candidates.first { FileManager.default.fileExists(atPath: $0.appendingPathComponent("templates/layout.mustache").path) }
    }

    /// Every console answer: no framing, no sniffing, no referrer, scripts and styles from
    /// Haven only, and nothing kept in caches (pages show case data or at least the user).
    static let securityHeaders: HTTPFields = [
        .contentSecurityPolicy: "default-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
        .xContentTypeOptions: "nosniff",
        .referrerPolicy: "no-referrer",
        .xFrameOptions: "DENY",
        .cacheControl: "no-store",
    ]

    /// A page in the language its layout declares (`lang`).
    func html(_ template: String, _ model: [String: Any]) -> String? {
        let language = (model["lang"] as? String).flatMap(Language.init(rawValue:)) ?? .en
        return libraries[language]?.render(model, withTemplate: template)
    }

    func render(_ template: String, _ model: [String: Any], status: HTTPResponse.Status = .ok, headers: HTTPFields = [:]) -> Response {
        guard let html = html(template, model) else {
            return Response(status: .internalServerError, headers: ConsoleRenderer.securityHeaders, body: .init(byteBuffer: ByteBuffer(string: "template missing")))
        }
        var fields = ConsoleRenderer.securityHeaders
        fields[.contentType] = "text/html; charset=utf-8"
        fields.append(contentsOf: headers)
        return Response(status: status, headers: fields, body: .init(byteBuffer: ByteBuffer(string: html)))
    }

    static func redirect(_ location: String, headers: HTTPFields = [:]) -> Response {
        var fields = securityHeaders
        fields[.location] = location
        fields.append(contentsOf: headers)
        return Response(status: .seeOther, headers: fields)
    }

    func stylesheetResponse() -> Response {
        Response(status: .ok, headers: [.contentType: "text/css; charset=utf-8", .cacheControl: "max-age=3600", .xContentTypeOptions: "nosniff"],
                 body: .init(byteBuffer: stylesheet))
    }
}

extension HTTPField.Name {
    // Literal, valid field names: the initialiser fails only on invalid characters.
    static let referrerPolicy = HTTPField.Name("Referrer-Policy") ?? .contentType
    static let xFrameOptions = HTTPField.Name("X-Frame-Options") ?? .contentType
    static let secFetchSite = HTTPField.Name("Sec-Fetch-Site") ?? .contentType
    static let xForwardedProto = HTTPField.Name("X-Forwarded-Proto") ?? .contentType
}
