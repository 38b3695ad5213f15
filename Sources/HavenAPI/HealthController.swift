import NIOCore
import Foundation
import HavenStore
import Hummingbird
import Logging
import Postgres

/// `/healthz`: the process answers. `/readyz`: the database answers and its schema is the one
/// this build expects; else 503, so a load balancer sends traffic elsewhere.
struct HealthController: Sendable {
    let store: Store
    let migrator: PGMigrator

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
        let migrator = self.migrator
        do {
            let current = try await store.pool.withConnection { connection in try migrator.isCurrent(connection) }
            if current { return JSONResponse(Health(status: "ready", database: "up", schema: "current")) }
            return JSONResponse(Health(status: "not-ready", database: "up", schema: "pending migrations"), status: .serviceUnavailable)
        } catch let error as PGError where error.kind == .poolTimeout {
            return JSONResponse(Health(status: "not-ready", database: "busy: no connection free"), status: .serviceUnavailable)
        } catch let error as PGError where error.kind == .connectionLost {
            return JSONResponse(Health(status: "not-ready", database: "unreachable"), status: .serviceUnavailable)
        } catch {
            store.logger.warning("readiness check failed", metadata: ["error": "\(String(describing: (error as? PGError)?.kind ?? .other))"])
            return JSONResponse(Health(status: "not-ready", database: "error"), status: .serviceUnavailable)
        }
    }
}

struct MetricsController: Sendable {
    let metrics: HTTPMetrics
    let store: Store

    func register(_ routes: Routes) {
        routes.get("/metrics", access: .open) { _, _ in
            let bytes = metrics.render(pool: store.pool.statistics)
            return Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4"], body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
        }
    }
}
