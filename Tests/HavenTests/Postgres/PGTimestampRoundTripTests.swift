import Foundation
import Postgres
import Testing

/// `Date` ↔ `timestamptz` (and `timestamp`, `date`) over PostgreSQL's whole range.
@Suite struct PGTimestampRoundTripTests {
    /// Sends a date, reads it back, and asks the server what instant it understood (as exact
    /// epoch seconds, `extract` returns numeric).
    static func roundTrip(_ connection: PGConnection, _ date: Date) throws -> (back: Date, serverEpoch: Decimal) {
        let row = try connection.query("SELECT $1::timestamptz, extract(epoch FROM $1::timestamptz)", [date])[0]
        let epochText = try row.decode(String.self, at: 1)
        let epoch = try #require(Decimal(string: epochText))
        return (try row.decode(Date.self, at: 0), epoch)
    }

    static func seconds(_ decimal: Decimal) -> Double { NSDecimalNumber(decimal: decimal).doubleValue }

    @Test func recentDatesKeepTheirMicroseconds() async throws {
        try await withTestDatabase { database in
            let connection = try database.connect()
            let dates = [
                Date(timeIntervalSince1970: 0),
                Date(timeIntervalSince1970: 1_790_000_000.123456),
                Date(timeIntervalSince1970: 1_790_000_000.000001),
                Date(timeIntervalSince1970: 946_684_800),  // PostgreSQL's epoch
                Date(timeIntervalSince1970: 946_684_799.999999),
                Date(timeIntervalSince1970: -0.5),  // before 1970 with a fraction
                Date(timeIntervalSince1970: -1_000_000_000.25),
                Date(timeIntervalSince1970: 951_782_400),  // 2000-02-29
                Date(),
            ]
            for date in dates {
                let (back, epoch) = try Self.roundTrip(connection, date)
                #expect(abs(back.timeIntervalSince1970 - date.timeIntervalSince1970) < 0.000_001_5, "\(date.timeIntervalSince1970)")
                #expect(abs(Self.seconds(epoch) - date.timeIntervalSince1970) < 0.000_001_5, "\(date.timeIntervalSince1970)")
            }
        }
    }

    @Test func theServerReadsTheInstantWhateverTheSessionTimeZone() async throws {
        try await withTestDatabase { database in
            let connection = try database.connect()
            let date = Date(timeIntervalSince1970: 1_790_000_000.5)
            for zone in ["UTC", "Europe/Chisinau", "Pacific/Chatham", "America/St_Johns", "Asia/Kathmandu"] {
                try connection.execute("SELECT set_config('TimeZone', $1, false)", [zone])
                let (back, epoch) = try Self.roundTrip(connection, date)
                #expect(back == date, "\(zone)")
                #expect(epoch == Decimal(string: "1790000000.5"), "\(zone)")
            }
            try connection.execute("SELECT set_config('TimeZone', 'UTC', false)")
            let text = try connection.query("SELECT $1::timestamptz::text", [Date(timeIntervalSince1970: 1_790_000_000.000123)])[0].decode(String.self, at: 0)
            #expect(text == "2026-09-21 14:13:20.000123+00")
        }
    }

    @Test func yearOne() async throws {
        try await withTestDatabase { database in
            let connection = try database.connect()
            // 0001-01-01 00:00:00 UTC (proleptic Gregorian).
            let date = Date(timeIntervalSince1970: -62_135_596_800)
            let (back, epoch) = try Self.roundTrip(connection, date)
            #expect(epoch == Decimal(-62_135_596_800))
            #expect(back == date)
            try connection.execute("SELECT set_config('TimeZone', 'UTC', false)")
            #expect(try connection.query("SELECT $1::timestamptz::text", [date])[0].decode(String.self, at: 0) == "0001-01-01 00:00:00+00")
            // And a second earlier is 1 BC.
            let bc = try connection.query("SELECT $1::timestamptz::text", [date.addingTimeInterval(-1)])[0].decode(String.self, at: 0)
            #expect(bc == "0001-12-31 23:59:59+00 BC")
        }
    }

    @Test func theEarliestYearPostgreSQLHolds() async throws {
        try await withTestDatabase { database in
            let connection = try database.connect()
            try connection.execute("SELECT set_config('TimeZone', 'UTC', false)")
            // 4713-01-01 BC, read from the server...
            let row = try connection.query("SELECT '4713-01-01 00:00:00+00 BC'::timestamptz, extract(epoch FROM '4713-01-01 00:00:00+00 BC'::timestamptz)")[0]
            let fromServer = try row.decode(Date.self, at: 0)
            let epoch = try #require(Decimal(string: try row.decode(String.self, at: 1)))
            #expect(epoch == Decimal(-210_863_520_000))
            #expect(fromServer.timeIntervalSince1970 == -210_863_520_000)
            // ... and sent back.
            let (back, serverEpoch) = try Self.roundTrip(connection, fromServer)
            #expect(serverEpoch == epoch)
            #expect(back == fromServer)
            #expect(try connection.query("SELECT $1::timestamptz::text", [fromServer])[0].decode(String.self, at: 0) == "4713-01-01 00:00:00+00 BC")
            // With a fraction of a second (microsecond precision is lost in a Double this far out).
            let withFraction = fromServer.addingTimeInterval(12.25)
            let (backFraction, _) = try Self.roundTrip(connection, withFraction)
            #expect(abs(backFraction.timeIntervalSince1970 - withFraction.timeIntervalSince1970) < 0.001)
        }
    }

