import Foundation
import HavenCore
import HTTPTypes
import HummingbirdTesting
import NIOCore
import Testing

/// Driving the console as a browser would: form posts, the session cookie, the form token.
enum ConsoleKit {
    struct Browser: Sendable {
        var cookie: String
        var formToken: String
    }

    static func form(_ fields: [String: String]) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return fields.sorted { $0.key < $1.key }.map { key, value in
            "\(key)=\(value.addingPercentEncoding(withAllowedCharacters: allowed) ?? "")"
        }.joined(separator: "&")
    }

    static func post(_ client: any TestClientProtocol, _ uri: String, _ fields: [String: String], cookie: String? = nil,
                     headers extra: [String: String] = [:]) async throws -> TestResponse {
        var headers: HTTPFields = [.contentType: "application/x-www-form-urlencoded"]
        if let cookie { headers[.cookie] = cookie }
        for (name, value) in extra { headers[HTTPField.Name(name)!] = value }
        return try await client.executeRequest(uri: uri, method: .post, headers: headers, body: ByteBuffer(string: form(fields)))
    }

    static func get(_ client: any TestClientProtocol, _ uri: String, cookie: String?, headers extra: [String: String] = [:]) async throws -> TestResponse {
        var headers: HTTPFields = [:]
        if let cookie { headers[.cookie] = cookie }
        for (name, value) in extra { headers[HTTPField.Name(name)!] = value }
        return try await client.executeRequest(uri: uri, method: .get, headers: headers, body: nil)
    }

    /// Logs in through the form and reads the form token from the page it lands on.
    static func login(_ client: any TestClientProtocol, _ user: TestApp.TestUser, sourceLocation: SourceLocation = #_sourceLocation) async throws -> Browser {
        var fields = ["username": user.user.username, "password": user.password]
        if let code = TestApp.totp(user) { fields["totp"] = code }
        let response = try await post(client, "/login", fields)
        #expect(response.status == .seeOther, "login: \(response.status) \(response.text.prefix(300))", sourceLocation: sourceLocation)
        let setCookie = try #require(response.headers[.setCookie], "no cookie", sourceLocation: sourceLocation)
        let cookie = String(setCookie.split(separator: ";")[0])
        let page = try await get(client, "/worklist", cookie: cookie)
        return Browser(cookie: cookie, formToken: try #require(formToken(page.text), "no form token", sourceLocation: sourceLocation))
    }

    static func formToken(_ html: String) -> String? {
        guard let range = html.range(of: #"name="csrf" value="([0-9a-f]+)""#, options: .regularExpression) else { return nil }
        return html[range].split(separator: "\"").dropFirst(3).first.map(String.init)
    }
}
