import Foundation
import Hummingbird
import NIOCore

/// `GET /openapi.yaml`: the API contract, read once at start.
struct OpenAPIController: Sendable {
    let document: ByteBuffer?

    init(path: String?) {
        document = path.flatMap { FileManager.default.contents(atPath: $0) }.map { ByteBuffer(bytes: $0) }
    }

    func register(_ routes: Routes) {
        let document = self.document
        routes.get("/openapi.yaml", access: .open) { _, _ in
            guard let document else { throw APIError.notFound("the API document is not installed") }
            return Response(status: .ok, headers: [.contentType: "application/yaml"], body: .init(byteBuffer: document))
        }
    }
}
