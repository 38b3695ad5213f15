import Foundation
import NIOConcurrencyHelpers
import HavenStore
import Prometheus

/// Prometheus metrics for `/metrics`: requests by route and status, a latency histogram by
/// route, and the database pool's connections in use and waiters. One registry per
/// application, so tests do not share counters.
final class HTTPMetrics: Sendable {
    let registry = PrometheusCollectorRegistry()
    private let inUse: Gauge
    private let waiters: Gauge
    private let poolSize: Gauge
    private let buckets: [Duration] = [
        .milliseconds(1), .milliseconds(2), .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50),
        .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1), .seconds(2.5), .seconds(5), .seconds(10),
    ]

    init() {
        inUse = registry.makeGauge(descriptor: Self.name("db_pool", "connections_in_use", help: "Database connections checked out"))
        waiters = registry.makeGauge(descriptor: Self.name("db_pool", "waiters", help: "Requests waiting for a database connection"))
        poolSize = registry.makeGauge(descriptor: Self.name("db_pool", "size", help: "Database connections the pool may hold"))
    }

    /// `haven_<subsystem>_<metric>[_<unit>]`: an empty unit adds nothing to the name.
    private static func name(_ subsystem: String, _ metric: String, unit: String = "", help: String) -> MetricNameDescriptor {
        MetricNameDescriptor(namespace: "haven", subsystem: subsystem, metricName: metric, unitName: unit, helpText: help)
    }

    /// A route's counter and histogram, looked up in the registry once: its lookup builds and
    /// hashes the label set on every call.
    private struct Series: Hashable {
        var method: String
        var route: String
        var status: Int
    }
    private let series = NIOLockedValueBox<[Series: (requests: Counter, duration: DurationHistogram)]>([:])

    func record(method: String, route: String, status: Int, duration: Duration) {
        let key = Series(method: method, route: route, status: status)
        let metrics = series.withLockedValue { series in
            if let known = series[key] { return known }
            let made = (
                requests: registry.makeCounter(
                    descriptor: Self.name("http", "requests", unit: "total", help: "HTTP requests answered"),
                    labels: [("method", method), ("route", route), ("status", String(status))]),
                duration: registry.makeDurationHistogram(
                    descriptor: Self.name("http", "request_duration", unit: "seconds", help: "Time to answer an HTTP request"),
                    labels: [("method", method), ("route", route)], buckets: buckets))
            // Methods are the client's to spell: the cache stops growing where the routes end.
            if series.count < 1024 { series[key] = made }
            return made
        }
        metrics.requests.increment()
        metrics.duration.recordNanoseconds(Int64(duration.components.seconds) * 1_000_000_000 + duration.components.attoseconds / 1_000_000_000)
    }

    func render(pool: PoolUse?) -> [UInt8] {
        if let pool {
            inUse.set(Double(pool.inUse))
            waiters.set(Double(pool.waiters))
            poolSize.set(Double(pool.size))
        }
        return registry.emitToBuffer()
    }
}
