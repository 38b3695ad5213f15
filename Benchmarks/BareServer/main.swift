import Hummingbird

// The HTTP stack's limit on this machine: one route, no middleware, no database. Haven's own
// endpoints are measured as ratios to this, in the same run.
let port = Int(CommandLine.arguments.dropFirst().first ?? "") ?? 8090
let router = Router()
router.get("/healthz") { _, _ in "{\"status\":\"ok\"}" }
let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: port)))
try await app.runService()