    @Test func farFutureDecodes() async throws {
        try await withTestDatabase { database in
            let connection = try database.connect()
            // The last second PostgreSQL holds: 294276-12-31 23:59:59 UTC.
            let row = try connection.query("SELECT '294276-12-31 23:59:59+00'::timestamptz, extract(epoch FROM '294276-12-31 23:59:59+00'::timestamptz)")[0]
            let date = try row.decode(Date.self, at: 0)
            let epoch = try #require(Decimal(string: try row.decode(String.self, at: 1)))
            #expect(epoch == Decimal(string: "9224318015999"))
            #expect(abs(date.timeIntervalSince1970 - 9_224_318_015_999) < 1)
            // Year 200000 goes both ways.
            let year200k = try connection.query("SELECT '200000-06-15 12:00:00+00'::timestamptz")[0].decode(Date.self, at: 0)
            let (back, serverEpoch) = try Self.roundTrip(connection, year200k)
            #expect(abs(back.timeIntervalSince1970 - year200k.timeIntervalSince1970) < 1)
            #expect(abs(Self.seconds(serverEpoch) - year200k.timeIntervalSince1970) < 1)
        }
    }

    /// Dates travel exactly up to the end of PostgreSQL's range (294276 AD), not clamped to what
    /// microseconds since 1970 would hold in an Int64.
    @Test func farFutureEncodes() async throws {
        try await withTestDatabase { database in
            let connection = try database.connect()
            let date = try connection.query("SELECT '294276-06-01 00:00:00+00'::timestamptz")[0].decode(Date.self, at: 0)
            let (back, serverEpoch) = try Self.roundTrip(connection, date)
            #expect(abs(back.timeIntervalSince1970 - date.timeIntervalSince1970) < 1)
            #expect(abs(Self.seconds(serverEpoch) - date.timeIntervalSince1970) < 1)
        }
    }

    @Test func infinitiesAndDatesOutsideTheRange() async throws {
        try await withTestDatabase { database in
            let connection = try database.connect()
            let row = try connection.query("SELECT 'infinity'::timestamptz, '-infinity'::timestamptz, 'infinity'::date, '-infinity'::date")[0]
            #expect(try row.decode(Date.self, at: 0) == .distantFuture)
            #expect(try row.decode(Date.self, at: 1) == .distantPast)
            #expect(try row.decode(Date.self, at: 2) == .distantFuture)
            #expect(try row.decode(Date.self, at: 3) == .distantPast)
            // Foundation's distant dates are ordinary dates (years 1 and 4001) and round-trip as such.
            let (back, _) = try Self.roundTrip(connection, .distantFuture)
            #expect(abs(back.timeIntervalSince(.distantFuture)) < 0.001)
            // A date before 4713 BC is refused by the server, not wrapped.
            let error = PGTestSupport.pgError {
                _ = try connection.query("SELECT $1::timestamptz", [Date(timeIntervalSince1970: -300_000_000_000)])
            }
            #expect(error?.kind != .typeMismatch)
            #expect(connection.isOK)
            // A non-finite date is refused before it is sent.
            let infinite = PGTestSupport.pgError {
                _ = try connection.query("SELECT $1::timestamptz", [Date(timeIntervalSince1970: .infinity)])
            }
            #expect(infinite?.kind == .invalidTextRepresentation)
        }
    }

    @Test func timestampWithoutTimeZoneAndDate() async throws {
        try await withTestDatabase { database in
            let connection = try database.connect()
            let row = try connection.query("SELECT '2026-11-22 10:00:00.25'::timestamp, '2026-11-22'::date, '1969-12-31'::date, '0001-01-01'::date")[0]
            #expect(try row.decode(Date.self, at: 0) == Date(timeIntervalSince1970: 1_795_341_600.25))
            #expect(try row.decode(Date.self, at: 1) == Date(timeIntervalSince1970: 1_795_305_600))
            #expect(try row.decode(Date.self, at: 2) == Date(timeIntervalSince1970: -86_400))
            #expect(try row.decode(Date.self, at: 3) == Date(timeIntervalSince1970: -62_135_596_800))
            // A Date parameter into a date column is the UTC calendar day.
            #expect(try connection.query("SELECT $1::date::text", [Date(timeIntervalSince1970: 1_795_305_600 + 86_399)])[0].decode(String.self, at: 0) == "2026-11-22")
        }
    }

    @Test func storedInATableAndComparedOnTheServer() async throws {
        try await withTestDatabase { database in
            let connection = try database.connect()
            try connection.run(script: "CREATE TEMP TABLE events (id int, at timestamptz NOT NULL)")
            let base = Date(timeIntervalSince1970: 1_790_000_000.654321)
            for index in 0..<5 {
                try connection.execute("INSERT INTO events VALUES ($1, $2)", [index, base.addingTimeInterval(Double(index) * 0.000001)])
            }
            let later = try connection.query("SELECT count(*) FROM events WHERE at > $1", [base.addingTimeInterval(0.000002)])
            #expect(try later[0].decode(Int.self, at: 0) == 2)
            let exact = try connection.query("SELECT id FROM events WHERE at = $1", [base.addingTimeInterval(0.000003)])
            #expect(try exact.rows.map { try $0.decode(Int.self, at: 0) } == [3])
        }
    }
}
