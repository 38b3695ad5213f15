import Delivery
import Foundation
import Testing

/// The libcurl layer over real HTTP on loopback: what it sends, what it refuses, and the limits
/// each call runs under.
@Suite struct CourierTests {
    @Test func postsTheBodyAndHeadersAndReadsTheAnswer() async throws {
        let receiver = try LoopbackReceiver { _, _ in .init(status: 202, body: Array("thanks".utf8)) }
        defer { receiver.stop() }
        let courier = Courier(threads: 2)
        let answer = try await courier.post(OutboundPost(
            url: receiver.url, headers: [("content-type", "application/json"), ("webhook-id", "msg_1")],
            body: Array(#"{"a":1}"#.utf8), allowPlainHTTP: true))
        await courier.shutdown()
        #expect(answer.status == 202 && answer.succeeded && answer.body == Array("thanks".utf8) && !answer.truncated)
        let request = try #require(receiver.requests.first)
        #expect(request.path == "/hook")
        #expect(request.headers["webhook-id"] == "msg_1" && request.headers["content-type"] == "application/json")
        #expect(request.headers["expect"] == nil)
        #expect(request.body == Array(#"{"a":1}"#.utf8))
    }

    @Test func plainHTTPIsRefusedUnlessAllowed() async throws {
        let receiver = try LoopbackReceiver()
        defer { receiver.stop() }
        let courier = Courier(threads: 1)
        await #expect(throws: DeliveryError.self) { try await courier.post(OutboundPost(url: receiver.url, body: [])) }
        await courier.shutdown()
        #expect(receiver.requests.isEmpty)
    }

    @Test func aLongAnswerIsCutAtTheLimit() async throws {
        let receiver = try LoopbackReceiver { _, _ in .init(status: 200, body: [UInt8](repeating: 65, count: 100_000)) }
        defer { receiver.stop() }
        let courier = Courier(threads: 1)
        let answer = try await courier.post(OutboundPost(url: receiver.url, body: [], responseLimit: 1000, allowPlainHTTP: true))
        await courier.shutdown()
        #expect(answer.status == 200 && answer.truncated && answer.body.count <= 1000)
    }

    @Test func aSlowReceiverTimesOut() async throws {
        let receiver = try LoopbackReceiver { _, _ in .init(pauseMilliseconds: 3000) }
        defer { receiver.stop() }
        let courier = Courier(threads: 1)
        let error = await #expect(throws: DeliveryError.self) {
            try await courier.post(OutboundPost(url: receiver.url, body: [], timeoutMilliseconds: 300, allowPlainHTTP: true))
        }
        await courier.shutdown()
        #expect(error?.kind == .timedOut)
    }

    @Test func redirectsAreNotFollowed() async throws {
        let target = try LoopbackReceiver()
        defer { target.stop() }
        let receiver = try LoopbackReceiver { _, _ in .init(status: 307) }
        defer { receiver.stop() }
        let courier = Courier(threads: 1)
        let answer = try await courier.post(OutboundPost(url: receiver.url, body: [], allowPlainHTTP: true))
        await courier.shutdown()
        #expect(answer.status == 307 && !answer.succeeded)
        #expect(target.requests.isEmpty)
    }

    @Test func aPinnedAddressIsTheOneConnectedTo() async throws {
        let receiver = try LoopbackReceiver()
        defer { receiver.stop() }
        let courier = Courier(threads: 1)
        // The name does not resolve anywhere; the pin sends it to the checked address.
        let answer = try await courier.post(OutboundPost(url: "http://receiver.invalid:\(receiver.port)/hook", body: [],
                                                         allowPlainHTTP: true, pinnedAddress: "127.0.0.1"))
        #expect(answer.status == 200)
        #expect(try await courier.resolve("127.0.0.1") == ["127.0.0.1"])
        await courier.shutdown()
        #expect(receiver.requests.first?.headers["host"] == "receiver.invalid:\(receiver.port)")
    }

    @Test func urlPartsAsLibcurlReadsThem() {
        #expect(Courier.parts(of: "https://example.org/x")?.port == 443)
        #expect(Courier.parts(of: "http://[::1]:81/")?.host == "::1")
        #expect(Courier.parts(of: "::nonsense") == nil)
    }
}
