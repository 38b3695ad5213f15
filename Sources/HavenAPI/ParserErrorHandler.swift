import Foundation
import HTTPTypes
import NIOCore
import NIOHTTP1
import NIOHTTPTypes

/// Answers a request the HTTP parser rejects (malformed request line, oversized or broken
/// headers) with a problem+json 400 (431 for oversized headers) and closes the connection,
/// instead of a bare status with no body.
final class ParserErrorHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundOut = HTTPResponsePart

    private var answered = false

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if !answered { context.fireChannelRead(data) }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        guard let parserError = error as? HTTPParserError else {
            context.fireErrorCaught(error)
            return
        }
        guard !answered else { return }
        answered = true
        let tooLarge = parserError == .headerOverflow
        let status: HTTPResponse.Status = tooLarge ? .requestHeaderFieldsTooLarge : .badRequest
        let detail = tooLarge ? "the request headers are too large" : "the request is not valid HTTP/1.1"
        let requestID = RequestIDs.make()
        let body = "{\"detail\":\"\(detail)\",\"request_id\":\"\(requestID)\",\"status\":\(status.code),\"title\":\"\(status.reasonPhrase)\",\"type\":\"/problems/malformed-request\"}"
        let bytes = ByteBuffer(string: body)
        let head = HTTPResponse(status: status, headerFields: [
            .contentType: "application/problem+json", .contentLength: String(bytes.readableBytes), .connection: "close",
            .requestID: requestID, .cacheControl: "no-store", .contentTypeOptions: "nosniff",
        ])
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        context.write(wrapOutboundOut(.body(bytes)), promise: nil)
        // Closed once the answer is out; errorCaught runs on the channel's event loop, where the
        // write's future completes, so the context needs no Sendable wrapper.
        context.writeAndFlush(wrapOutboundOut(.end(nil))).assumeIsolated().whenComplete { _ in
            context.close(promise: nil)
        }
    }
}
