import Foundation
import HavenCore
import Logging
import Postgres

/// The periodic side of S16: ends referrals whose consent expired even when nobody looks at
/// them (reads and moves end them at once anyway), and takes cases whose statistics consent
/// expired out of the reports (S18).
public struct ConsentSweeper: Sendable {
    let store: Store

    public init(store: Store) {
        self.store = store
    }

    @discardableResult
    public func sweep() async throws -> Int {
        try await store.transaction(.system) { transaction in
            let ended = try ReferralStore.endLapsedReferrals(on: transaction.connection)
            try transaction.auditLapsedEnds(try ReferralStore.lapsedEnds(ended, on: transaction.connection))
            _ = try StatisticsConsent.endExpired(on: transaction.connection)
            return ended.count
        }
    }

    public func run(every interval: Duration, logger: Logger) async {
        while !Task.isCancelled {
            do {
                let ended = try await sweep()
                if ended > 0 { logger.info("ended referrals whose consent lapsed", metadata: ["count": "\(ended)"]) }
            } catch is CancellationError {
                return
            } catch {
                logger.warning("consent sweep failed; will retry", metadata: ["error": "\(PGError.loggable(error))"])
            }
            try? await Task.sleep(for: interval)
        }
    }
}
