import NIOCore
import Foundation
import HavenStore
import Hummingbird
import Logging

/// `/healthz`: the process answers. `/readyz`: the database answers and its schema is the one
/// this build expects; else 503, so a load balancer sends traffic elsewhere.
struct HealthController: Sendable {
    let store: Store
    let schema: DatabaseSchema

    struct Health: Encodable, Sendable {
        var status: String
        var database: String?
        var schema: String?
    }

    func register(_ routes: Routes) {
        routes.get("/healthz", access: .open) { _, _ in
            JSONResponse(Health(status: "ok"))
        }
        routes.get("/readyz", access: .open) { _, _ in
            try await readiness()
        }
    }

    func readiness() async throws -> JSONResponse<Health> {
        switch await store.readiness(of: schema) {
        case .ready: return JSONResponse(Health(status: "ready", database: "up", schema: "current"))
        case .pendingMigrations: return JSONResponse(Health(status: "not-ready", database: "up", schema: "pending migrations"), status: .serviceUnavailable)
        case .busy: return JSONResponse(Health(status: "not-ready", database: "busy: no connection free"), status: .serviceUnavailable)
        case .unreachable: return JSONResponse(Health(status: "not-ready", database: "unreachable"), status: .serviceUnavailable)
        case .failed: return JSONResponse(Health(status: "not-ready", database: "error"), status: .serviceUnavailable)
        }
    }
}

struct MetricsController: Sendable {
    let metrics: HTTPMetrics
    let store: Store

    func register(_ routes: Routes) {
        routes.get("/metrics", access: .open) { _, _ in
            let bytes = metrics.render(pool: store.poolUse)
            return Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4"], body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
        }
    }
}
